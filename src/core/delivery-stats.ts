/**
 * Delivery statistics over a recent window: how many deliveries were created in each bucket of
 * time and what became of them, the success rate, and how long delivering took (from a delivery's
 * creation to the end of its successful attempt). PostgreSQL counts and takes the percentiles;
 * this file chooses the buckets and fills the ones with no deliveries.
 */

/** The windows statistics cover, and the width of their buckets. */
export const statsWindows = {
  '1h': { seconds: 3600, bucketSeconds: 60 },
  '24h': { seconds: 24 * 3600, bucketSeconds: 15 * 60 },
} as const

export type StatsWindow = keyof typeof statsWindows

/** Whole buckets ending with the one that holds `now`. */
export interface StatsSpan {
  since: Date
  until: Date
  bucketSeconds: number
}

/** What the database counts for one bucket (its index from `since`), or for the whole span (null). */
export interface StatsRow {
  bucket: number | null
  total: number
  delivered: number
  failed: number
  cancelled: number
  p50Ms: number | null
  p99Ms: number | null
}

/** Deliveries by what became of them; `pending` counts those still being attempted. */
export interface StatsCounts {
  total: number
  delivered: number
  failed: number
  pending: number
  cancelled: number
}

export interface StatsBucket extends StatsCounts {
  start: Date
  /** Time to deliver, median and 99th percentile, of this bucket's delivered deliveries. */
  p50Ms: number | null
  p99Ms: number | null
}

export interface DeliveryStats {
  window: StatsWindow
  since: Date
  until: Date
  bucketSeconds: number
  /** Every bucket of the span, oldest first, empty ones included. */
  buckets: StatsBucket[]
  totals: StatsCounts
  /** Delivered among the finished (delivered or failed); null when none finished. */
  successRate: number | null
  /** Deliveries created per minute, on average over the window. */
  perMinute: number
  p50Ms: number | null
  p99Ms: number | null
}

/** The span a window covers at `now`: whole buckets, so that bucket boundaries stay put between calls. */
export function statsSpan(window: StatsWindow, now: Date): StatsSpan {
  const { seconds, bucketSeconds } = statsWindows[window]
  const bucketMs = bucketSeconds * 1000
  const until = new Date((Math.floor(now.getTime() / bucketMs) + 1) * bucketMs)
  return { since: new Date(until.getTime() - seconds * 1000), until, bucketSeconds }
}

/** The statistics of a window from the database's rows, with every bucket present. */
export function deliveryStats(
  window: StatsWindow,
  span: StatsSpan,
  rows: readonly StatsRow[],
): DeliveryStats {
  const count = statsWindows[window].seconds / span.bucketSeconds
  const byBucket = new Map(rows.filter((row) => row.bucket !== null).map((row) => [row.bucket, row]))
  const whole = rows.find((row) => row.bucket === null)
  const buckets = Array.from({ length: count }, (_, index): StatsBucket => {
    const row = byBucket.get(index)
    return {
      start: new Date(span.since.getTime() + index * span.bucketSeconds * 1000),
      ...countsOf(row),
      p50Ms: rounded(row?.p50Ms),
      p99Ms: rounded(row?.p99Ms),
    }
  })
  const totals = countsOf(whole)
  const finished = totals.delivered + totals.failed
  return {
    window,
    since: span.since,
    until: span.until,
    bucketSeconds: span.bucketSeconds,
    buckets,
    totals,
    successRate: finished > 0 ? totals.delivered / finished : null,
    perMinute: totals.total / (statsWindows[window].seconds / 60),
    p50Ms: rounded(whole?.p50Ms),
    p99Ms: rounded(whole?.p99Ms),
  }
}

function countsOf(row: StatsRow | undefined): StatsCounts {
  if (!row) return { total: 0, delivered: 0, failed: 0, pending: 0, cancelled: 0 }
  const pending = row.total - row.delivered - row.failed - row.cancelled
  return { total: row.total, delivered: row.delivered, failed: row.failed, pending, cancelled: row.cancelled }
}

function rounded(ms: number | null | undefined): number | null {
  return ms === null || ms === undefined ? null : Math.round(ms)
}
