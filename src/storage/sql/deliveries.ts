import type { Delivery } from '../../core/delivery.ts'
import type { DeliveryStatus } from '../../core/delivery-state.ts'
import { slotHorizonMs } from '../../core/rate-limit.ts'
import type { Actor } from '../../core/webhook.ts'
import { type ClaimedDelivery, claimedColumns, deliveryColumns, toClaimedRow, toDelivery } from '../rows.ts'
import type { Sql } from './context.ts'
import { bind, eventTypeScope, ownerScope, statement } from './statement.ts'

export interface DeliveryFilter {
  actor: Actor
  webhookId?: number
  eventType?: string
  status?: DeliveryStatus
  uuid?: string
  lastStatus?: number
  createdAfter?: Date
  createdBefore?: Date
  /** Deliveries not attempted yet (dj-whisperer's event queue). */
  unattempted?: boolean
  /** Delivered ones only (true) or all others (false). */
  delivered?: boolean
  limit: number
  /** Keyset pagination: only ids below this one (lists are newest first). */
  beforeId?: number
}

/**
 * How much longer than the service's a lease must be for webhook `w`, whose own timeout may exceed
 * the service's read timeout (`read`, seconds): an attempt waits up to twice the read timeout (the
 * headers, then the body), and leases are twice the longest attempt.
 */
export const longerLease = (w: string, read: string) =>
  `greatest(0, 4 * (coalesce(${w}.timeout_seconds, ${read}) - ${read})) * interval '1 second'`

// Deliveries of rate-governed webhooks (those with a rate row in force) take send slots from their
// webhook's budget: one every 1/rate seconds from `next_slot_at` (a generic cell rate algorithm,
// without burst), handed out up to $4 seconds ahead. Each is claimed with its slot (`slot_at`), at
// which the worker sends it. The rest are held back: pending again, due $4 seconds before the
// slots that follow the ones already promised (`paced_until`), so that the claim that takes them
// finds their slots within its reach and no slot passes unused; no attempt or retry is counted. Rate rows are
// locked in webhook order, so concurrent claims cannot deadlock and share one budget. Unlimited
// webhooks' deliveries only pass a look-up in the (small) rate table.
// A webhook's own timeout lengthens its deliveries' leases by the longer attempt it allows ($5
// the service's read timeout, in seconds); a slot ahead lengthens them by the wait.
const claim = statement(
  'deliveryClaim',
  (s) => `
    WITH due AS (
      SELECT id, webhook_id, next_attempt_at FROM ${s}.deliveries
      WHERE status IN ('pending', 'delivering') AND next_attempt_at <= $1
      ORDER BY next_attempt_at
      LIMIT $2
      FOR UPDATE SKIP LOCKED
    ), wanted AS (
      SELECT due.webhook_id, count(*) AS n
      FROM due JOIN ${s}.webhook_rates r ON r.webhook_id = due.webhook_id AND r.rate IS NOT NULL
      GROUP BY due.webhook_id
    ), locked AS (
      SELECT r.webhook_id, r.rate, greatest(r.next_slot_at, $1) AS start, r.paced_until, wanted.n
      FROM ${s}.webhook_rates r JOIN wanted ON wanted.webhook_id = r.webhook_id
      WHERE r.rate IS NOT NULL
      ORDER BY r.webhook_id
      FOR UPDATE OF r
    ), budget AS (
      SELECT l.*, least(l.n, greatest(0,
          floor(extract(epoch FROM $1::timestamptz - l.start) * l.rate + $4 * l.rate) + 1))::int AS granted
      FROM locked l
    ), slots AS (
      SELECT b.*, b.start + b.granted / b.rate * interval '1 second' AS granted_until FROM budget b
    ), taken AS (
      UPDATE ${s}.webhook_rates r SET next_slot_at = b.granted_until, granted = r.granted + b.granted,
        paced_until = CASE WHEN b.n > b.granted
          THEN greatest(b.paced_until, b.granted_until) + (b.n - b.granted) / b.rate * interval '1 second'
          ELSE r.paced_until END
      FROM slots b WHERE r.webhook_id = b.webhook_id
    ), ranked AS (
      SELECT due.id, b.granted, b.rate, b.start, greatest(b.paced_until, b.granted_until) AS pace_from,
        row_number() OVER (PARTITION BY due.webhook_id ORDER BY due.next_attempt_at, due.id) AS k
      FROM due JOIN slots b ON b.webhook_id = due.webhook_id
    ), held AS (
      UPDATE ${s}.deliveries d SET status = 'pending',
        next_attempt_at = greatest($1::timestamptz,
          r.pace_from + ((r.k - r.granted - 1) / r.rate - $4) * interval '1 second')
      FROM ranked r WHERE d.id = r.id AND r.k > r.granted
    ), claimed AS (
      SELECT due.id, r.id IS NOT NULL AS rated, r.rate AS slot_rate,
        CASE WHEN r.id IS NOT NULL THEN r.start + (r.k - 1) / r.rate * interval '1 second' END AS slot_at
      FROM due LEFT JOIN ranked r ON r.id = due.id
      WHERE r.id IS NULL OR r.k <= r.granted
    )
    UPDATE ${s}.deliveries d SET status = 'delivering',
      next_attempt_at = CASE WHEN c.slot_at IS NULL AND w.timeout_seconds IS NULL THEN $3::timestamptz
        ELSE $3::timestamptz + greatest(interval '0', coalesce(c.slot_at - $1::timestamptz, interval '0'))
          + ${longerLease('w', '$5')} END
    FROM claimed c, ${s}.events e, ${s}.webhooks w
    WHERE d.id = c.id AND e.id = d.event_id AND w.id = d.webhook_id
    RETURNING ${claimedColumns}, c.rated, c.slot_at, c.slot_rate`,
)

