import type { DeliveryStatus } from '../../core/delivery-state.ts'
import type { Actor } from '../../core/webhook.ts'
import type { Sql } from './context.ts'
import { bind, eventTypeScope, ownerScope, statement } from './statement.ts'

/** Which deliveries a bulk replay sends again. */
export interface ReplayFilter {
  actor: Actor
  statuses: DeliveryStatus[]
  webhookId?: number
  eventType?: string
  createdAfter?: Date
  createdBefore?: Date
}

// Which deliveries a bulk replay sends again: $1-$7, bound by `filterValues`. Of a lane (ordered
// deliveries), only the head a blocked lane waits for: any other would overtake its lane.
const matching = (s: string) => `($1::text IS NULL OR w.owner = $1) AND w.deleted_at IS NULL
  AND d.status = ANY($2::text[])
  AND ($3::bigint IS NULL OR d.webhook_id = $3)
  AND ($4::text IS NULL OR lower(e.type) = lower($4))
  AND ($5::timestamptz IS NULL OR d.created_at >= $5)
  AND ($6::timestamptz IS NULL OR d.created_at < $6)
  AND ($7::text[] IS NULL OR e.type = ANY($7::text[]))
  AND (d.ordering_key IS NULL OR EXISTS (SELECT 1 FROM ${s}.ordering_lanes l
    WHERE l.webhook_id = d.webhook_id AND l.ordering_key = d.ordering_key AND l.blocked_delivery_id = d.id))`

function filterValues(filter: ReplayFilter) {
  return {
    $1: ownerScope(filter.actor),
    $2: filter.statuses,
    $3: filter.webhookId ?? null,
    $4: filter.eventType ?? null,
    $5: filter.createdAfter ?? null,
    $6: filter.createdBefore ?? null,
    $7: eventTypeScope(filter.actor),
  }
}

const replay = statement(
  'deliveryReplay',
  (s) => `
    WITH chosen AS (
      SELECT d.id FROM ${s}.deliveries d
      JOIN ${s}.webhooks w ON w.id = d.webhook_id
      JOIN ${s}.events e ON e.id = d.event_id
      WHERE ${matching(s)}
      ORDER BY d.id
      LIMIT $8
      FOR UPDATE OF d SKIP LOCKED
    ), replayed AS (
      UPDATE ${s}.deliveries d SET status = 'pending', next_attempt_at = $9, updated_at = $9
      FROM chosen WHERE d.id = chosen.id
      RETURNING d.id
    ), notified AS (SELECT pg_notify($10, '') WHERE EXISTS (SELECT 1 FROM replayed))
    SELECT count(*)::int AS replayed FROM replayed LEFT JOIN notified ON true`,
)

/**
 * Sends matching deliveries again through the queue (bulk replay): up to `limit` of them, due now,
 * in one statement; returns how many. Only deliveries of live webhooks are replayed.
 */
export async function deliveryReplay(
  sql: Sql,
  params: ReplayFilter & { limit: number; now: Date },
): Promise<number> {
  const values = bind({ ...filterValues(params), $8: params.limit, $9: params.now, $10: sql.channel })
  const { rows } = await sql.query<{ replayed: number }>(replay, values)
  return Number(rows[0]?.replayed ?? 0)
}

const count = statement(
  'deliveryReplayCount',
  (s) => `
    SELECT count(*)::int AS n FROM ${s}.deliveries d
    JOIN ${s}.webhooks w ON w.id = d.webhook_id
    JOIN ${s}.events e ON e.id = d.event_id
    WHERE ${matching(s)}`,
)

/** How many deliveries a bulk replay with this filter would send again. */
export async function deliveryReplayCount(sql: Sql, params: ReplayFilter): Promise<number> {
  const { rows } = await sql.query<{ n: number }>(count, bind(filterValues(params)))
  return Number(rows[0]?.n ?? 0)
}
