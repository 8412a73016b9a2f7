import { expect, test } from 'vitest'
import { deliveryStats, statsSpan } from '../../src/core/delivery-stats.ts'

test('a window ends with the bucket holding now, so that its buckets stay put between calls', () => {
  expect(statsSpan('1h', new Date('2026-03-01T10:20:30.500Z'))).toEqual({
    since: new Date('2026-03-01T09:21:00Z'),
    until: new Date('2026-03-01T10:21:00Z'),
    bucketSeconds: 60,
  })
  expect(statsSpan('24h', new Date('2026-03-01T10:20:30Z'))).toEqual({
    since: new Date('2026-02-28T10:30:00Z'),
    until: new Date('2026-03-01T10:30:00Z'),
    bucketSeconds: 900,
  })
  // On a boundary, the bucket that starts there holds now.
  expect(statsSpan('1h', new Date('2026-03-01T10:00:00Z')).until).toEqual(new Date('2026-03-01T10:01:00Z'))
})

test('every bucket is present; pending is what is neither finished nor cancelled', () => {
  const span = statsSpan('1h', new Date('2026-03-01T10:20:30Z'))
  const stats = deliveryStats('1h', span, [
    { bucket: 2, total: 5, delivered: 3, failed: 1, cancelled: 0, p50Ms: 120.4, p99Ms: 980.6 },
    { bucket: 59, total: 1, delivered: 0, failed: 0, cancelled: 0, p50Ms: null, p99Ms: null },
    { bucket: null, total: 6, delivered: 3, failed: 1, cancelled: 0, p50Ms: 120.4, p99Ms: 980.6 },
  ])
  expect(stats.buckets).toHaveLength(60)
  expect(stats.buckets[2]).toEqual({
    start: new Date('2026-03-01T09:23:00Z'),
    total: 5,
    delivered: 3,
    failed: 1,
    pending: 1,
    cancelled: 0,
    p50Ms: 120,
    p99Ms: 981,
  })
  expect(stats.buckets[0]).toMatchObject({ total: 0, pending: 0, p50Ms: null })
  expect(stats.buckets[59]).toMatchObject({ start: new Date('2026-03-01T10:20:00Z'), pending: 1 })
  expect(stats.totals).toEqual({ total: 6, delivered: 3, failed: 1, pending: 2, cancelled: 0 })
  expect(stats.successRate).toBe(0.75)
  expect(stats.perMinute).toBe(0.1)
  expect([stats.p50Ms, stats.p99Ms]).toEqual([120, 981])
})

test('with nothing finished there is no success rate', () => {
  const span = statsSpan('24h', new Date('2026-03-01T10:20:30Z'))
  const stats = deliveryStats('24h', span, [])
  expect(stats.buckets).toHaveLength(96)
  expect(stats.totals.total).toBe(0)
  expect(stats.successRate).toBeNull()
  expect(stats.p50Ms).toBeNull()
})
