import type { Sql } from './context.ts'
import { bind, statement } from './statement.ts'

// Ordered delivery: a lane is (webhook, ordering key). Its row (ordering_lanes) counts the lane's
// sequences and its unfinished deliveries; only its head, the unfinished delivery of lowest
// sequence, is ever due: the rest wait parked (pending, due at 'infinity', which no claim reaches).
// Whatever finishes a head (a completion, a cancel) lowers the count in the same statement, under
// the lane's row lock, and releases the next one. A publisher holding that lock commits rows this
// statement cannot see: such a lane is named `stalled`, and released by `lanesWake` at once.

/** Locks the lane rows named by `lanes` (a CTE of `webhook_id`, `ordering_key`), in key order. */
const lockLanes = (s: string, lanes: string) =>
  `SELECT l.webhook_id, l.ordering_key FROM ${s}.ordering_lanes l
      JOIN ${lanes} c ON c.webhook_id = l.webhook_id AND c.ordering_key = l.ordering_key
      ORDER BY l.webhook_id, l.ordering_key
      FOR UPDATE OF l`

/** A lane: its webhook and ordering key. */
export interface Lane {
  webhookId: number
  orderingKey: string
}

/**
 * The CTEs that move lanes on after the `moved` (completed deliveries: `id`, `status`, `webhook_id`,
 * `ordering_key`) and `cancelled` (`id`, `webhook_id`, `ordering_key`) CTEs of a statement, at `now`
 * ($16). A head that failed for good under `block` keeps its place and blocks its lane; any other
 * finished head, and every cancelled delivery, leaves the count. Lanes are locked in key order.
 * Workers are woken at commit when a delivery is released. Defines `lane_moved`, `released` and
 * `lane_notified`; `stalledColumn` reads them.
 */
export const laneMoves = (s: string, now = '$16', channel = '$21') => `finished AS (
      SELECT m.webhook_id, m.ordering_key, m.id,
        m.status = 'failed' AND w.ordering_on_failure = 'block' AS blocks
      FROM moved m JOIN ${s}.webhooks w ON w.id = m.webhook_id
      WHERE m.ordering_key IS NOT NULL AND m.status IN ('delivered', 'failed', 'cancelled')
      UNION ALL
      SELECT c.webhook_id, c.ordering_key, NULL, false FROM cancelled c WHERE c.ordering_key IS NOT NULL
    ), lane_changes AS (
      SELECT webhook_id, ordering_key, count(*) FILTER (WHERE NOT blocks) AS done,
        max(id) FILTER (WHERE blocks) AS blocked_id, bool_or(id IS NOT NULL) AS head_finished
      FROM finished GROUP BY webhook_id, ordering_key
    ), lane_locked AS (
      ${lockLanes(s, 'lane_changes')}
    ), lane_moved AS (
      UPDATE ${s}.ordering_lanes l SET unfinished = greatest(0, l.unfinished - c.done),
        blocked_delivery_id = CASE WHEN c.head_finished THEN c.blocked_id ELSE l.blocked_delivery_id END,
        blocked_at = CASE WHEN NOT c.head_finished THEN l.blocked_at
          WHEN c.blocked_id IS NULL THEN NULL ELSE coalesce(l.blocked_at, ${now}) END
      FROM lane_changes c, lane_locked k
      WHERE l.webhook_id = c.webhook_id AND l.ordering_key = c.ordering_key
        AND k.webhook_id = c.webhook_id AND k.ordering_key = c.ordering_key
      RETURNING l.webhook_id, l.ordering_key, l.unfinished, l.blocked_delivery_id
    ), released AS (
      UPDATE ${s}.deliveries d SET next_attempt_at = ${now}, updated_at = ${now}
      FROM (
        SELECT DISTINCT ON (l.webhook_id, l.ordering_key) p.id
        FROM lane_moved l JOIN ${s}.deliveries p ON p.webhook_id = l.webhook_id AND p.ordering_key = l.ordering_key
        WHERE l.unfinished > 0 AND l.blocked_delivery_id IS NULL AND p.status IN ('pending', 'delivering')
          AND p.id NOT IN (SELECT id FROM finished WHERE id IS NOT NULL) AND p.id NOT IN (SELECT id FROM cancelled)
        ORDER BY l.webhook_id, l.ordering_key, p.sequence
      ) n
      WHERE d.id = n.id AND d.status = 'pending' AND d.next_attempt_at = 'infinity'
      RETURNING d.webhook_id, d.ordering_key
    ), lane_notified AS (SELECT pg_notify(${channel}, '') AS n WHERE EXISTS (SELECT 1 FROM released))`

