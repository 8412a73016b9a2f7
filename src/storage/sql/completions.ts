import type { Attempt } from '../../core/delivery.ts'
import type { DeliveryStatus } from '../../core/delivery-state.ts'
import type { Sql } from './context.ts'
import { laneMoves, lanesWake, stalledColumn } from './lanes.ts'
import {
  type Emitted,
  type OperationsOptions,
  observed,
  operationalColumns,
  operationalFanOut,
  toEmitted,
  webhookJson,
} from './operational.ts'
import { bind, statement } from './statement.ts'

/** The recorded result of one attempt, and where it leaves its delivery. */
export interface Completion {
  id: number
  lease: Date
  webhookId: number
  /** The webhook was failing when the delivery was claimed. */
  webhookFailing: boolean
  /** The target answered 410 Gone: the webhook is disabled and its pending deliveries cancelled. */
  gone: boolean
  /** The delivery has a lane (an ordering key): finishing it releases the lane's next one. */
  ordered?: boolean
  /** The attempt as it is recorded, before it has an id (and a callback's error). */
  attempt: Omit<Attempt, 'id' | 'deliveryId' | 'callbackError'>
  next: { status: 'delivered' | 'pending' | 'failed'; retryCount: number; nextAttemptAt: Date }
}

/** An attempt of input row `i` to delivery `d`, as operational events name it. */
const attemptJson = (i: string, d: string) =>
  `json_build_object('delivery_uuid', ${d}.uuid, 'at', ${i}.created_at, 'status', ${i}.http_status,
    'error_kind', ${i}.error_kind)`

/** The completions as rows, from $1-$15 and $17-$18 (one array element per completion). */
const input = `input AS (
      SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::int[], $5::timestamptz[],
        $6::int[], $7::timestamptz[], $8::int[], $9::int[], $10::text[], $11::text[], $12::text[], $13::text[],
        $14::text[], $15::boolean[], $17::bigint[], $18::boolean[])
      AS i(id, lease, status, retry_count, next_attempt_at, attempt, created_at, duration_ms, http_status,
        error_kind, error, request_headers, response_headers, response_body, response_truncated, webhook_id, gone)
    )`

/** A delivery's columns that an attempt (input row `i`) sets, besides its status; $16 now. */
const lastAttempt = `retry_count = i.retry_count, next_attempt_at = i.next_attempt_at, last_status = i.http_status,
        last_error_kind = i.error_kind, last_attempt_at = i.created_at, last_duration_ms = i.duration_ms,
        updated_at = $16`

/** The CTE that records every completion's attempt, returning its id by delivery. */
const recorded = (s: string) => `recorded AS (
      INSERT INTO ${s}.attempts (delivery_id, attempt, created_at, duration_ms, status, error_kind, error,
        request_headers, response_headers, response_body, response_truncated)
      SELECT id, attempt, created_at, duration_ms, http_status, error_kind, error, request_headers::json,
        response_headers::json, response_body, response_truncated
      FROM input
      RETURNING delivery_id, id
    )`

/** The latest attempt of a moved delivery `m`, as operational events give it. */
const lastAttemptJson = `json_build_object('delivery_uuid', m.uuid, 'at', m.last_attempt_at, 'status', m.last_status,
          'error_kind', m.last_error_kind)`

