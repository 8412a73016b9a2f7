import { ApiError } from '../api.js'
import { h, replace } from '../dom.js'
import * as format from '../format.js'
import { code, details, errorMessage, notice, statusBadge, table } from '../widgets.js'

function headersTable(caption, headers) {
  const entries = Object.entries(headers ?? {})
  if (entries.length === 0) return h('p', { class: 'quiet' }, `${caption}: none`)
  return table({
    caption,
    headers: ['Header', 'Value'],
    rows: entries.map(([name, value]) => [h('code', {}, name), h('code', { class: 'wrap' }, value)]),
  })
}

function answerOf(attempt) {
  if (attempt.response_http_status !== null) return `HTTP ${attempt.response_http_status}`
  return attempt.error_kind ?? 'no answer'
}

function attemptView(attempt, open) {
  const ok =
    attempt.response_http_status !== null &&
    attempt.response_http_status >= 200 &&
    attempt.response_http_status < 300
  return h(
    'details',
    { class: `attempt ${ok ? 'attempt-ok' : 'attempt-failed'}`, open },
    h(
      'summary',
      {},
      h('strong', {}, `Attempt ${attempt.attempt}`),
      ` · ${answerOf(attempt)} in ${format.ms(attempt.duration_ms)} · ${format.dateTime(attempt.created_date)}`,
    ),
    h(
      'div',
      { class: 'attempt-body' },
      attempt.error ? notice('error', `${attempt.error_kind}: ${attempt.error}`) : null,
      attempt.callback_error ? notice('error', `Callback: ${attempt.callback_error}`) : null,
      h('h3', {}, 'Request headers'),
      headersTable('Request headers', attempt.request_headers),
      h('h3', {}, 'Response'),
      details([
        ['Status', attempt.response_http_status !== null ? String(attempt.response_http_status) : '—'],
        ['Duration', format.ms(attempt.duration_ms)],
      ]),
      h('h4', {}, 'Response headers'),
      headersTable('Response headers', attempt.response_headers),
      attempt.response_content
        ? [
            h('h4', {}, attempt.response_truncated ? 'Response body (cut short)' : 'Response body'),
            code(attempt.response_content, `Response body of attempt ${attempt.attempt}`),
          ]
        : h('p', { class: 'quiet' }, 'No response body.'),
    ),
  )
}

function hintOf(status) {
  return status === 'delivered'
    ? 'Delivered: sends it again as a new attempt, with the same body and webhook-id, so the receiver can tell it already has it.'
    : 'One attempt now, recorded like any other.'
}

/** Why the event did not reach a webhook, in words: one line per reason. */
function reasonText(reason) {
  const value = (v) => (v === null || v === undefined ? 'nothing' : JSON.stringify(v))
  switch (reason.code) {
    case 'not_subscribed':
      return `not subscribed to this event type (it has ${reason.event_types.join(', ')})`
    case 'inactive':
      return `inactive${reason.disabled_reason ? ` (${reason.disabled_reason})` : ''}`
    case 'deleted':
      return `deleted at ${format.dateTime(reason.deleted_at)}`
    case 'created_after':
      return `created after the event, at ${format.dateTime(reason.created_at)}`
    case 'config_filter':
      return `config ${reason.key}: the event wants ${value(reason.expected)}, the webhook has ${value(reason.actual)}`
    case 'filter':
      return `condition ${reason.path.join('.')} ${reason.op} ${value(reason.expected)}: the data has ${value(reason.actual)}`
    default:
      return reason.code
  }
}

/** The caller's webhooks of the event's type: whether each got the event and, if not, why. */
export function routingView(routing) {
  if (routing.webhooks.length === 0)
    return h('p', { class: 'quiet' }, 'None of your webhooks is of this type.')
  return [
    h(
      'p',
      { class: 'hint' },
      'Each webhook is checked as it is now; one changed since the event was published may have been different then.',
    ),
    table({
      caption: 'Routing of this event',
      headers: ['Webhook', 'Got the event', 'Why not'],
      rows: routing.webhooks.map((w) => [
        h(
          'a',
          { href: `#/webhooks/${w.webhook}` },
          `#${w.webhook} `,
          h('span', { class: 'url' }, w.target_url),
        ),
        w.delivered
          ? h('a', { href: `#/deliveries/${w.delivery.uuid}` }, `Yes (${w.delivery.status})`)
          : 'No',
        [
          w.reasons.length > 0 ? w.reasons.map(reasonText).join('; ') : w.delivered ? '' : 'no reason now',
          w.changed_since_publish ? ' (changed since)' : '',
        ].join(''),
      ]),
    }),
  ]
}

