import { barChart, lineChart } from '../charts.js'
import { h, replace } from '../dom.js'
import * as format from '../format.js'
import { byAttention, needsAttention, table, webhookState } from '../widgets.js'

const outcomes = [
  { key: 'delivered', label: 'delivered' },
  { key: 'failed', label: 'failed' },
  { key: 'pending', label: 'pending' },
  { key: 'cancelled', label: 'cancelled' },
]
const latencies = [
  { key: 'p50_ms', label: 'median' },
  { key: 'p99_ms', label: '99th percentile' },
]
const windows = { '1h': 'Last hour', '24h': 'Last 24 hours' }

function legend(series) {
  return h(
    'ul',
    { class: 'legend' },
    series.map(({ key, label }) =>
      h('li', {}, h('span', { class: `swatch series-${key}`, 'aria-hidden': 'true' }), label),
    ),
  )
}

function tile(label, value, detail) {
  return h(
    'div',
    { class: 'tile' },
    h('p', { class: 'tile-label' }, label),
    h('p', { class: 'tile-value' }, value),
    detail ? h('p', { class: 'tile-detail' }, detail) : null,
  )
}

function windowView(stats) {
  const { totals } = stats
  const bucketMinutes = stats.bucket_seconds / 60
  const per = bucketMinutes === 1 ? 'minute' : `${bucketMinutes} minutes`
  return [
    h(
      'div',
      { class: 'tiles' },
      tile(
        'Deliveries per minute',
        format.decimal(stats.per_minute),
        `${totals.total} in all: ${outcomes.map(({ key, label }) => `${totals[key]} ${label}`).join(', ')}`,
      ),
      tile('Success rate', format.percent(stats.success_rate), 'Delivered among delivered and failed'),
      tile(
        'Time to deliver, median',
        format.ms(stats.time_to_deliver_ms.p50),
        'From creation to a successful attempt',
      ),
      tile('Time to deliver, 99th percentile', format.ms(stats.time_to_deliver_ms.p99), null),
    ),
    h(
      'div',
      { class: 'charts' },
      h(
        'figure',
        {},
        h('figcaption', {}, `Deliveries per ${per}, by outcome`),
        barChart({
          buckets: stats.buckets,
          until: stats.until,
          series: outcomes,
          label: `Deliveries per ${per}, by outcome. ${totals.total} deliveries, ${totals.delivered} delivered, ${totals.failed} failed.`,
        }),
        legend(outcomes),
      ),
      h(
        'figure',
        {},
        h('figcaption', {}, `Time to deliver, per ${per} (logarithmic scale)`),
        lineChart({
          buckets: stats.buckets,
          until: stats.until,
          series: latencies,
          label: `Time to deliver per ${per}: median ${format.ms(stats.time_to_deliver_ms.p50)}, 99th percentile ${format.ms(stats.time_to_deliver_ms.p99)} over the window.`,
        }),
        legend(latencies),
      ),
    ),
  ]
}

function failingWebhooks(webhooks, showOwner) {
  const failing = webhooks.filter(needsAttention).sort(byAttention)
  if (failing.length === 0) return h('p', { class: 'quiet' }, 'No webhook is failing.')
  return table({
    caption: 'Failing webhooks, the longest failing first',
    headers: ['Webhook', 'State', 'Failing since', showOwner ? 'Owner' : null, 'Deliveries'].filter(Boolean),
    rows: failing.map((webhook) =>
      [
        h(
          'a',
          { href: `#/webhooks/${webhook.id}` },
          `#${webhook.id} ${webhook.event_types.join(', ')}`,
          h('br'),
          h('span', { class: 'url' }, webhook.target_url),
        ),
        webhookState(webhook),
        webhook.failing_since ? format.dateTime(webhook.failing_since) : '—',
        showOwner ? webhook.owner : null,
        h('a', { href: `#/deliveries?webhook=${webhook.id}&status=failed` }, 'Failed deliveries'),
      ].filter((cell) => cell !== null),
    ),
  })
}

