import { h, replace, uid } from '../dom.js'
import * as format from '../format.js'
import { choice, errorMessage, field, notice, statusBadge, table } from '../widgets.js'

const statuses = ['pending', 'delivering', 'delivered', 'failed', 'cancelled']
const replayable = new Set(['failed', 'cancelled', 'delivered'])

/** A datetime-local value as an ISO instant, or undefined. */
function instant(local) {
  return local ? new Date(local).toISOString() : undefined
}

/** An ISO instant as a datetime-local value, in the browser's time zone. */
function localValue(iso) {
  if (!iso) return ''
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) return ''
  const pad = (n) => String(n).padStart(2, '0')
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`
}

/** Deliveries, newest first, filtered by status, event type, webhook and time; and bulk replay. */
export async function deliveriesPage(context) {
  const { api, query } = context
  const filter = {
    status: query.get('status') ?? '',
    event_type: query.get('event_type') ?? '',
    webhook: query.get('webhook') ?? '',
    created_date__gte: query.get('from') ?? '',
    created_date__lt: query.get('to') ?? '',
    cursor: query.get('cursor') ?? '',
  }
  const [page, eventTypes, hooks] = await Promise.all([
    api.get('hook_events/', { ...filter, limit: 25, ...context.scope() }),
    api.get('event_types/'),
    api.get('hooks/', { limit: 1000, ...context.scope() }),
  ])

  const statusField = field({
    label: 'Status',
    control: choice([['', 'Any'], ...statuses.map((status) => [status, status])], filter.status),
  })
  const typeField = field({
    label: 'Event type',
    control: choice([['', 'Any'], ...eventTypes.map((type) => [type.type, type.type])], filter.event_type),
  })
  const webhookField = field({
    label: 'Webhook',
    control: choice(
      [
        ['', 'Any'],
        ...hooks.results.map((hook) => [
          String(hook.id),
          `#${hook.id} ${hook.event_types.join(', ')} → ${hook.target_url}`,
        ]),
      ],
      filter.webhook,
    ),
  })
  const fromField = field({
    label: 'Created from',
    control: h('input', { type: 'datetime-local', id: 'from', value: localValue(filter.created_date__gte) }),
  })
  const toField = field({
    label: 'Created before',
    control: h('input', { type: 'datetime-local', id: 'to', value: localValue(filter.created_date__lt) }),
  })
  const filterForm = h(
    'form',
    {
      class: 'filters',
      role: 'search',
      'aria-label': 'Filter deliveries',
      onsubmit: (event) => {
        event.preventDefault()
        const next = new URLSearchParams()
        const set = (name, value) => value && next.set(name, value)
        set('status', statusField.control.value)
        set('event_type', typeField.control.value)
        set('webhook', webhookField.control.value)
        set('from', instant(fromField.control.value))
        set('to', instant(toField.control.value))
        const hash = `#/deliveries${next.size > 0 ? `?${next}` : ''}`
        if (window.location.hash === hash) void context.refresh()
        else window.location.hash = hash
      },
    },
    statusField.element,
    typeField.element,
    webhookField.element,
    fromField.element,
    toField.element,
    h(
      'div',
      { class: 'form-actions' },
      h('button', { type: 'submit' }, 'Filter'),
      h('a', { href: '#/deliveries' }, 'Clear'),
    ),
  )

  const showOwner = context.me.admin && !context.owner
  const rows = page.results.map((delivery) => {
    const hook = delivery.webhook
    return [
      h('a', { href: `#/deliveries/${delivery.id}` }, `#${delivery.id}`),
      statusBadge(delivery.status),
      delivery.event_type,
      hook ? h('span', {}, `#${hook.id} `, h('span', { class: 'url' }, hook.target_url)) : '—',
      String(delivery.retry_count),
      delivery.response_http_status !== null
        ? `HTTP ${delivery.response_http_status}`
        : (delivery.last_error_kind ?? '—'),
      format.dateTime(delivery.created_date),
      showOwner ? (hook?.owner ?? '—') : null,
    ].filter((cell) => cell !== null)
  })
  let older = null
  if (page.next) {
    const cursor = new URL(page.next).searchParams.get('cursor')
    const next = new URLSearchParams(context.query)
    next.set('cursor', cursor)
    older = h('a', { href: `#/deliveries?${next}`, class: 'button secondary' }, 'Older deliveries')
  }

  return h(
    'div',
    {},
    h('h1', {}, 'Deliveries'),
    filterForm,
    page.results.length === 0
      ? h('p', { class: 'quiet' }, 'No deliveries match.')
      : table({
          caption: 'Deliveries, newest first',
          headers: [
            'Delivery',
            'Status',
            'Event type',
            'Webhook',
            'Attempts',
            'Last answer',
            'Created',
            showOwner ? 'Owner' : null,
          ].filter(Boolean),
          rows,
        }),
    h(
      'nav',
      { class: 'pager', 'aria-label': 'Pages' },
      filter.cursor ? h('a', { href: `#/deliveries?${withoutCursor(context.query)}` }, 'Newest') : null,
      older,
    ),
    context.readOnly ? null : replayPanel(context, filter),
  )
}

