import type { StatsRow } from '../../core/delivery-stats.ts'
import type { Actor } from '../../core/webhook.ts'
import { toStatsRow } from '../rows.ts'
import type { Sql } from './context.ts'
import { bind, eventTypeScope, ownerScope, statement } from './statement.ts'

// Per bucket of $4 seconds from $2 (and for the whole span, where bucket is null): deliveries
// created in [$2, $3) by status, and the percentiles of their time to deliver, from creation to
// the end of the successful attempt.
const stats = statement(
  'deliveryStats',
  (s) => `
    SELECT b.bucket, count(*)::int AS total,
      count(*) FILTER (WHERE d.status = 'delivered')::int AS delivered,
      count(*) FILTER (WHERE d.status = 'failed')::int AS failed,
      count(*) FILTER (WHERE d.status = 'cancelled')::int AS cancelled,
      percentile_cont(0.5) WITHIN GROUP (ORDER BY t.ms) AS p50_ms,
      percentile_cont(0.99) WITHIN GROUP (ORDER BY t.ms) AS p99_ms
    FROM ${s}.deliveries d
    JOIN ${s}.webhooks w ON w.id = d.webhook_id
    CROSS JOIN LATERAL (
      SELECT floor(extract(epoch FROM d.created_at - $2::timestamptz) / $4)::int AS bucket
    ) b
    CROSS JOIN LATERAL (
      SELECT CASE WHEN d.status = 'delivered' THEN
        extract(epoch FROM d.last_attempt_at - d.created_at) * 1000 + d.last_duration_ms END AS ms
    ) t
    WHERE d.created_at >= $2 AND d.created_at < $3 AND ($1::text IS NULL OR w.owner = $1)
      AND ($5::text[] IS NULL OR w.event_types <@ $5::text[])
    GROUP BY GROUPING SETS ((b.bucket), ())`,
)

/** Deliveries created in `[since, until)` counted per bucket and in all, in one statement. */
export async function deliveryStats(
  sql: Sql,
  params: { actor: Actor; since: Date; until: Date; bucketSeconds: number },
): Promise<StatsRow[]> {
  const values = bind({
    $1: ownerScope(params.actor),
    $2: params.since,
    $3: params.until,
    $4: params.bucketSeconds,
    $5: eventTypeScope(params.actor),
  })
  const { rows } = await sql.query(stats, values)
  return rows.map(toStatsRow)
}