/** One delivery: its payload, every attempt, the routing of its event, and sending it again. */
export async function deliveryPage(context) {
  const ref = context.params[0]
  const [delivery, attempts] = await Promise.all([
    context.api.get(`hook_events/${ref}/`),
    context.api.get(`hook_events/${ref}/attempts/`),
  ])
  const routing = await context.api.get(`events/${delivery.event_uuid}/routing/`)
  const outcome = h('div', { class: 'messages', 'aria-live': 'polite' })
  const attemptsList = h('div', { class: 'attempts' })

  function drawAttempts(list) {
    replace(
      attemptsList,
      list.length === 0
        ? h('p', { class: 'quiet' }, 'Not attempted yet.')
        : list.map((attempt, index) => attemptView(attempt, index === list.length - 1)),
    )
  }
  drawAttempts(attempts.results)
  let status = delivery.status

  /** A delivered delivery is resent (its receiver de-duplicates on webhook-id); any other is retried. */
  function redeliveryOf(force) {
    if (status === 'delivered')
      return context.api.post(`hook_events/${delivery.id}/resend/`, {}, { accept: [406] })
    return context.api.post(`hook_events/${delivery.id}/retry/`, force ? { force: true } : {}, {
      accept: [406],
    })
  }

  async function redeliver(force) {
    for (const button of [send, ...outcome.querySelectorAll('button')]) button.disabled = true
    replace(outcome, h('p', { class: 'quiet' }, 'Sending…'))
    try {
      const answer = await redeliveryOf(force)
      const result = answer.body ?? answer
      const [current, fresh] = await Promise.all([
        context.api.get(`hook_events/${delivery.id}/`),
        context.api.get(`hook_events/${delivery.id}/attempts/`),
      ])
      status = current.status
      replace(statusSlot, statusBadge(current.status))
      replace(hint, hintOf(current.status))
      drawAttempts(fresh.results)
      replace(
        outcome,
        notice(
          result.delivered ? 'success' : 'error',
          result.delivered ? 'Delivered: ' : 'Not delivered: ',
          result.response_status !== null ? `HTTP ${result.response_status}` : (result.error ?? 'no answer'),
          ` in ${format.ms(Number(result.response_time) * 1000)}. Attempt ${fresh.results.length} is below.`,
        ),
      )
      send.disabled = false
    } catch (error) {
      send.disabled = false
      if (error instanceof ApiError && error.code === 'event_still_in_progress') {
        const anyway = h('button', { type: 'button', onclick: () => redeliver(true) }, 'Redeliver now anyway')
        replace(
          outcome,
          notice(
            'info',
            h(
              'p',
              {},
              `This delivery is still in its retry schedule${delivery.next_attempt_at ? `: the next attempt is due at ${format.dateTime(delivery.next_attempt_at)}` : ''}. Send it now anyway?`,
            ),
            anyway,
          ),
        )
        anyway.focus()
      } else replace(outcome, notice('error', errorMessage(error)))
    }
  }

  const statusSlot = h('span', {}, statusBadge(delivery.status))
  const send = h('button', { type: 'button', onclick: () => redeliver(false) }, 'Redeliver now')
  const hint = h('p', { class: 'hint' }, hintOf(delivery.status))
  const webhook = delivery.webhook
  return h(
    'div',
    {},
    h('h1', {}, `Delivery #${delivery.id} `, statusSlot),
    details([
      ['Event type', delivery.event_type],
      [
        'Webhook',
        webhook
          ? h(
              'a',
              { href: `#/webhooks/${webhook.id}` },
              `#${webhook.id} `,
              h('span', { class: 'url' }, webhook.target_url),
            )
          : '—',
      ],
      ['Uuid', h('code', {}, delivery.uuid)],
      ['Event', h('a', { href: `#/events/${delivery.event_uuid}` }, h('code', {}, delivery.event_uuid))],
      ['Created', format.dateTime(delivery.created_date)],
      ['Attempts', String(delivery.retry_count)],
      delivery.next_attempt_at && delivery.status === 'pending'
        ? ['Next attempt', format.dateTime(delivery.next_attempt_at)]
        : null,
      delivery.object_id ? ['Subject', `${delivery.content_type ?? ''} ${delivery.object_id}`] : null,
    ]),
    context.readOnly
      ? null
      : h(
          'section',
          { class: 'redeliver', 'aria-labelledby': 'redeliver-heading' },
          h('h2', { id: 'redeliver-heading' }, 'Redeliver'),
          hint,
          send,
          outcome,
        ),
    h(
      'section',
      { 'aria-labelledby': 'attempts-heading' },
      h('h2', { id: 'attempts-heading' }, 'Attempts'),
      attemptsList,
    ),
    h(
      'section',
      { 'aria-labelledby': 'routing-heading' },
      h('h2', { id: 'routing-heading' }, 'Routing of this event'),
      routingView(routing),
    ),
    h(
      'section',
      { 'aria-labelledby': 'payload-heading' },
      h('h2', { id: 'payload-heading' }, 'Request body'),
      code(format.json(delivery.request_payload), 'Request body'),
    ),
  )
}