// $1-$15 and $17-$18: the completions; $16 now; $19-$21 for operational events. Ordered (a batch
// with deliveries in lanes), the lanes their heads leave are moved on in the same statement.
const completeText = (ordered: boolean) => (s: string) =>
  `
    WITH ${input}, health AS (
      SELECT webhook_id, bool_or(status = 'delivered') AS ok, min(created_at) AS failed_at, bool_or(gone) AS gone
      FROM input GROUP BY webhook_id
    ), locked AS (
      -- Only webhooks whose health changes, or that are due a failing notice, are written; locked
      -- in id order, so that concurrent workers cannot deadlock on them. Read under the lock, their
      -- state is the latest committed one, so each change is seen (and announced) by one worker.
      -- NO KEY UPDATE: a publish inserting deliveries of the webhook (whose foreign key takes KEY
      -- SHARE) is not held, so one that holds an ordered lane this statement waits for cannot deadlock.
      SELECT w.id, w.owner, w.event_types, w.target_url, w.failing_since, h.ok, h.gone, h.failed_at,
        h.gone AND w.is_active AS disabling,
        h.ok AND w.failing_since IS NOT NULL AS recovering,
        NOT h.ok AND NOT h.gone AND w.is_active AND ${observed('w')} AND (w.failing_since IS NULL
          OR coalesce(w.failing_notified_at, '-infinity') <= $16::timestamptz - interval '1 hour') AS notify_failing,
        ${observed('w')} AS observed
      FROM ${s}.webhooks w JOIN health h ON h.webhook_id = w.id
      WHERE (h.gone AND w.is_active) OR (h.ok AND w.failing_since IS NOT NULL)
        OR (NOT h.ok AND w.failing_since IS NULL)
        OR (NOT h.ok AND w.is_active AND ${observed('w')}
          AND coalesce(w.failing_notified_at, '-infinity') <= $16::timestamptz - interval '1 hour')
      ORDER BY w.id
      FOR NO KEY UPDATE OF w
    ), hooks AS (
      UPDATE ${s}.webhooks w SET
        failing_since = CASE WHEN l.ok THEN NULL ELSE coalesce(w.failing_since, l.failed_at) END,
        failing_notified_at = CASE WHEN l.ok THEN NULL WHEN l.notify_failing THEN $16 ELSE w.failing_notified_at END,
        is_active = w.is_active AND NOT l.gone,
        disabled_reason = CASE WHEN l.disabling THEN 'gone' ELSE w.disabled_reason END,
        updated_at = CASE WHEN l.disabling THEN $16 ELSE w.updated_at END
      FROM locked l
      WHERE w.id = l.id
      RETURNING w.id, l.gone
    ), moved AS (
      -- A retry is not scheduled for a webhook that is no longer active: it is cancelled.
      UPDATE ${s}.deliveries d SET
        status = CASE WHEN i.status = 'pending' AND (NOT w.is_active OR w.deleted_at IS NOT NULL OR h.gone)
          THEN 'cancelled' ELSE i.status END,
        ${lastAttempt}
      FROM input i
      JOIN ${s}.webhooks w ON w.id = i.webhook_id
      JOIN health h ON h.webhook_id = i.webhook_id
      WHERE d.id = i.id AND d.status = 'delivering' AND d.next_attempt_at = i.lease
      RETURNING d.id, d.status, d.uuid, d.event_id, d.webhook_id, d.retry_count, d.last_status,
        d.last_error_kind, d.last_attempt_at, d.created_at, d.ordering_key, d.sequence
    ), cancelled AS (
      UPDATE ${s}.deliveries SET status = 'cancelled', updated_at = $16
      WHERE webhook_id IN (SELECT id FROM hooks WHERE gone) AND status = 'pending'
      RETURNING id, webhook_id, ordering_key
    ), ${recorded(s)}, ${ordered ? `${laneMoves(s)}, ` : ''}ops AS (
      -- The webhooks' changes of state, each named with the batch's latest attempt to it ...
      SELECT l.id AS webhook_id, l.owner, t.type, t.data
      FROM locked l
      CROSS JOIN LATERAL (
        SELECT ${attemptJson('i', 'd')} AS attempt
        FROM input i JOIN ${s}.deliveries d ON d.id = i.id
        WHERE i.webhook_id = l.id ORDER BY i.created_at DESC, i.id DESC LIMIT 1
      ) a
      CROSS JOIN LATERAL (VALUES
        ('whisperer.webhook.disabled', l.disabling, json_build_object('webhook', ${webhookJson('l')},
          'reason', 'gone', 'failing_since', coalesce(l.failing_since, l.failed_at), 'attempt', a.attempt)),
        ('whisperer.webhook.failing', l.notify_failing, json_build_object('webhook', ${webhookJson('l')},
          'failing_since', coalesce(l.failing_since, l.failed_at), 'attempt', a.attempt)),
        ('whisperer.webhook.recovered', l.recovering, json_build_object('webhook', ${webhookJson('l')},
          'failing_since', l.failing_since, 'attempt', a.attempt))
      ) AS t(type, due, data)
      WHERE t.due AND l.observed
      UNION ALL
      -- ... and the deliveries that failed for good.
      -- (Read from the rows as moved: a 410 is what gives up as gone.)
      SELECT w.id, w.owner, 'whisperer.delivery.exhausted', json_build_object('webhook', ${webhookJson('w')},
        'reason', CASE WHEN m.last_status = 410 THEN 'gone' WHEN m.last_error_kind = 'blocked' THEN 'blocked'
          ELSE 'max_attempts' END,
        'delivery', json_build_object('uuid', m.uuid, 'event_type', e.type, 'attempts', m.retry_count,
          'created_at', m.created_at),
        'attempt', ${lastAttemptJson})
      FROM moved m JOIN ${s}.events e ON e.id = m.event_id JOIN ${s}.webhooks w ON w.id = m.webhook_id
      WHERE m.status = 'failed' AND ${observed('w')}${ordered ? laneBlockedOps(s) : ''}
    )${operationalFanOut(s, { now: '$16', payloadKey: '$19', operationsOwner: '$20', channel: '$21' })}
    SELECT r.delivery_id, r.id, (SELECT json_object_agg(id, status) FROM moved)::text AS statuses,
      (SELECT count(*) FROM cancelled) AS cancelled, ${operationalColumns}${ordered ? `, ${stalledColumn}` : ''}
    FROM recorded r`

