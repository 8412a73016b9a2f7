import { afterEach, beforeEach, expect, test } from 'vitest'
import type { Whisperer } from '../../src/whisperer.ts'
import { ManualClock } from '../support/clock.ts'
import { forEachDatabase } from '../support/databases.ts'
import { type Receiver, startReceiver } from '../support/receiver.ts'
import { apiOf, type Call, type Caller, expectError } from './support.ts'

/** percentile_cont as PostgreSQL defines it: linear interpolation between the closest ranks. */
function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  const rank = fraction * (sorted.length - 1)
  const below = sorted[Math.floor(rank)]!
  const above = sorted[Math.ceil(rank)]!
  return below + (above - below) * (rank - Math.floor(rank))
}

/** GET stats/: deliveries per bucket by outcome, success rate and time to deliver, scoped by owner. */
forEachDatabase((db) => {
  let receiver: Receiver
  let failing: Receiver
  let clock: ManualClock
  let whisperer: Whisperer
  let call: Call
  beforeEach(async () => {
    receiver = await startReceiver(() => ({ status: 200, body: 'thanks' }))
    failing = await startReceiver(() => ({ status: 500, body: 'down' }))
    clock = new ManualClock(Date.parse('2026-01-01T00:00:30Z'))
    whisperer = await db.whisperer({ clock: clock.now, maxAttempts: 1 })
    for (const type of ['order-created', 'order-paid', 'order-refunded'])
      whisperer.eventTypes.register({ type })
    call = apiOf(whisperer)
  })
  afterEach(async () => {
    await receiver.close()
    await failing.close()
  })

  async function subscribe(as: Caller, event_type: string, target_url: string): Promise<number> {
    const response = await call('POST', 'hooks/', { as, json: { event_type, target_url } })
    expect(response.status).toBe(201)
    return response.body.id
  }

  async function publish(event_type: string): Promise<void> {
    const response = await call('POST', 'events/', { as: 'publisher', json: { event_type, data: { id: 1 } } })
    expect(response.status).toBe(202)
  }

  /** The time to deliver of alice's delivered deliveries created since `since`, from the stored rows. */
  async function timesToDeliver(since: Date): Promise<number[]> {
    const s = whisperer.config.schema
    const rows = await db.sql<{ ms: number }>(
      `SELECT extract(epoch FROM d.last_attempt_at - d.created_at) * 1000 + d.last_duration_ms AS ms
       FROM "${s}".deliveries d JOIN "${s}".webhooks w ON w.id = d.webhook_id
       WHERE w.owner = 'alice' AND d.status = 'delivered' AND d.created_at >= $1`,
      [since],
    )
    return rows.map((row) => Number(row.ms))
  }

  test('the last hour by minute and the last day by 15 minutes, each outcome counted', async () => {
    await subscribe('alice', 'order-created', receiver.url)
    await subscribe('alice', 'order-paid', failing.url)
    const refunds = await subscribe('alice', 'order-refunded', receiver.url)
    await subscribe('bob', 'order-created', receiver.url)

    // Two hours ago: in the day, not in the hour.
    clock.set(new Date('2025-12-31T22:00:00Z'))
    await publish('order-created')
    await whisperer.processDue()

    // At 00:00:30, three deliveries of alice's delivered 2 s later.
    clock.set(new Date('2026-01-01T00:00:30Z'))
    for (let i = 0; i < 3; i++) await publish('order-created')
    clock.advance(2000)
    await whisperer.processDue()
    // At 00:01:32: one delivered 5 s later, one failed, one pending, one cancelled.
    clock.set(new Date('2026-01-01T00:01:32Z'))
    await publish('order-created')
    await publish('order-paid')
    await publish('order-refunded')
    expect((await call('PATCH', `hooks/${refunds}/`, { json: { is_active: false } })).status).toBe(200)
    clock.advance(5000)
    await whisperer.processDue()
    await publish('order-created')

    const hour = await call('GET', 'stats/?window=1h')
    expect(hour.status).toBe(200)
    expect(hour.body).toMatchObject({
      window: '1h',
      since: '2025-12-31T23:02:00.000Z',
      until: '2026-01-01T00:02:00.000Z',
      bucket_seconds: 60,
      totals: { total: 7, delivered: 4, failed: 1, pending: 1, cancelled: 1 },
      success_rate: 0.8,
      per_minute: 7 / 60,
    })
    const buckets = hour.body.buckets as { start: string; total: number }[]
    expect(buckets).toHaveLength(60)
    expect(buckets[0]!.start).toBe('2025-12-31T23:02:00.000Z')
    expect(buckets.map((b) => b.total)).toEqual([...Array(58).fill(0), 3, 4])
    expect(buckets[58]).toMatchObject({
      start: '2026-01-01T00:00:00.000Z',
      delivered: 3,
      failed: 0,
      pending: 0,
    })
    expect(buckets[59]).toMatchObject({ delivered: 1, failed: 1, pending: 1, cancelled: 1 })
    expect(buckets[0]).toEqual(expect.objectContaining({ p50_ms: null, p99_ms: null }))

    // Time to deliver: from creation to the end of the successful attempt, as the rows say.
    const times = await timesToDeliver(new Date('2025-12-31T23:02:00Z'))
    expect(times).toHaveLength(4)
    expect(Math.min(...times)).toBeGreaterThanOrEqual(2000)
    expect(hour.body.time_to_deliver_ms).toEqual({
      p50: Math.round(percentile(times, 0.5)),
      p99: Math.round(percentile(times, 0.99)),
    })
    expect(buckets[59]).toMatchObject({ p50_ms: Math.round(Math.max(...times)) })

    const day = await call('GET', 'stats/?window=24h')
    expect(day.body).toMatchObject({
      since: '2025-12-31T00:15:00.000Z',
      until: '2026-01-01T00:15:00.000Z',
      bucket_seconds: 900,
      totals: { total: 8, delivered: 5 },
    })
    expect(day.body.buckets).toHaveLength(96)
    expect(day.body.buckets.map((b: { total: number }) => b.total).filter(Boolean)).toEqual([1, 7])

    // Bob sees his own; an admin sees everyone's, or one owner's.
    expect((await call('GET', 'stats/', { as: 'bob' })).body.totals).toMatchObject({ total: 5, delivered: 4 })
    expect((await call('GET', 'stats/', { as: 'admin' })).body.totals.total).toBe(12)
    expect((await call('GET', 'stats/?owner=bob', { as: 'admin' })).body.totals.total).toBe(5)
    // A subscriber's owner parameter changes nothing.
    expect((await call('GET', 'stats/?owner=bob')).body.totals.total).toBe(7)
  })

  test('an empty window has zeroes and no rate; a bad window is a 400 naming it', async () => {
    const empty = await call('GET', 'stats/')
    expect(empty.status).toBe(200)
    expect(empty.body).toMatchObject({
      window: '1h',
      totals: { total: 0, delivered: 0, failed: 0, pending: 0, cancelled: 0 },
      success_rate: null,
      per_minute: 0,
      time_to_deliver_ms: { p50: null, p99: null },
    })
    expect(empty.body.buckets).toHaveLength(60)
    const bad = await call('GET', 'stats/?window=7d')
    expectError(bad, 400, 'validation_error')
    expect(Object.keys(bad.body.errors)).toEqual(['window'])
    expectError(await call('GET', 'stats/', { as: 'publisher' }), 403, 'forbidden')
    expectError(await call('GET', 'stats/', { as: null }), 401, 'unauthenticated')
  })
})