/**
 * A column naming (as JSON) the lanes {@link laneMoves} left with unfinished deliveries but no
 * released head: their next delivery was committed after the statement's snapshot.
 */
export const stalledColumn = `(SELECT json_agg(json_build_object('webhookId', l.webhook_id, 'orderingKey', l.ordering_key))
    FROM lane_moved l WHERE l.unfinished > 0 AND l.blocked_delivery_id IS NULL
      AND NOT EXISTS (SELECT 1 FROM released r WHERE r.webhook_id = l.webhook_id AND r.ordering_key = l.ordering_key)
  )::text AS stalled, (SELECT count(*) FROM lane_notified) AS lane_notified`

// Releases the head of each lane given ($1, $2; every open lane when null) if it is parked: the
// unfinished delivery of lowest sequence. A blocked lane is left as it is. Only lanes with nothing
// due or in flight are locked (the sweep over every open lane locks none of the others).
const wake = statement(
  'lanesWake',
  (s) => `
    WITH stuck AS (
      SELECT l.webhook_id, l.ordering_key FROM ${s}.ordering_lanes l
      WHERE l.unfinished > 0 AND l.blocked_delivery_id IS NULL
        AND ($1::bigint[] IS NULL OR (l.webhook_id, l.ordering_key) IN (
          SELECT * FROM unnest($1::bigint[], $2::text[])))
        AND NOT EXISTS (SELECT 1 FROM ${s}.deliveries p
          WHERE p.webhook_id = l.webhook_id AND p.ordering_key = l.ordering_key
            AND p.status IN ('pending', 'delivering') AND p.next_attempt_at < 'infinity')
    ), lane AS (
      SELECT l.webhook_id, l.ordering_key FROM ${s}.ordering_lanes l
      JOIN stuck k ON k.webhook_id = l.webhook_id AND k.ordering_key = l.ordering_key
      WHERE l.unfinished > 0 AND l.blocked_delivery_id IS NULL
      ORDER BY l.webhook_id, l.ordering_key
      FOR UPDATE OF l
    ), head AS (
      SELECT DISTINCT ON (l.webhook_id, l.ordering_key) p.id, p.next_attempt_at
      FROM lane l JOIN ${s}.deliveries p ON p.webhook_id = l.webhook_id AND p.ordering_key = l.ordering_key
      WHERE p.status IN ('pending', 'delivering')
      ORDER BY l.webhook_id, l.ordering_key, p.sequence
    ), released AS (
      UPDATE ${s}.deliveries d SET next_attempt_at = $3, updated_at = $3
      FROM head h WHERE d.id = h.id AND h.next_attempt_at = 'infinity' AND d.status = 'pending'
      RETURNING d.id
    )
    SELECT count(*)::int AS released, (SELECT count(*) FROM (
      SELECT pg_notify($4, '') WHERE EXISTS (SELECT 1 FROM released)) n) AS notified
    FROM released`,
)

/**
 * Releases the parked head of each lane given, or of every open lane (maintenance's safety net for
 * a process that died between a completion and its follow-up). Returns how many it released.
 */
