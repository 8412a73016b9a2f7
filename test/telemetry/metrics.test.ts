import { afterEach, beforeEach, expect, test } from 'vitest'
import { openDatabase } from '../../src/storage/open-database.ts'
import { attemptOutcomeOf } from '../../src/telemetry/metrics.ts'
import type { Whisperer } from '../../src/whisperer.ts'
import { ManualClock } from '../support/clock.ts'
import { countingDatabase } from '../support/counting-database.ts'
import { forEachDatabase } from '../support/databases.ts'
import { type Receiver, startReceiver } from '../support/receiver.ts'
import { sample, samples } from './exposition.ts'

test('an attempt is labelled by its status or its transport error', () => {
  const response = (status: number) =>
    ({ kind: 'response', status, headers: {}, body: '', truncated: false, durationMs: 1 }) as const
  const error = (kind: 'timeout' | 'connect' | 'dns' | 'tls' | 'blocked' | 'http') =>
    ({ kind: 'error', error: kind, message: '', durationMs: 1 }) as const
  expect(
    [200, 204, 301, 304, 400, 404, 410, 429, 500, 503].map((s) => attemptOutcomeOf(response(s))),
  ).toEqual([
    'success',
    'success',
    'http_4xx',
    'http_4xx',
    'http_4xx',
    'http_4xx',
    'gone',
    'http_4xx',
    'http_5xx',
    'http_5xx',
  ])
  expect(
    (['timeout', 'connect', 'dns', 'tls', 'blocked', 'http'] as const).map((k) => attemptOutcomeOf(error(k))),
  ).toEqual(['timeout', 'connect', 'dns', 'tls', 'blocked', 'connect'])
})

/** The outcome label of a stored attempt, as the metrics count it. */
function storedOutcome(status: number | null, errorKind: string | null): string {
  if (status === null) return errorKind === 'http' ? 'connect' : errorKind!
  if (status >= 200 && status < 300) return 'success'
  if (status === 410) return 'gone'
  return status >= 500 ? 'http_5xx' : 'http_4xx'
}