/** The ops of lanes whose head failed for good under `block` (see `laneMoves`). */
const laneBlockedOps = (s: string) => `
      UNION ALL
      SELECT w.id, w.owner, 'whisperer.lane.blocked', json_build_object('webhook', ${webhookJson('w')},
        'ordering_key', m.ordering_key,
        'delivery', json_build_object('uuid', m.uuid, 'event_type', e.type, 'sequence', m.sequence,
          'attempts', m.retry_count),
        'attempt', ${lastAttemptJson})
      FROM finished f JOIN moved m ON m.id = f.id JOIN ${s}.events e ON e.id = m.event_id
      JOIN ${s}.webhooks w ON w.id = m.webhook_id
      WHERE f.blocks AND ${observed('w')}`

const complete = statement('deliveryComplete', completeText(false))
const completeOrdered = statement('deliveryCompleteOrdered', completeText(true))

// The common batch: every attempt delivered, to webhooks that were not failing when claimed, so
// no webhook's health changes and no operational event is due: only deliveries move and attempts
// are recorded. A webhook that started failing since its delivery was claimed is returned, and
// recovers in a statement of its own. $16 now; $19 how many completions.
const completeQuiet = statement(
  'deliveryCompleteQuiet',
  (s) => `
    WITH ${input}, moved AS (
      UPDATE ${s}.deliveries d SET
        status = i.status, ${lastAttempt}
      FROM input i
      WHERE d.id = i.id AND d.status = 'delivering' AND d.next_attempt_at = i.lease
      RETURNING d.id, d.status
    ), ${recorded(s)}
    -- Which moved is read only when some lease was lost. A webhook that started failing since its
    -- delivery was claimed is named, to recover in a statement of its own.
    SELECT r.delivery_id, r.id, CASE WHEN (SELECT count(*) FROM moved) < $19 THEN
        (SELECT json_object_agg(id, status) FROM moved)::text END AS statuses,
      (SELECT array_agg(w.id) FROM ${s}.webhooks w
       WHERE w.id IN (SELECT DISTINCT webhook_id FROM input) AND w.failing_since IS NOT NULL) AS failing
    FROM recorded r`,
)

/** What a batch of completions did. */
export interface Completed {
  /** The attempt id recorded for each delivery, by delivery id. */
  attemptIds: Map<number, number>
  /**
   * Where each delivery moved, by delivery id: `delivered`, `pending`, `failed`, or `cancelled` (a
   * retry for a webhook no longer active). Absent when its lease was no longer the completion's.
   */
  statuses: Map<number, DeliveryStatus>
  /** The operational events the batch caused, stored in the same statement. */
  operational: Emitted
}

/**
 * Records attempts and moves their deliveries on, all in one statement. Every attempt is inserted;
 * a delivery moves only while the completion's lease is still its own, so a worker whose lease
 * expired cannot overwrite a newer claim. In the same statement a webhook whose target answered
 * 410 is disabled, each webhook's `failing_since` follows its outcomes, and a retry due to a
 * webhook that is no longer active is cancelled instead. The operational events these changes
 * cause (a webhook failing, disabled or recovered, a delivery exhausted) are stored and fanned out
 * in the same statement.
 */
export async function deliveryComplete(
  sql: Sql,
  params: { completions: Completion[]; now: Date; operations: OperationsOptions },
): Promise<Completed> {
  const c = params.completions
  const ordered = c.some((x) => x.ordered)
  if (!ordered && c.every((x) => x.next.status === 'delivered' && !x.webhookFailing)) {
    return completeQuietly(sql, params)
  }
  const values = bind({
    ...attemptValues(c),
    $16: params.now,
    $17: c.map((x) => x.webhookId),
    $18: c.map((x) => x.gone),
    $19: params.operations.payloadKey,
    $20: params.operations.owner,
    $21: sql.channel,
  })
  const { rows } = await sql.query<{
    delivery_id: string | number
    id: string | number
    statuses: string | null
    cancelled: string | number
    stalled?: string | null
  }>(ordered ? completeOrdered : complete, values, { prepare: true })
  // Lanes whose next delivery was published while this statement ran: released in a statement of their own.
  if (rows[0]?.stalled) await lanesWake(sql, { lanes: JSON.parse(rows[0].stalled), now: params.now })
  // One JSON object for the batch (by delivery id), not a join of the two lists.
  const moved = JSON.parse(rows[0]?.statuses ?? '{}') as Record<string, DeliveryStatus>
  const statuses = new Map(Object.entries(moved).map(([id, status]) => [Number(id), status]))
  // Other pending deliveries of a webhook that answered 410, reported as every cancelling statement does.
  sql.cancelled(rows[0]?.cancelled)
  return {
    attemptIds: new Map(rows.map((row) => [Number(row.delivery_id), Number(row.id)])),
    statuses,
    operational: toEmitted(rows[0], params.now),
  }
}

