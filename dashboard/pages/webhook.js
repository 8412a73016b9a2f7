import { ApiError } from '../api.js'
import { h, replace } from '../dom.js'
import { eventTypeEditor } from '../editors/event-type.js'
import { filtersEditor } from '../editors/filters.js'
import { retriesEditor } from '../editors/retries.js'
import { targetEditor } from '../editors/target.js'
import * as format from '../format.js'
import { errorMessage, notice, showFieldErrors, step } from '../widgets.js'
import { newKeyNotice, signingPanel } from './webhook-signing.js'

/** The webhook just created, with its secret in clear: shown once, on the page that follows. */
let created = null

/**
 * Creating a webhook, as durian's listener page did, in steps: the event type and its fields, the
 * conditions, the retries, the target; then a test ping. Or changing one. Whatever the API refuses
 * is shown beside the field it names.
 */
export async function webhookPage(context) {
  const { api } = context
  const id = context.params[0] === 'new' ? null : Number(context.params[0])
  if (!id && context.readOnly) {
    return h(
      'div',
      {},
      h('h1', {}, 'New webhook'),
      notice('info', 'This session is read-only: it shows webhooks and deliveries, and changes nothing.'),
      h('p', {}, h('a', { href: '#/webhooks' }, 'Back to the webhooks')),
    )
  }
  const [eventTypes, countdowns, webhook] = await Promise.all([
    api.get('event_types/'),
    api.get('countdowns/'),
    id ? api.get(`hooks/${id}/`) : Promise.resolve(null),
  ])
  const summary = h('div', { class: 'messages', tabindex: '-1' })
  const initial = webhook?.event_type ?? context.query.get('event_type') ?? eventTypes[0]?.type ?? ''
  const filters = filtersEditor({
    filters: webhook?.filters,
    fields: webhook?.fields,
    eventType: eventTypes.find((type) => type.type === initial),
  })
  const eventType = eventTypeEditor({
    eventTypes,
    initial,
    more: webhook?.event_types?.slice(1) ?? [],
    onChange: (type) => filters.setEventType(type),
  })
  const retries = retriesEditor({
    api,
    countdowns,
    config: webhook?.retry_countdown_config ?? countdowns.default,
  })
  const target = targetEditor({ webhook })
  const targets = () => [
    ...eventType.targets,
    ...filters.targets(),
    ...retries.targets(),
    ...target.targets(),
  ]
  const save = h('button', { type: 'submit' }, id ? 'Save changes' : 'Create webhook')

  async function submit(event) {
    event.preventDefault()
    replace(summary)
    showFieldErrors(targets(), {})
    const chosen = filters.read()
    if (chosen.problems.length > 0) {
      for (const { row, message } of chosen.problems) row.show([message])
      replace(summary, notice('error', 'Some conditions need fixing, as shown beside them.'))
      chosen.problems[0].row.focus()
      return
    }
    const body = {
      ...eventType.value(),
      ...target.read(),
      retry_countdown_config: retries.read(),
      filters: chosen.filters,
      fields: chosen.fields,
      // A callback is chosen in code, not here: a replace keeps it.
      ...(webhook ? { callback: webhook.callback } : {}),
    }
    save.disabled = true
    try {
      const owner = context.me.admin && context.owner ? `?owner=${encodeURIComponent(context.owner)}` : ''
      const saved = id ? await api.put(`hooks/${id}/`, body) : await api.post(`hooks/${owner}`, body)
      if (!id) created = saved
      const next = `#/webhooks/${saved.id}?${id ? 'saved' : 'created'}=1`
      if (window.location.hash === next) await context.refresh()
      else window.location.hash = next
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 400)) {
        replace(summary, notice('error', errorMessage(error)))
        summary.focus()
        return
      }
      const { unclaimed, first } = showFieldErrors(targets(), error.errors)
      const count = Object.keys(error.errors).length
      replace(
        summary,
        notice(
          'error',
          h(
            'p',
            {},
            `The webhook was not saved: ${count === 1 ? 'a field needs' : 'some fields need'} fixing, as shown beside ${count === 1 ? 'it' : 'them'}.`,
          ),
          unclaimed.length > 0
            ? h(
                'ul',
                {},
                unclaimed.map((message) => h('li', {}, message)),
              )
            : null,
        ),
      )
      ;(first?.control ?? summary).focus()
    } finally {
      save.disabled = false
    }
  }

  const steps = [
    step(1, 'Event type', eventType.element),
    step(2, 'Conditions', filters.element),
    step(3, 'Retries', retries.element),
    step(4, id ? 'Target and authentication' : 'Target, signing and authentication', target.element),
  ]
  // Read-only, the same steps show the webhook, every control disabled and nothing to save.
  const form = context.readOnly
    ? h(
        'form',
        { class: 'webhook-form', onsubmit: (event) => event.preventDefault() },
        h(
          'fieldset',
          { class: 'read-only', disabled: true },
          h('legend', { class: 'visually-hidden' }, 'Webhook'),
          steps,
        ),
      )
    : h(
        'form',
        { class: 'webhook-form', method: 'post', novalidate: true, onsubmit: submit },
        summary,
        steps,
        h('div', { class: 'form-actions' }, save, h('a', { href: '#/webhooks' }, 'Cancel')),
      )
  return h(
    'div',
    {},
    h('h1', {}, id ? `Webhook #${id}` : 'New webhook'),
    context.query.get('created') === '1' ? createdNotice(id) : null,
    context.query.get('saved') === '1' ? notice('success', 'Changes saved.') : null,
    webhook
      ? h(
          'p',
          { class: 'quiet' },
          `${webhook.owner} · created ${format.dateTime(webhook.created_date)} · `,
          h('a', { href: `#/deliveries?webhook=${id}` }, 'Its deliveries'),
        )
      : null,
    form,
    webhook ? step(5, 'Signing', signingPanel(context, webhook)) : null,
    context.readOnly
      ? null
      : step(
          webhook ? 6 : 5,
          'Test',
          webhook
            ? pingPanel(context, webhook)
            : h('p', { class: 'quiet' }, 'Create the webhook to send it a test ping.'),
        ),
  )
}