/**
 * Claims up to `limit` due deliveries (pending ones, and delivering ones whose lease expired) with
 * `FOR UPDATE SKIP LOCKED`, leasing them until `leaseUntil` (longer for a webhook whose own
 * timeout is longer than the service's `readTimeoutMs` (default 10 s), or whose slot is ahead). Rate-governed
 * webhooks' deliveries are claimed as their budget allows, each with its send slot (`notBefore`),
 * and the others are held back in the queue. One prepared statement.
 */
export async function deliveryClaim(
  sql: Sql,
  params: { limit: number; now: Date; leaseUntil: Date; readTimeoutMs?: number },
): Promise<ClaimedDelivery[]> {
  const values = bind({
    $1: params.now,
    $2: params.limit,
    $3: params.leaseUntil,
    $4: slotHorizonMs / 1000,
    $5: (params.readTimeoutMs ?? 10_000) / 1000,
  })
  const { rows } = await sql.query(claim, values, { prepare: true })
  return sql.webhooks.attach(sql, rows.map(toClaimedRow))
}

/**
 * The CTEs that decide whether delivery $1 may be sent again by hand without overtaking its lane
 * (`turn`: `free` when unordered; `head` when it is its lane's head; `blocked` when its blocked lane
 * waits for it; `enter` when it is finished and its lane idle: it joins the lane at the back, with
 * the next sequence; null otherwise), its lane's row locked.
 */
const laneTurn = (s: string) => `lane AS (
      SELECT l.webhook_id, l.ordering_key, l.last_sequence, l.unfinished, l.blocked_delivery_id
      FROM ${s}.deliveries d
      JOIN ${s}.ordering_lanes l ON l.webhook_id = d.webhook_id AND l.ordering_key = d.ordering_key
      WHERE d.id = $1
      FOR UPDATE OF l
    ), turn AS (
      SELECT d.id, l.last_sequence, CASE WHEN d.ordering_key IS NULL THEN 'free'
        WHEN l.blocked_delivery_id = d.id THEN 'blocked'
        WHEN d.status IN ('pending', 'delivering') AND d.next_attempt_at < 'infinity' THEN 'head'
        WHEN d.status IN ('delivered', 'failed', 'cancelled') AND l.unfinished = 0 THEN 'enter' END AS turn
      FROM ${s}.deliveries d LEFT JOIN lane l ON true
      WHERE d.id = $1
    )`

/** The delivery's new sequence when it joins its lane at the back (see `laneTurn`). */
const enteredSequence = `CASE WHEN t.turn = 'enter' THEN t.last_sequence + 1 ELSE d.sequence END`