forEachDatabase((db) => {
  let receiver: Receiver
  beforeEach(async () => {
    receiver = await startReceiver((request) => {
      if (request.path.includes('/fail')) return { status: 500 }
      if (request.path.includes('/slow')) return { status: 200, delayMs: 3000 }
      if (request.path.includes('/gone')) return { status: 410 }
      if (request.path.includes('/moved')) return { status: 302, headers: { location: '/ok' } }
      return { status: 200 }
    })
  })
  afterEach(() => receiver.close())

  test('after successes, 500s, a timeout and a 410, every counter equals the database and the receiver', async () => {
    const clock = new ManualClock()
    // A read timeout of 1 s: the slow receiver (3 s) always times out, the others never do, even on a
    // loaded machine whose receiver shares the event loop with PGlite.
    const whisperer = await db.whisperer({ clock: clock.now, maxAttempts: 2, requestTimeout: [1, 1] })
    const { schema } = whisperer.config
    whisperer.eventTypes.register({ type: 'order-created' })
    whisperer.eventTypes.register({ type: 'order-paid' })
    whisperer.eventTypes.register({ type: 'nobody-listens' })
    const retry = { choice: 'fixed', kwargs: { seconds: 30 } } as const
    const hook = (path: string, eventType = 'order-created') =>
      whisperer.webhooks.create('acme', {
        eventType,
        targetUrl: `${receiver.url}/${path}`,
        retryCountdownConfig: retry,
      })
    await hook('ok')
    await hook('fail')
    await hook('slow')
    await hook('gone')
    await hook('moved')
    await hook('ok', 'order-paid')
    const deactivated = await hook('fail-later', 'order-paid')
    // An operator hears of deliveries that failed for good: operational events count like any other.
    await whisperer.webhooks.create('admin', {
      eventType: 'whisperer.delivery.exhausted',
      targetUrl: `${receiver.url}/operator`,
    })

    for (let i = 0; i < 3; i++) await whisperer.deliverEvent({ i }, 'order-created')
    await whisperer.deliverEvent({}, 'order-paid')
    // Stored nowhere: no webhook listens.
    await whisperer.deliverEvent({}, 'nobody-listens')
    // Deactivating a webhook cancels its pending delivery.
    await whisperer.webhooks.update('acme', deactivated.id, { isActive: false })
    await whisperer.processDue()
    clock.advance(60_000)
    await whisperer.processDue()
    clock.advance(60_000)
    await whisperer.processDue()

    const text = await whisperer.metrics()
    const attempts = await db.sql<{ status: number | null; error_kind: string | null }>(
      `SELECT a.status, a.error_kind FROM "${schema}".attempts a`,
    )
    const byOutcome = new Map<string, number>()
    for (const a of attempts) {
      const outcome = storedOutcome(a.status, a.error_kind)
      byOutcome.set(outcome, (byOutcome.get(outcome) ?? 0) + 1)
    }
    // Each kind of answer happened.
    for (const outcome of ['success', 'http_5xx', 'timeout', 'gone', 'http_4xx'])
      expect(byOutcome.get(outcome), outcome).toBeGreaterThan(0)
    for (const outcome of [
      'success',
      'http_4xx',
      'http_5xx',
      'timeout',
      'connect',
      'dns',
      'tls',
      'blocked',
      'gone',
    ]) {
      expect(sample(text, 'whisperer_attempts_total', { outcome }), outcome).toBe(byOutcome.get(outcome) ?? 0)
      expect(sample(text, 'whisperer_attempt_duration_seconds_count', { outcome }), outcome).toBe(
        byOutcome.get(outcome) ?? 0,
      )
    }
    // Every attempt reached the receiver, and the receiver saw nothing else.
    expect(attempts).toHaveLength(receiver.requests.length)

    const statuses = await db.sql<{ status: string; n: number }>(
      `SELECT status, count(*)::int AS n FROM "${schema}".deliveries GROUP BY status`,
    )
    const byStatus = new Map(statuses.map((row) => [row.status, row.n]))
    for (const status of ['delivered', 'failed', 'cancelled']) {
      expect(byStatus.get(status), status).toBeGreaterThan(0)
      expect(sample(text, 'whisperer_deliveries_finished_total', { status }), status).toBe(
        byStatus.get(status),
      )
    }
    expect(sample(text, 'whisperer_delivery_latency_seconds_count')).toBe(byStatus.get('delivered'))

    // Operational events are stored whether or not a webhook receives them.
    const types = await db.sql<{ type: string; events: number; deliveries: number }>(
      `SELECT e.type, count(DISTINCT e.id)::int AS events, count(d.id)::int AS deliveries
       FROM "${schema}".events e LEFT JOIN "${schema}".deliveries d ON d.event_id = e.id GROUP BY e.type`,
    )
    expect(types.map((row) => row.type).sort()).toEqual([
      'order-created',
      'order-paid',
      'whisperer.delivery.exhausted',
      'whisperer.webhook.disabled',
      'whisperer.webhook.failing',
    ])
    expect(types.find((row) => row.type === 'whisperer.delivery.exhausted')!.deliveries).toBeGreaterThan(0)
    for (const row of types) {
      expect(sample(text, 'whisperer_events_published_total', { event_type: row.type })).toBe(row.events)
      const enqueued = samples(text, 'whisperer_deliveries_enqueued_total').filter(
        (s) => s.labels.event_type === row.type,
      )
      expect(
        enqueued.reduce((sum, s) => sum + s.value, 0),
        row.type,
      ).toBe(row.deliveries)
    }
    expect(samples(text, 'whisperer_events_published_total').map((s) => s.labels.event_type)).not.toContain(
      'nobody-listens',
    )

    const hooks = await db.sql<{ active: number; failing: number; disabled: number }>(
      `SELECT count(*) FILTER (WHERE is_active AND failing_since IS NULL)::int AS active,
         count(*) FILTER (WHERE is_active AND failing_since IS NOT NULL)::int AS failing,
         count(*) FILTER (WHERE NOT is_active)::int AS disabled
       FROM "${schema}".webhooks WHERE deleted_at IS NULL`,
    )
    for (const state of ['active', 'failing', 'disabled'] as const)
      expect(sample(text, 'whisperer_webhooks', { state }), state).toBe(hooks[0]![state])
    // The 410 webhook and the deactivated one.
    expect(sample(text, 'whisperer_webhooks', { state: 'disabled' })).toBe(2)
    expect(sample(text, 'whisperer_in_flight')).toBe(0)
    expect(sample(text, 'whisperer_claim_duration_seconds_count')).toBeGreaterThan(0)
    expect(sample(text, 'process_cpu_user_seconds_total')).toBeGreaterThanOrEqual(0)
    expect(sample(text, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0)
    // No label carries a webhook id, an owner or a URL.
    expect(text).not.toContain('acme')
    expect(text).not.toContain(receiver.url)
  })

  test('an async: false publish is counted as the worker counts its attempts', async () => {
    receiver.respond(() => ({ status: 200 }))
    const whisperer = await db.whisperer()
    whisperer.eventTypes.register({ type: 'order-created' })
    await whisperer.webhooks.create('acme', { eventType: 'order-created', targetUrl: `${receiver.url}/ok` })
    const { outcomes } = await whisperer.deliverEvent({}, 'order-created', { async: false })
    expect(outcomes?.map((o) => o.status)).toEqual(['delivered'])
    const text = await whisperer.metrics()
    expect(sample(text, 'whisperer_attempts_total', { outcome: 'success' })).toBe(1)
    expect(sample(text, 'whisperer_deliveries_finished_total', { status: 'delivered' })).toBe(1)
    expect(sample(text, 'whisperer_delivery_latency_seconds_count')).toBe(1)
    expect(sample(text, 'whisperer_events_published_total', { event_type: 'order-created' })).toBe(1)
    expect(sample(text, 'whisperer_in_flight')).toBe(0)
  })

  test('the queue gauges count due deliveries and the oldest one, without labels', async () => {
    const clock = new ManualClock()
    const whisperer = await db.whisperer({ clock: clock.now, metricsInterval: 0 })
    whisperer.eventTypes.register({ type: 'order-created' })
    await whisperer.webhooks.create('acme', { eventType: 'order-created', targetUrl: `${receiver.url}/ok` })
    await whisperer.deliverEvent({}, 'order-created')
    clock.advance(90_000)
    await whisperer.deliverEvent({}, 'order-created')
    clock.advance(10_000)
    const text = await whisperer.metrics()
    expect(sample(text, 'whisperer_queue_due')).toBe(2)
    expect(sample(text, 'whisperer_queue_oldest_due_seconds')).toBe(100)
    await whisperer.processDue()
    const after = await whisperer.metrics()
    expect(sample(after, 'whisperer_queue_due')).toBe(0)
    expect(sample(after, 'whisperer_queue_oldest_due_seconds')).toBe(0)
  })

  test('the event_type label is capped: past the limit, types are counted as other', async () => {
    const whisperer = await db.whisperer({ metricsEventTypeLimit: 2 })
    for (const type of ['a-type', 'b-type', 'c-type']) {
      whisperer.eventTypes.register({ type })
      await whisperer.webhooks.create('acme', { eventType: type, targetUrl: `${receiver.url}/ok` })
    }
    for (const type of ['a-type', 'b-type', 'c-type', 'c-type']) await whisperer.deliverEvent({}, type)
    const text = await whisperer.metrics()
    const published = samples(text, 'whisperer_events_published_total')
    expect(Object.fromEntries(published.map((s) => [s.labels.event_type, s.value]))).toEqual({
      'a-type': 1,
      'b-type': 1,
      other: 2,
    })
    expect(sample(text, 'whisperer_deliveries_enqueued_total', { event_type: 'other' })).toBe(2)
  })

  test('a scrape reads the database in one statement, and concurrent scrapes share it', async () => {
    const { database, schema } = await db.source()
    const counting = countingDatabase(await openDatabase(database!))
    const whisperer = await db.whisperer({ database: counting, schema, metricsInterval: 0 })
    whisperer.eventTypes.register({ type: 'order-created' })
    await whisperer.webhooks.create('acme', { eventType: 'order-created', targetUrl: `${receiver.url}/ok` })
    try {
      counting.statements.length = 0
      await whisperer.metrics()
      expect(counting.statements.length).toBeLessThanOrEqual(2)
      expect(counting.statements.length).toBeGreaterThan(0)
      counting.statements.length = 0
      const texts = await Promise.all(Array.from({ length: 5 }, () => whisperer.metrics()))
      expect(counting.statements.length).toBeLessThanOrEqual(2)
      for (const text of texts) expect(sample(text, 'whisperer_webhooks', { state: 'active' })).toBe(1)
    } finally {
      await whisperer.close()
      await counting.close()
    }
  })

  test('within the interval, a scrape reuses the last read', async () => {
    const { database, schema } = await db.source()
    const counting = countingDatabase(await openDatabase(database!))
    const whisperer = await db.whisperer({ database: counting, schema, metricsInterval: 3_600_000 })
    try {
      await whisperer.metrics()
      counting.statements.length = 0
      await whisperer.metrics()
      await whisperer.metrics()
      expect(counting.statements).toEqual([])
    } finally {
      await whisperer.close()
      await counting.close()
    }
  })

  test('a failed statement is counted by its name; metrics: false collects nothing', async () => {
    const whisperer: Whisperer = await db.whisperer()
    await db.sql(`DROP TABLE "${whisperer.config.schema}".event_types CASCADE`)
    await expect(whisperer.eventTypes.list()).rejects.toThrow()
    const text = await whisperer.metrics()
    expect(sample(text, 'whisperer_db_errors_total', { operation: 'eventTypeList' })).toBe(1)

    const off = await db.whisperer({ metrics: false })
    expect(await off.metrics()).toBe('')
    expect(await off.registry.getMetricsAsJSON()).toEqual([])
  })
})
