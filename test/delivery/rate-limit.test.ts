import { afterEach, beforeEach, expect, test } from 'vitest'
import type { Whisperer } from '../../src/whisperer.ts'
import { ManualClock } from '../support/clock.ts'
import { forEachDatabase, type TestDatabase } from '../support/databases.ts'
import { type Receiver, startReceiver } from '../support/receiver.ts'
import { rejection } from '../support/rejection.ts'
import { busiestWindow } from '../support/windows.ts'

test('the busiest window counts requests less than a window apart', () => {
  expect(busiestWindow([0, 100, 999, 1000, 1500, 1998])).toBe(4)
  expect(busiestWindow([0, 1000, 2000])).toBe(1)
  expect(busiestWindow([])).toBe(0)
})

async function counts(db: TestDatabase, whisperer: Whisperer) {
  const schema = whisperer.config.schema
  const [row] = await db.sql<{ attempts: number; retried: number; delivered: number; total: number }>(
    `SELECT (SELECT count(*)::int FROM "${schema}".attempts) AS attempts,
       (SELECT count(*)::int FROM "${schema}".deliveries WHERE retry_count > 1) AS retried,
       (SELECT count(*)::int FROM "${schema}".deliveries WHERE status = 'delivered') AS delivered,
       (SELECT count(*)::int FROM "${schema}".deliveries) AS total`,
  )
  return row!
}