/** Moves the lane of a delivery sent again by hand (a CTE `taken`: `webhook_id`, `ordering_key`, `turn`). */
const laneTaken = (s: string) => `lane_taken AS (
      UPDATE ${s}.ordering_lanes l SET
        last_sequence = l.last_sequence + CASE WHEN c.turn = 'enter' THEN 1 ELSE 0 END,
        unfinished = l.unfinished + CASE WHEN c.turn = 'enter' THEN 1 ELSE 0 END,
        blocked_delivery_id = CASE WHEN c.turn = 'blocked' THEN NULL ELSE l.blocked_delivery_id END,
        blocked_at = CASE WHEN c.turn = 'blocked' THEN NULL ELSE l.blocked_at END
      FROM taken c
      WHERE l.webhook_id = c.webhook_id AND l.ordering_key = c.ordering_key AND c.turn IN ('enter', 'blocked')
    )`

const claimOne = statement(
  'deliveryClaimOne',
  (s) => `
    WITH ${laneTurn(s)}, taken AS (
      UPDATE ${s}.deliveries d SET status = 'delivering',
        next_attempt_at = $4::timestamptz + ${longerLease('w', '$5')}, sequence = ${enteredSequence}
      FROM ${s}.events e, ${s}.webhooks w, turn t
      WHERE d.id = $1 AND e.id = d.event_id AND w.id = d.webhook_id AND w.deleted_at IS NULL AND t.id = d.id
        AND t.turn IS NOT NULL
        AND d.status = ANY($2::text[]) AND NOT (d.status = 'delivering' AND d.next_attempt_at > $3)
      RETURNING ${claimedColumns}, t.turn
    ), ${laneTaken(s)}
    SELECT * FROM taken`,
)

/**
 * Claims one delivery for a manual attempt, whatever its due time, if its status is one of
 * `statuses` and no live lease holds it; a webhook's own timeout lengthens the lease as in
 * {@link deliveryClaim}. A rate limit does not hold it back: it is an explicit, single attempt.
 * An ordered delivery is claimed only when that does not overtake its lane (see `laneTurn`).
 */
export async function deliveryClaimOne(
  sql: Sql,
  params: { id: number; statuses: DeliveryStatus[]; now: Date; leaseUntil: Date; readTimeoutMs?: number },
): Promise<ClaimedDelivery | null> {
  const values = bind({
    $1: params.id,
    $2: params.statuses,
    $3: params.now,
    $4: params.leaseUntil,
    $5: (params.readTimeoutMs ?? 10_000) / 1000,
  })
  const { rows } = await sql.query(claimOne, values)
  if (!rows[0]) return null
  const [claimed] = await sql.webhooks.attach(sql, [toClaimedRow(rows[0])])
  return claimed ?? null
}

const requeue = statement(
  'deliveryRequeue',
  (s) => `
    WITH ${laneTurn(s)}, taken AS (
      UPDATE ${s}.deliveries d SET status = 'pending', next_attempt_at = $3, updated_at = $3,
        sequence = ${enteredSequence}
      FROM turn t
      WHERE d.id = $1 AND t.id = d.id AND t.turn IS NOT NULL AND d.status = ANY($2::text[])
        AND EXISTS (SELECT 1 FROM ${s}.webhooks w WHERE w.id = d.webhook_id AND w.deleted_at IS NULL)
      RETURNING d.id, d.webhook_id, d.ordering_key, t.turn
    ), ${laneTaken(s)}
    SELECT id, pg_notify($4, '') FROM taken`,
)

/**
 * Makes a delivery due now (an asynchronous manual re-send) if its status is one of `statuses`, and
 * it does not overtake its lane (see `laneTurn`).
 */
export async function deliveryRequeue(
  sql: Sql,
  params: { id: number; statuses: DeliveryStatus[]; now: Date },
): Promise<boolean> {
  const values = bind({ $1: params.id, $2: params.statuses, $3: params.now, $4: sql.channel })
  const { rows } = await sql.query(requeue, values)
  return rows.length > 0
}

const release = statement(
  'deliveryRelease',
  (s) => `
    UPDATE ${s}.deliveries d SET status = 'pending', next_attempt_at = r.at
    FROM unnest($1::bigint[], $2::timestamptz[], $3::timestamptz[]) AS r(id, lease, at)
    WHERE d.id = r.id AND d.status = 'delivering' AND d.next_attempt_at = r.lease`,
)

/** Gives claimed deliveries back without an attempt, each due again at its `at`. */
export async function deliveryRelease(
  sql: Sql,
  params: { releases: { id: number; lease: Date; at: Date }[] },
): Promise<void> {
  const { releases } = params
  if (releases.length === 0) return
  await sql.query(
    release,
    bind({
      $1: releases.map((r) => r.id),
      $2: releases.map((r) => r.lease),
      $3: releases.map((r) => r.at),
    }),
  )
}