/** Says the webhook was created and, this once, shows its new secret (or public key). */
function createdNotice(id) {
  const title = `Webhook #${id} created. Send it a test ping below.`
  const webhook = created?.id === id ? created : null
  created = null
  return webhook ? newKeyNotice(webhook, title) : notice('success', title)
}

/** Sends a signed test ping and shows what the target answered. */
function pingPanel(context, webhook) {
  const result = h('div', { class: 'ping-result', 'aria-live': 'polite' })
  const button = h('button', { type: 'button', onclick: () => ping() }, 'Send a test ping')
  async function ping() {
    button.disabled = true
    replace(result, h('p', { class: 'quiet' }, 'Sending…'))
    try {
      const answer = await context.api.post(`hooks/${webhook.id}/ping/`)
      const outcome =
        answer.response_status !== null ? `HTTP ${answer.response_status}` : (answer.error_kind ?? 'error')
      replace(
        result,
        notice(
          answer.delivered ? 'success' : 'error',
          h(
            'p',
            {},
            `${answer.delivered ? 'Delivered' : 'Not delivered'}: ${outcome} in ${format.ms(answer.duration_ms)}`,
            answer.error ? ` (${answer.error})` : '',
          ),
        ),
        answer.response_content
          ? [
              h('h3', {}, 'Response body'),
              h('pre', { class: 'code', tabindex: '0' }, answer.response_content),
            ]
          : null,
      )
    } catch (error) {
      replace(result, notice('error', errorMessage(error)))
    } finally {
      button.disabled = false
    }
  }
  return [
    h(
      'p',
      { class: 'hint' },
      'A signed whisperer.ping event, sent now to the target URL; nothing is stored.',
    ),
    button,
    result,
  ]
}