forEachDatabase((db) => {
  let receiver: Receiver
  beforeEach(async () => {
    receiver = await startReceiver()
  })
  afterEach(() => receiver.close())

  test('rate_limit and timeout are validated, stored and read back with the rate in force', async () => {
    const whisperer = await db.whisperer()
    whisperer.eventTypes.register({ type: 'tick' })
    const base = { eventType: 'tick', targetUrl: receiver.url }
    for (const [field, value] of [
      ['rateLimit', 0],
      ['rateLimit', -1],
      ['rateLimit', 'fast'],
      ['rateLimit', 20_000],
      ['timeout', 0.5],
      ['timeout', 61],
      ['timeout', '5'],
    ] as const) {
      const error = await rejection(whisperer.webhooks.create('acme', { ...base, [field]: value } as never))
      expect(error.code).toBe('validation_error')
      expect(error.issues.map((issue) => issue.path)).toEqual([field])
    }
    const plain = await whisperer.webhooks.create('acme', base)
    expect(plain).toMatchObject({ rateLimit: null, rateLimitCurrent: null, timeout: null })
    const limited = await whisperer.webhooks.create('acme', {
      ...base,
      targetUrl: `${receiver.url}?2`,
      rateLimit: 50,
      timeout: 5,
    })
    expect(limited).toMatchObject({ rateLimit: 50, rateLimitCurrent: 50, timeout: 5 })
    expect(await whisperer.webhooks.get('acme', limited.id)).toMatchObject({ rateLimitCurrent: 50 })
    const auto = await whisperer.webhooks.update('acme', plain.id, { rateLimit: 'auto' })
    expect(auto).toMatchObject({ rateLimit: 'auto', rateLimitCurrent: 10 })
    const kept = await whisperer.webhooks.update('acme', plain.id, { timeout: 2 })
    expect(kept).toMatchObject({ rateLimit: 'auto', rateLimitCurrent: 10, timeout: 2 })
    const cleared = await whisperer.webhooks.update('acme', limited.id, { rateLimit: null, timeout: null })
    expect(cleared).toMatchObject({ rateLimit: null, rateLimitCurrent: null, timeout: null })
  })

  test('a webhook timeout overrides the service timeout, both ways', async () => {
    receiver.respond(() => ({ status: 200, delayMs: 3000 }))
    const whisperer = await db.whisperer({ requestTimeout: 2 })
    whisperer.eventTypes.register({ type: 'tick' })
    const short = await whisperer.webhooks.create('acme', {
      eventType: 'tick',
      targetUrl: `${receiver.url}?short`,
      timeout: 1,
    })
    const long = await whisperer.webhooks.create('acme', {
      eventType: 'tick',
      targetUrl: `${receiver.url}?long`,
      timeout: 5,
    })
    const publishing = whisperer.deliverEvent({ n: 1 }, 'tick', { async: false })
    await receiver.waitFor(2)
    // In flight, the longer timeout holds a longer lease: 4 × (5 s − the service's 2 s) longer.
    const leases = await db.sql<{ webhook_id: string; lease: Date }>(
      `SELECT webhook_id::text, next_attempt_at AS lease FROM "${whisperer.config.schema}".deliveries`,
    )
    const leaseOf = (id: number) =>
      new Date(leases.find((row) => Number(row.webhook_id) === id)!.lease).getTime()
    expect(leaseOf(long.id) - leaseOf(short.id)).toBe(12_000)
    const result = await publishing
    const byWebhook = new Map(result.outcomes!.map((o) => [o.webhookId, o]))
    expect(byWebhook.get(short.id)).toMatchObject({ status: 'pending', errorKind: 'timeout' })
    expect(byWebhook.get(long.id)).toMatchObject({ status: 'delivered', responseStatus: 200 })
  })

  test('a rate limit paces deliveries without counting attempts; all are delivered', async () => {
    const whisperer = await db.whisperer({ concurrency: 50, claimBatch: 50 })
    whisperer.eventTypes.register({ type: 'tick' })
    await whisperer.webhooks.create('acme', { eventType: 'tick', targetUrl: receiver.url, rateLimit: 20 })
    await Promise.all(Array.from({ length: 60 }, (_, n) => whisperer.deliverEvent({ n }, 'tick')))
    await whisperer.start()
    await receiver.waitFor(10, 10_000)
    // Mid-way, those held back are pending with no attempt made.
    const schema = whisperer.config.schema
    const held = await db.sql<{ retry_count: number; attempts: number }>(
      `SELECT d.retry_count, (SELECT count(*)::int FROM "${schema}".attempts a WHERE a.delivery_id = d.id) AS attempts
       FROM "${schema}".deliveries d WHERE d.status = 'pending'`,
    )
    expect(held.length).toBeGreaterThan(0)
    expect(held.every((row) => row.retry_count === 0 && row.attempts === 0)).toBe(true)
    await receiver.waitFor(60, 20_000)
    await whisperer.close()
    const busiest = busiestWindow(receiver.requests.map((r) => r.receivedAt))
    expect(busiest).toBeLessThanOrEqual(22)
    expect(await counts(db, whisperer)).toEqual({ attempts: 60, retried: 0, delivered: 60, total: 60 })
  }, 30_000)

  test('a receiver that answers 429 above 20/s brings the rate down near 20/s, with few 429s once settled', async () => {
    const seen: number[] = []
    receiver.respond((request) => {
      seen.push(request.receivedAt)
      const recent = seen.filter((at) => at > request.receivedAt - 1000).length
      return { status: recent > 20 ? 429 : 200 }
    })
    const whisperer = await db.whisperer({ concurrency: 50, claimBatch: 50 })
    whisperer.eventTypes.register({ type: 'tick' })
    const webhook = await whisperer.webhooks.create('acme', {
      eventType: 'tick',
      targetUrl: receiver.url,
      rateLimit: 50,
      retryCountdownConfig: { choice: 'fixed', kwargs: { seconds: 1 } },
    })
    await Promise.all(Array.from({ length: 700 }, (_, n) => whisperer.deliverEvent({ n }, 'tick')))
    await whisperer.start()
    const started = Date.now()
    const settledAt = started + 12_000
    const rates: number[] = []
    // Bounded: 30 s of load, the rate in force read twice a second.
    for (let i = 0; i < 60; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 500))
      const current = (await whisperer.webhooks.get('acme', webhook.id)).rateLimitCurrent
      if (Date.now() > settledAt && current !== null) rates.push(current)
    }
    const ended = Date.now()
    await whisperer.close()
    const settled = receiver.requests.filter((r) => r.receivedAt > settledAt && r.receivedAt <= ended)
    const refused = settled.filter((r) => {
      const before = seen.filter((at) => at > r.receivedAt - 1000 && at <= r.receivedAt).length
      return before > 20
    }).length
    expect(settled.length).toBeGreaterThan(100)
    expect(refused / settled.length).toBeLessThan(0.05)
    // Accepted near 20 per second: halving and growing back averages a little below the ceiling.
    const perSecond = (settled.length - refused) / ((ended - settledAt) / 1000)
    expect(perSecond).toBeGreaterThan(10)
    expect(perSecond).toBeLessThanOrEqual(21)
    expect(Math.min(...rates)).toBeGreaterThanOrEqual(5)
    // The rate in force follows the answers: it grows only while its slots are used, so a busy
    // machine whose worker sends slower than the rate does not raise it untried. It peaks a little
    // above 20/s just before a 429 halves it (later on a busy machine, where the answers take
    // longer to be recorded), and never climbs on towards its limit of 50.
    expect(Math.max(...rates)).toBeLessThan(30)
  }, 60_000)

  test('a rate grows only while its slots are used: a worker that falls behind does not raise it untried', async () => {
    const clock = new ManualClock()
    const whisperer = await db.whisperer({ clock: clock.now })
    whisperer.eventTypes.register({ type: 'tick' })
    const webhook = await whisperer.webhooks.create('acme', {
      eventType: 'tick',
      targetUrl: receiver.url,
      rateLimit: 'auto',
    })
    const rate = async () => (await whisperer.webhooks.get('acme', webhook.id)).rateLimitCurrent
    await Promise.all(Array.from({ length: 60 }, (_, n) => whisperer.deliverEvent({ n }, 'tick')))
    expect(await rate()).toBe(10)
    // The worker claims once, then falls 5 s behind: the 50 slots it could have used went unused,
    // so every answer succeeding does not make 15/s a tried rate.
    expect(await whisperer.processDue()).toBe(3)
    clock.advance(5_000)
    expect(await whisperer.processDue()).toBe(3)
    expect(await rate()).toBe(10)
    // Claiming every 100 ms, it uses the slots as they come: the rate grows, by 1/s for an auto rate.
    for (let i = 0; i < 25; i += 1) {
      clock.advance(100)
      await whisperer.processDue()
    }
    const grown = await rate()
    expect(grown).toBeGreaterThan(10.5)
    expect(grown).toBeLessThanOrEqual(12.5)
    await whisperer.close()
  })

  test('a 429 starts limiting a webhook without a limit, Retry-After pauses it, and success lifts the limit', async () => {
    const clock = new ManualClock()
    receiver.respond((_request, index) =>
      index === 0 ? { status: 429, headers: { 'retry-after': '30' } } : {},
    )
    const whisperer = await db.whisperer({ clock: clock.now })
    whisperer.eventTypes.register({ type: 'tick' })
    const webhook = await whisperer.webhooks.create('acme', {
      eventType: 'tick',
      targetUrl: receiver.url,
      retryCountdownConfig: { choice: 'fixed', kwargs: { seconds: 1 } },
    })
    await whisperer.deliverEvent({ n: 1 }, 'tick')
    expect(await whisperer.processDue()).toBe(1)
    // Observed: one attempt in the last 2 s is 0.5/s; halved, 0.25/s.
    expect((await whisperer.webhooks.get('acme', webhook.id)).rateLimitCurrent).toBe(0.25)
    // The Retry-After holds every delivery of the webhook, a new one too, without an attempt.
    await whisperer.deliverEvent({ n: 2 }, 'tick')
    clock.advance(10_000)
    expect(await whisperer.processDue()).toBe(0)
    expect(receiver.requests).toHaveLength(1)
    const schema = whisperer.config.schema
    const held = await db.sql<{ retry_count: number; status: string }>(
      `SELECT retry_count, status FROM "${schema}".deliveries ORDER BY id`,
    )
    expect(held).toEqual([
      { retry_count: 1, status: 'pending' },
      { retry_count: 0, status: 'pending' },
    ])
    // After the pause both go, one slot (4 s at 0.25/s) apart, and succeed: the limit is lifted.
    clock.advance(21_000)
    await whisperer.processDue()
    clock.advance(5_000)
    await whisperer.processDue()
    expect(receiver.requests).toHaveLength(3)
    expect((await whisperer.webhooks.get('acme', webhook.id)).rateLimitCurrent).toBeNull()
    expect(await counts(db, whisperer)).toEqual({ attempts: 3, retried: 1, delivered: 2, total: 2 })
  })
})