const statuses = statement(
  'deliveryStatuses',
  (s) => `SELECT id, status FROM ${s}.deliveries WHERE id = ANY($1::bigint[])`,
)

/** The current status of each delivery, by id. */
export async function deliveryStatuses(
  sql: Sql,
  params: { ids: number[] },
): Promise<Map<number, DeliveryStatus>> {
  const { rows } = await sql.query(statuses, bind({ $1: params.ids }))
  return new Map(rows.map((row) => [Number(row.id), row.status as DeliveryStatus]))
}

const nextDue = statement(
  'deliveryNextDue',
  (s) =>
    `SELECT min(next_attempt_at) AS at FROM ${s}.deliveries
     WHERE status IN ('pending', 'delivering') AND next_attempt_at < 'infinity'`,
)

/** The earliest time a delivery becomes due (or its lease expires); null if none is unfinished. */
export async function deliveryNextDue(sql: Sql): Promise<Date | null> {
  const { rows } = await sql.query<{ at: Date | null }>(nextDue, [], { prepare: true })
  return rows[0]?.at ? new Date(rows[0].at) : null
}

const get = statement(
  'deliveryGet',
  (s) => `
    SELECT ${deliveryColumns} FROM ${s}.deliveries d
    JOIN ${s}.events e ON e.id = d.event_id
    JOIN ${s}.webhooks w ON w.id = d.webhook_id
    WHERE ($1::bigint IS NULL OR d.id = $1) AND ($2::uuid IS NULL OR d.uuid = $2)
      AND ($3::text IS NULL OR w.owner = $3) AND ($4::text[] IS NULL OR e.type = ANY($4::text[]))`,
)

export async function deliveryGet(
  sql: Sql,
  params: { id?: number; uuid?: string; actor: Actor },
): Promise<Delivery | null> {
  const values = bind({
    $1: params.id ?? null,
    $2: params.uuid ?? null,
    $3: ownerScope(params.actor),
    $4: eventTypeScope(params.actor),
  })
  const { rows } = await sql.query(get, values)
  return rows[0] ? toDelivery(rows[0]) : null
}

const list = statement(
  'deliveryList',
  (s) => `
    SELECT ${deliveryColumns} FROM ${s}.deliveries d
    JOIN ${s}.events e ON e.id = d.event_id
    JOIN ${s}.webhooks w ON w.id = d.webhook_id
    WHERE ($1::text IS NULL OR w.owner = $1)
      AND ($2::bigint IS NULL OR d.webhook_id = $2)
      AND ($3::text IS NULL OR lower(e.type) = lower($3))
      AND ($4::text IS NULL OR d.status = $4)
      AND ($5::uuid IS NULL OR d.uuid = $5)
      AND ($6::int IS NULL OR d.last_status = $6)
      AND ($7::timestamptz IS NULL OR d.created_at >= $7)
      AND ($8::timestamptz IS NULL OR d.created_at < $8)
      AND (NOT $9 OR (d.retry_count = 0 AND d.status IN ('pending', 'delivering')))
      AND ($10::bigint IS NULL OR d.id < $10)
      AND ($12::boolean IS NULL OR (d.status = 'delivered') = $12)
      AND ($13::text[] IS NULL OR e.type = ANY($13::text[]))
    ORDER BY d.id DESC
    LIMIT $11`,
)

/** Deliveries newest first, scoped to the actor's owner. */
export async function deliveryList(sql: Sql, filter: DeliveryFilter): Promise<Delivery[]> {
  const values = bind({
    $1: ownerScope(filter.actor),
    $2: filter.webhookId ?? null,
    $3: filter.eventType ?? null,
    $4: filter.status ?? null,
    $5: filter.uuid ?? null,
    $6: filter.lastStatus ?? null,
    $7: filter.createdAfter ?? null,
    $8: filter.createdBefore ?? null,
    $9: filter.unattempted ?? false,
    $10: filter.beforeId ?? null,
    $11: filter.limit,
    $12: filter.delivered ?? null,
    $13: eventTypeScope(filter.actor),
  })
  const { rows } = await sql.query(list, values)
  return rows.map(toDelivery)
}