/** $1-$15 of both completion statements: one array element per completion. */
function attemptValues(c: Completion[]) {
  return {
    $1: c.map((x) => x.id),
    $2: c.map((x) => x.lease),
    $3: c.map((x) => x.next.status),
    $4: c.map((x) => x.next.retryCount),
    $5: c.map((x) => x.next.nextAttemptAt),
    $6: c.map((x) => x.attempt.attempt),
    $7: c.map((x) => x.attempt.createdAt),
    $8: c.map((x) => x.attempt.durationMs),
    $9: c.map((x) => x.attempt.status),
    $10: c.map((x) => x.attempt.errorKind),
    $11: c.map((x) => x.attempt.error),
    $12: c.map((x) => JSON.stringify(x.attempt.requestHeaders)),
    $13: c.map((x) => (x.attempt.responseHeaders ? JSON.stringify(x.attempt.responseHeaders) : null)),
    $14: c.map((x) => x.attempt.responseBody),
    $15: c.map((x) => x.attempt.responseTruncated),
  }
}

/** {@link deliveryComplete} for a batch that changes no webhook's health (see `completeQuiet`). */
async function completeQuietly(
  sql: Sql,
  params: { completions: Completion[]; now: Date; operations: OperationsOptions },
): Promise<Completed> {
  const c = params.completions
  const values = bind({
    ...attemptValues(c),
    $16: params.now,
    $17: c.map((x) => x.webhookId),
    $18: c.map((x) => x.gone),
    $19: c.length,
  })
  const { rows } = await sql.query<{
    delivery_id: string | number
    id: string | number
    statuses: string | null
    failing: (string | number)[] | null
  }>(completeQuiet, values, { prepare: true })
  const failing = rows[0]?.failing ?? []
  const lost = rows[0]?.statuses != null
  const moved = JSON.parse(rows[0]?.statuses ?? '{}') as Record<string, DeliveryStatus>
  return {
    attemptIds: new Map(rows.map((row) => [Number(row.delivery_id), Number(row.id)])),
    statuses: new Map(
      lost
        ? Object.entries(moved).map(([id, status]) => [Number(id), status])
        : c.map((x) => [x.id, 'delivered' as const]),
    ),
    operational:
      failing.length > 0
        ? await webhooksRecover(sql, {
            ids: failing.map(Number),
            now: params.now,
            operations: params.operations,
          })
        : { events: [], deliveries: 0 },
  }
}

const recover = statement(
  'webhooksRecover',
  (s) => `
    WITH locked AS (
      SELECT w.id, w.owner, w.event_types, w.target_url, w.failing_since FROM ${s}.webhooks w
      WHERE w.id = ANY($1::bigint[]) AND w.failing_since IS NOT NULL
      ORDER BY w.id
      FOR UPDATE OF w
    ), hooks AS (
      UPDATE ${s}.webhooks w SET failing_since = NULL, failing_notified_at = NULL
      FROM locked l WHERE w.id = l.id
    ), ops AS (
      SELECT l.id AS webhook_id, l.owner, 'whisperer.webhook.recovered' AS type,
        json_build_object('webhook', ${webhookJson('l')}, 'failing_since', l.failing_since,
          'attempt', a.attempt) AS data
      FROM locked l
      CROSS JOIN LATERAL (
        SELECT json_build_object('delivery_uuid', d.uuid, 'at', d.last_attempt_at, 'status', d.last_status,
          'error_kind', d.last_error_kind) AS attempt
        FROM ${s}.deliveries d WHERE d.webhook_id = l.id AND d.status = 'delivered'
        ORDER BY d.id DESC LIMIT 1
      ) a
      WHERE ${observed('l')}
    )${operationalFanOut(s, { now: '$2', payloadKey: '$3', operationsOwner: '$4', channel: '$5' })}
    SELECT ${operationalColumns}`,
)

/**
 * Clears the failing state of webhooks that started failing while a success to them was under
 * way, with their `whisperer.webhook.recovered`, in one statement: the rare case the quiet
 * completion leaves to it.
 */
async function webhooksRecover(
  sql: Sql,
  params: { ids: number[]; now: Date; operations: OperationsOptions },
): Promise<Emitted> {
  const values = bind({
    $1: params.ids,
    $2: params.now,
    $3: params.operations.payloadKey,
    $4: params.operations.owner,
    $5: sql.channel,
  })
  const { rows } = await sql.query(recover, values)
  return toEmitted(rows[0], params.now)
}