function withoutCursor(query) {
  const next = new URLSearchParams(query)
  next.delete('cursor')
  return next
}

/**
 * Bulk replay of the deliveries matching the filter (failed ones, unless the filter asks for
 * cancelled or delivered ones): the count first, then batches, with the progress shown.
 */
function replayPanel(context, filter) {
  const status = replayable.has(filter.status) ? filter.status : 'failed'
  const criteria = {
    status,
    event_type: filter.event_type || undefined,
    webhook: filter.webhook || undefined,
    created_date__gte: filter.created_date__gte || undefined,
    created_date__lt: filter.created_date__lt || undefined,
    ...context.scope(),
  }
  const area = h('div', { class: 'replay-area', 'aria-live': 'polite' })
  const headingId = uid('replay')
  const start = h(
    'button',
    {
      type: 'button',
      class: 'secondary',
      onclick: async () => {
        start.disabled = true
        try {
          const { count } = await context.api.get('hook_events/replay/', criteria)
          if (count === 0) {
            replace(area, h('p', {}, `No ${status} deliveries match these filters.`))
            start.disabled = false
            return
          }
          const confirm = h('button', { type: 'button', onclick: () => run(count) }, `Replay ${count}`)
          const cancel = h(
            'button',
            {
              type: 'button',
              class: 'secondary',
              onclick: () => {
                replace(area)
                start.disabled = false
                start.focus()
              },
            },
            'Cancel',
          )
          replace(
            area,
            h(
              'p',
              {},
              `${count} ${status} ${count === 1 ? 'delivery matches' : 'deliveries match'}. Send ${count === 1 ? 'it' : 'them'} again?`,
            ),
            h('div', { class: 'form-actions' }, confirm, cancel),
          )
          confirm.focus()
        } catch (error) {
          replace(area, notice('error', errorMessage(error)))
          start.disabled = false
        }
      },
    },
    `Replay ${status} deliveries…`,
  )

  async function run(total) {
    const bar = h('progress', { max: total, value: 0, 'aria-label': 'Replay progress' })
    const text = h('p', {}, `0 of ${total} queued`)
    replace(area, bar, text)
    const { owner, ...body } = criteria
    const request = {
      status: [status],
      ...(body.event_type ? { event_type: body.event_type } : {}),
      ...(body.webhook ? { webhook: Number(body.webhook) } : {}),
      ...(body.created_date__gte ? { created_date__gte: body.created_date__gte } : {}),
      ...(body.created_date__lt ? { created_date__lt: body.created_date__lt } : {}),
      ...(owner ? { owner } : {}),
      limit: 100,
    }
    let done = 0
    try {
      // Bounded: deliveries that fail again while this runs are not replayed twice by this loop.
      for (let batch = 0; batch < Math.ceil(total / 100) + 1; batch++) {
        const answer = await context.api.post('hook_events/replay/', request)
        done += answer.replayed
        bar.value = Math.min(done, total)
        text.textContent = `${done} of ${total} queued`
        if (!answer.more) break
      }
      replace(
        area,
        notice(
          'success',
          `${done} ${done === 1 ? 'delivery' : 'deliveries'} queued to be sent again. `,
          h(
            'a',
            {
              href: window.location.hash || '#/deliveries',
              onclick: (event) => {
                event.preventDefault()
                void context.refresh()
              },
            },
            'Refresh the list',
          ),
        ),
      )
    } catch (error) {
      replace(area, notice('error', `${done} queued, then: ${errorMessage(error)}`))
    } finally {
      start.disabled = false
    }
  }

  return h(
    'section',
    { class: 'replay', 'aria-labelledby': headingId },
    h('h2', { id: headingId }, 'Replay'),
    h(
      'p',
      { class: 'hint' },
      `Sends again, through the queue, every ${status} delivery matching the filters above.`,
    ),
    start,
    area,
  )
}
