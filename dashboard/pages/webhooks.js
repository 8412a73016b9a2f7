import { conditionsFromFilters, operators } from '../conditions.js'
import { h } from '../dom.js'
import * as format from '../format.js'
import { byAttention, errorMessage, notice, table, webhookState } from '../widgets.js'

/** A webhook's conditions in words: `name starts with "J"; total is anything`. */
export function describeFilters(filters) {
  const rows = conditionsFromFilters(filters, null)
  if (rows.length === 0) return 'Every event'
  return rows
    .map(({ field, op, value }) => {
      const label = operators.find((operator) => operator.op === op)?.label ?? op
      return op === 'any'
        ? `${field} ${label}`
        : `${field} ${label} ${op === 'is' ? value : JSON.stringify(value)}`
    })
    .join('; ')
}

/** Every webhook, failing ones first, with pause, resume and delete. */
export async function webhooksPage(context) {
  const { results } = await context.api.get('hooks/', { limit: 1000, ...context.scope() })
  const webhooks = [...results].sort(byAttention)
  const message = h('div', { class: 'messages' })
  const showOwner = context.me.admin && !context.owner

  async function act(webhook, action) {
    try {
      if (action === 'delete') {
        if (
          !window.confirm(
            `Delete webhook #${webhook.id} (${webhook.event_types.join(', ')} to ${webhook.target_url})? Its history stays.`,
          )
        )
          return
        await context.api.delete(`hooks/${webhook.id}/`)
        context.announce(`Webhook ${webhook.id} deleted`)
      } else {
        await context.api.patch(`hooks/${webhook.id}/`, { is_active: action === 'resume' })
        context.announce(`Webhook ${webhook.id} ${action === 'resume' ? 'resumed' : 'paused'}`)
      }
      await context.refresh()
    } catch (error) {
      message.replaceChildren(notice('error', errorMessage(error)))
    }
  }

  const rows = webhooks.map((webhook) => {
    const cells = [
      h('a', { href: `#/webhooks/${webhook.id}` }, `#${webhook.id} ${webhook.event_types.join(', ')}`),
      h('span', { class: 'url' }, webhook.target_url),
      describeFilters(webhook.filters),
      h(
        'div',
        {},
        webhookState(webhook),
        webhook.failing_since
          ? h('div', { class: 'hint' }, `since ${format.dateTime(webhook.failing_since)}`)
          : null,
      ),
    ]
    if (showOwner) cells.push(webhook.owner)
    // A read-only portal session changes nothing: no actions at all.
    if (context.readOnly) return cells
    cells.push(
      h(
        'div',
        { class: 'actions' },
        h(
          'button',
          {
            type: 'button',
            class: 'secondary',
            'aria-label': `${webhook.is_active ? 'Pause' : 'Resume'} webhook ${webhook.id}`,
            onclick: () => act(webhook, webhook.is_active ? 'pause' : 'resume'),
          },
          webhook.is_active ? 'Pause' : 'Resume',
        ),
        h(
          'button',
          {
            type: 'button',
            class: 'danger',
            'aria-label': `Delete webhook ${webhook.id}`,
            onclick: () => act(webhook, 'delete'),
          },
          'Delete',
        ),
      ),
    )
    return cells
  })

  return h(
    'div',
    {},
    h(
      'div',
      { class: 'title-row' },
      h('h1', {}, 'Webhooks'),
      context.readOnly ? null : h('a', { class: 'button', href: '#/webhooks/new' }, 'New webhook'),
    ),
    message,
    webhooks.length === 0
      ? h(
          'p',
          {},
          'No webhooks yet.',
          context.readOnly ? null : [' ', h('a', { href: '#/webhooks/new' }, 'Create the first one'), '.'],
        )
      : table({
          caption: 'Webhooks, failing ones first',
          headers: [
            'Webhook',
            'Target URL',
            'Conditions',
            'State',
            showOwner ? 'Owner' : null,
            context.readOnly ? null : 'Actions',
          ].filter(Boolean),
          rows,
        }),
  )
}