const operationalLabels = {
  'whisperer.webhook.failing': 'Failing',
  'whisperer.webhook.disabled': 'Disabled',
  'whisperer.webhook.recovered': 'Recovered',
  'whisperer.delivery.exhausted': 'Delivery failed for good',
  'whisperer.lane.blocked': 'Ordered lane blocked',
}

/** What an operational event says, in a few words. */
function operationalDetail(event) {
  const { data } = event
  const attempt = data.attempt
  const answer = attempt ? (attempt.status ? `HTTP ${attempt.status}` : attempt.error_kind) : null
  if (event.type === 'whisperer.webhook.disabled')
    return data.reason === 'gone' ? 'The target answered 410 Gone' : 'Failing for too long'
  if (event.type === 'whisperer.delivery.exhausted')
    return `${data.delivery.event_type}, after ${data.delivery.attempts} attempts (${answer})`
  if (event.type === 'whisperer.lane.blocked')
    return `Key ${data.ordering_key} waits for a retry of #${data.delivery.sequence} (${answer})`
  return answer ?? ''
}

function operationalEvents(events, showOwner) {
  if (events.length === 0) return h('p', { class: 'quiet' }, 'Nothing has happened to a webhook yet.')
  return table({
    caption: 'Operational events, the newest first',
    headers: ['When', 'Event', 'Webhook', showOwner ? 'Owner' : null, 'Detail'].filter(Boolean),
    rows: events.map((event) =>
      [
        format.dateTime(event.created_at),
        h('span', { title: event.type }, operationalLabels[event.type] ?? event.type),
        h(
          'a',
          { href: `#/webhooks/${event.webhook_id}` },
          `#${event.webhook_id} ${event.data.webhook.event_type}`,
        ),
        showOwner ? event.data.webhook.owner : null,
        operationalDetail(event),
      ].filter((cell) => cell !== null),
    ),
  })
}

/** Deliveries over the last hour and day, and the webhooks that fail, first. */
export async function overviewPage(context) {
  const scope = context.scope()
  const [hour, day, hooks, operational] = await Promise.all([
    context.api.get('stats/', { window: '1h', ...scope }),
    context.api.get('stats/', { window: '24h', ...scope }),
    context.api.get('hooks/', { limit: 1000, ...scope }),
    context.api.get('operational_events/', { limit: 10, ...scope }),
  ])
  const stats = { '1h': hour, '24h': day }
  const view = h('div', { id: 'window-view' })
  let selected = context.query.get('window') === '24h' ? '24h' : '1h'
  const buttons = Object.entries(windows).map(([key, label]) =>
    h(
      'button',
      {
        type: 'button',
        class: 'toggle',
        'aria-pressed': String(key === selected),
        onclick: () => {
          selected = key
          for (const button of buttons)
            button.setAttribute('aria-pressed', String(button.dataset.window === key))
          replace(view, windowView(stats[key]))
          context.announce(`Showing the ${label.toLowerCase()}`)
        },
        'data-window': key,
      },
      label,
    ),
  )
  replace(view, windowView(stats[selected]))
  const showOwner = context.me.admin && !context.owner
  return h(
    'div',
    {},
    h('h1', {}, 'Overview'),
    h(
      'p',
      { class: 'quiet' },
      context.me.admin
        ? context.owner
          ? `Owner ${context.owner}`
          : 'All owners'
        : `Owner ${context.me.owner}`,
    ),
    h(
      'section',
      { 'aria-labelledby': 'failing-heading' },
      h('h2', { id: 'failing-heading' }, 'Failing webhooks'),
      failingWebhooks(hooks.results, showOwner),
    ),
    h(
      'section',
      { 'aria-labelledby': 'operational-heading' },
      h('h2', { id: 'operational-heading' }, 'Operational events'),
      operationalEvents(operational, showOwner),
    ),
    h(
      'section',
      { 'aria-labelledby': 'deliveries-heading' },
      h('h2', { id: 'deliveries-heading' }, 'Deliveries'),
      h('div', { class: 'toggles', role: 'group', 'aria-label': 'Window' }, buttons),
      view,
    ),
  )
}