export async function lanesWake(sql: Sql, params: { lanes?: Lane[]; now: Date }): Promise<number> {
  const { lanes } = params
  const values = bind({
    $1: lanes ? lanes.map((l) => l.webhookId) : null,
    $2: lanes ? lanes.map((l) => l.orderingKey) : null,
    $3: params.now,
    $4: sql.channel,
  })
  const { rows } = await sql.query<{ released: number }>(wake, values)
  return Number(rows[0]?.released ?? 0)
}

/**
 * The CTEs that take deliveries cancelled in bulk (a CTE `cancelled` with `webhook_id` and
 * `ordering_key`) out of their lanes' counts, lanes locked in key order. A lane left with a
 * parked head is released by `lanesWake` (the cancelling statements are rare).
 */
export const laneCancels = (s: string) => `lane_cancelled AS (
      SELECT webhook_id, ordering_key, count(*) AS n FROM cancelled
      WHERE ordering_key IS NOT NULL GROUP BY webhook_id, ordering_key
    ), lane_cancel_locked AS (
      ${lockLanes(s, 'lane_cancelled')}
    ), lane_cancels AS (
      UPDATE ${s}.ordering_lanes l SET unfinished = greatest(0, l.unfinished - c.n)
      FROM lane_cancelled c, lane_cancel_locked k
      WHERE l.webhook_id = c.webhook_id AND l.ordering_key = c.ordering_key
        AND k.webhook_id = c.webhook_id AND k.ordering_key = c.ordering_key
      RETURNING l.webhook_id, l.ordering_key
    )`

/** A lane as the dashboard and the API show it. */
export interface LaneState {
  webhookId: number
  orderingKey: string
  lastSequence: number
  unfinished: number
  blockedDeliveryId: number | null
  blockedAt: Date | null
}

const ofDelivery = statement(
  'laneOf',
  (s) => `
    SELECT l.webhook_id, l.ordering_key, l.last_sequence, l.unfinished, l.blocked_delivery_id, l.blocked_at
    FROM ${s}.deliveries d
    JOIN ${s}.ordering_lanes l ON l.webhook_id = d.webhook_id AND l.ordering_key = d.ordering_key
    WHERE d.id = $1`,
)

/** The lane of a delivery; null for an unordered one. */
export async function laneOf(sql: Sql, params: { deliveryId: number }): Promise<LaneState | null> {
  const { rows } = await sql.query(ofDelivery, bind({ $1: params.deliveryId }))
  return rows[0] ? toLaneState(rows[0]) : null
}

const blocked = statement(
  'lanesBlocked',
  (s) => `
    SELECT l.webhook_id, l.ordering_key, l.last_sequence, l.unfinished, l.blocked_delivery_id, l.blocked_at
    FROM ${s}.ordering_lanes l JOIN ${s}.webhooks w ON w.id = l.webhook_id
    WHERE l.blocked_delivery_id IS NOT NULL AND w.deleted_at IS NULL AND ($1::text IS NULL OR w.owner = $1)
    ORDER BY l.blocked_at, l.webhook_id, l.ordering_key
    LIMIT $2`,
)

/** Blocked lanes (of one owner's webhooks, or of all when `owner` is null), longest blocked first. */
export async function lanesBlocked(
  sql: Sql,
  params: { owner: string | null; limit: number },
): Promise<LaneState[]> {
  const { rows } = await sql.query(blocked, bind({ $1: params.owner, $2: params.limit }))
  return rows.map(toLaneState)
}

function toLaneState(row: Record<string, unknown>): LaneState {
  return {
    webhookId: Number(row.webhook_id),
    orderingKey: String(row.ordering_key),
    lastSequence: Number(row.last_sequence),
    unfinished: Number(row.unfinished),
    blockedDeliveryId: row.blocked_delivery_id == null ? null : Number(row.blocked_delivery_id),
    blockedAt: row.blocked_at == null ? null : new Date(String(row.blocked_at)),
  }
}
