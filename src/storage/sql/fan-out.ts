import type { Subject } from '../../core/event-types.ts'
import type { PayloadKey } from '../../core/payload.ts'
import { typeCandidates } from '../../core/type-patterns.ts'
import type { Queryable } from '../database.ts'
import {
  type ClaimedDelivery,
  type EnqueuedDelivery,
  insertedClaimedColumns,
  toClaimedRow,
  toEnqueuedByEvent,
} from '../rows.ts'
import type { Sql } from './context.ts'
import { longerLease } from './deliveries.ts'
import { bind, statement } from './statement.ts'

/** A new event, serialized. */
export interface NewEvent {
  uuid: string
  type: string
  dataJson: string
  payloadKey: PayloadKey
  subject: Subject | null
  /** The W3C trace context it is published under (`traceparent[ tracestate]`); null when untraced. */
  traceContext: string | null
  /** Its idempotency key: stored with it, unless the key is live already (then nothing is stored). */
  idempotency?: IdempotencyKey | null
  /** Its ordering key: each of its deliveries joins the lane (webhook, key), in publish order. */
  orderingKey?: string | null
}

/** A publish's idempotency key, its owner, and the hash of what it published. */
export interface IdempotencyKey {
  owner: string
  key: string
  requestHash: string
  /** A stored key created before this is expired: it is taken over. */
  expiredBefore: Date
}

/** What an enqueue made: the deliveries of each event, by event uuid, and those it claimed. */
export interface Enqueued {
  deliveries: Map<string, EnqueuedDelivery[]>
  claimed: ClaimedDelivery[]
}

/** Whether webhook `w` is rate-governed now (its deliveries are never claimed as they are inserted). */
const rated = (s: string, w: string) =>
  `EXISTS (SELECT 1 FROM ${s}.webhook_rates r WHERE r.webhook_id = ${w}.id AND r.rate IS NOT NULL)`

/** The webhooks' own filters on the event's data (compiled conditions; see filters_match). */
const filtersMatch = (s: string, data: string) =>
  `(w.conditions IS NULL OR ${s}.filters_match(w.conditions, ${data}::jsonb))`

/** Whether webhook `w`'s config matches a config filter (`{"a__b": value}`, as jsonb). */
const configMatches = (filter: string) => `(${filter}::jsonb IS NULL OR NOT EXISTS (
    SELECT 1 FROM jsonb_each(${filter}::jsonb) f
    WHERE w.config #> string_to_array(f.key, '__') IS DISTINCT FROM f.value))`

/** The live webhooks of an event type whose config and filters match (placeholders given). */
const liveTargets = (s: string, type: string, filter: string, data: string, columns = 'w.id') =>
  `SELECT ${columns} FROM ${s}.webhooks w
   WHERE w.event_types && (SELECT ${s}.type_patterns(${type})) AND w.is_active AND w.deleted_at IS NULL
     AND ${configMatches(filter)} AND ${filtersMatch(s, data)}`

/**
 * Stores the idempotency keys of `rows` (`uuid`, `key_owner`, `key`, `request_hash`), taking over
 * one past its lifetime (created before `expiredBefore`); `keyed` returns the uuids whose key was
 * stored. A concurrent publish of the same key waits for this one to commit, then stores nothing.
 */
const idempotencyKeys = (s: string, rows: string, now: string, expiredBefore: string) => `keyed AS (
    INSERT INTO ${s}.idempotency_keys AS k (owner, key, request_hash, event_uuid, created_at)
    SELECT r.key_owner, r.key, r.request_hash, r.uuid, ${now} FROM ${rows} r WHERE r.key IS NOT NULL
    ON CONFLICT (owner, key) DO UPDATE SET request_hash = excluded.request_hash,
      event_uuid = excluded.event_uuid, created_at = excluded.created_at
      WHERE k.created_at < ${expiredBefore}
    RETURNING event_uuid AS uuid
  )`

/**
 * The lanes of keyed targets (`webhook_id`, `ordering_key`, and `n`, their order in the statement):
 * each lane's row is upserted, its last sequence and unfinished count grown by its new deliveries,
 * in lane order (so that concurrent publishers of several lanes cannot deadlock). Its row lock
 * holds other publishers of the lane until this one commits, so sequence order is commit order.
 * `sequenced` gives every target its `sequence` (null without a key) and whether it is `parked`:
 * all but the first new delivery of a lane that had nothing unfinished wait for their turn.
 */
const lanes = (s: string, targets: string) => `counted AS (
    SELECT webhook_id, ordering_key, count(*) AS n FROM ${targets}
    WHERE ordering_key IS NOT NULL GROUP BY webhook_id, ordering_key
  ), lanes AS (
    INSERT INTO ${s}.ordering_lanes AS l (webhook_id, ordering_key, last_sequence, unfinished)
    SELECT webhook_id, ordering_key, n, n FROM counted ORDER BY webhook_id, ordering_key
    ON CONFLICT (webhook_id, ordering_key) DO UPDATE SET last_sequence = l.last_sequence + excluded.last_sequence,
      unfinished = l.unfinished + excluded.unfinished
    RETURNING l.webhook_id, l.ordering_key, l.last_sequence, l.unfinished
  ), sequenced AS (
    SELECT t.*, l.last_sequence - c.n + t.k AS sequence,
      coalesce(l.unfinished - c.n > 0 OR t.k > 1, false) AS parked
    FROM (SELECT x.*, row_number() OVER (PARTITION BY x.webhook_id, x.ordering_key ORDER BY x.n) AS k
      FROM ${targets} x) t
    LEFT JOIN counted c ON c.webhook_id = t.webhook_id AND c.ordering_key = t.ordering_key
    LEFT JOIN lanes l ON l.webhook_id = t.webhook_id AND l.ordering_key = t.ordering_key
  )`

// Workers are woken for deliveries left due, not for those the statement claimed or parked.
const notify = `notified AS (
    SELECT pg_notify($10, '') AS n
    WHERE EXISTS (SELECT 1 FROM inserted WHERE status = 'pending' AND next_attempt_at < 'infinity'))`

// Any number of events, each fanned out to the live webhooks of its type matching its config
// filter and their own filters, in one statement. A webhook that chose some fields gets a body of
// its own, built here. Claimed, the deliveries start out leased (next_attempt_at is the lease),
// except those of rate-governed webhooks, and those past the first $19 ($20 ordered): they start
// pending, to be claimed (within their budget).
// Ordered (a batch with ordering keys, $18), keyed deliveries join their lanes (see `lanes`), and
// those behind their lane's head start parked; unkeyed batches keep the statement without lanes.
const eventsInsertText = (claimed: boolean, ordered: boolean) => (s: string) =>
  `
  WITH given AS (
    SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
        $12::text[], $13::text[], $14::text[], $15::text[], $17::text[]${ordered ? ', $18::text[]' : ''})
      WITH ORDINALITY AS i(uuid, type, data, payload_key, subject_type, subject_id, config_filter, trace_context,
        key_owner, key, request_hash, patterns${ordered ? ', ordering_key' : ''}, n)
  ), ${idempotencyKeys(s, 'given', '$8', '$16')}, input AS (
    -- The entries that match each event's type (given, one per line: what type_patterns(type)
    -- lists, computed by the caller); the data as jsonb, parsed once per event and only when a
    -- webhook of its type has filters. An event whose idempotency key is live already is left out.
    SELECT i.*, CASE WHEN EXISTS (
        SELECT 1 FROM ${s}.webhooks f
        WHERE f.event_types && i.matching AND f.conditions IS NOT NULL AND f.is_active AND f.deleted_at IS NULL
      ) THEN i.data::jsonb END AS doc
    FROM (
      SELECT g.*, string_to_array(g.patterns, E'\n') AS matching FROM given g
      WHERE g.key IS NULL OR g.uuid IN (SELECT uuid FROM keyed)
      OFFSET 0
    ) i
  ), targets AS (
    SELECT i.n, w.id AS webhook_id, gen_random_uuid() AS uuid, w.fields,
      ${claimed ? `${rated(s, 'w')} OR row_number() OVER (ORDER BY i.n, w.id) > ${ordered ? '$20' : '$19'}` : 'false'} AS unclaimed,
      ${claimed ? `$11::timestamptz + ${longerLease('w', ordered ? '$19' : '$18')}` : '$11::timestamptz'} AS lease
      ${ordered ? ', i.ordering_key' : ''}
    FROM input i
    JOIN ${s}.webhooks w ON w.event_types && i.matching AND w.is_active AND w.deleted_at IS NULL
    WHERE (i.config_filter IS NULL OR NOT EXISTS (
      SELECT 1 FROM jsonb_each(i.config_filter::jsonb) f
      WHERE w.config #> string_to_array(f.key, '__') IS DISTINCT FROM f.value))
      AND ${filtersMatch(s, 'i.doc')}
  ), event AS (
    INSERT INTO ${s}.events (uuid, type, data, payload_key, subject_type, subject_id, trace_context, config_filter,
      created_at)
    SELECT i.uuid, i.type, i.data::json, i.payload_key, i.subject_type, i.subject_id, i.trace_context,
      i.config_filter::jsonb, $8 FROM input i
    WHERE EXISTS (SELECT 1 FROM targets t WHERE t.n = i.n)
    ORDER BY i.n
    RETURNING id, uuid
  ), ${ordered ? `${lanes(s, 'targets')}, ` : ''}inserted AS (
    INSERT INTO ${s}.deliveries (uuid, event_id, webhook_id, status, next_attempt_at, body, created_at, updated_at
      ${ordered ? ', ordering_key, sequence' : ''})
    SELECT t.uuid, e.id, t.webhook_id, CASE WHEN ${ordered ? 't.parked OR ' : ''}t.unclaimed THEN 'pending' ELSE $9 END,
      CASE ${ordered ? `WHEN t.parked THEN 'infinity'::timestamptz ` : ''}WHEN t.unclaimed THEN $8 ELSE t.lease END,
      CASE WHEN t.fields IS NOT NULL THEN ('{"event":{"type":' || to_json(i.type)::text || ',"uuid":"'
        || replace(t.uuid::text, '-', '') || '"},"' || i.payload_key || '":'
        || ${s}.pick_fields(i.data::json, t.fields) || '}')::json END,
      $8, $8${ordered ? ', t.ordering_key, t.sequence' : ''}
    FROM ${ordered ? 'sequenced' : 'targets'} t JOIN input i ON i.n = t.n JOIN event e ON e.uuid = i.uuid
    ORDER BY t.n, t.webhook_id
    RETURNING id, uuid, webhook_id, event_id, status, next_attempt_at, retry_count, body, created_at,
      ordering_key, sequence
  ), ${notify}
  ${
    claimed
      ? `SELECT d.id, d.uuid::text AS uuid, d.next_attempt_at AS lease, d.retry_count, d.body::text AS body,
           i.type AS event_type, i.data, i.payload_key, i.subject_id, d.webhook_id,
           w.updated_at AS webhook_updated_at, e.uuid::text AS event_uuid,
           d.created_at, i.trace_context, w.failing_since IS NOT NULL AS webhook_failing, d.status,
           d.ordering_key, d.sequence
         FROM inserted d JOIN event e ON e.id = d.event_id JOIN input i ON i.uuid = e.uuid
         JOIN ${s}.webhooks w ON w.id = d.webhook_id LEFT JOIN notified ON true`
      : `SELECT d.id, d.uuid::text AS uuid, d.webhook_id, e.uuid::text AS event_uuid
         FROM inserted d JOIN event e ON e.id = d.event_id LEFT JOIN notified ON true`
  }`

const insertEvents = statement('eventsInsert', eventsInsertText(false, false))
const insertEventsClaimed = statement('eventsInsertClaimed', eventsInsertText(true, false))
const insertEventsOrdered = statement('eventsInsertOrdered', eventsInsertText(false, true))
const insertEventsOrderedClaimed = statement('eventsInsertOrderedClaimed', eventsInsertText(true, true))

/**
 * Stores events and one delivery per matching webhook, all in one statement, and wakes workers at
 * commit. With `lease`, the deliveries start out claimed. Runs on `tx` when given.
 */
export async function eventsInsert(
  sql: Sql,
  params: {
    tx?: Queryable
    events: { event: NewEvent; configFilter: Record<string, unknown> | null }[]
    now: Date
    lease?: Date
    /** With `lease`, how many deliveries to claim at most (the rest start pending). @default all */
    claimLimit?: number
    /** The service's read timeout (ms), which a webhook's own timeout replaces. @default 10000 */
    readTimeoutMs?: number
  },
): Promise<Enqueued> {
  const { events, lease } = params
  const values = bind({
    $1: events.map(({ event }) => event.uuid),
    $2: events.map(({ event }) => event.type),
    $3: events.map(({ event }) => event.dataJson),
    $4: events.map(({ event }) => event.payloadKey),
    $5: events.map(({ event }) => event.subject?.type ?? null),
    $6: events.map(({ event }) => event.subject?.id ?? null),
    $7: events.map(({ configFilter }) => (configFilter ? JSON.stringify(configFilter) : null)),
    $8: params.now,
    $9: lease ? 'delivering' : 'pending',
    $10: sql.channel,
    $11: lease ?? params.now,
    $12: events.map(({ event }) => event.traceContext),
    $13: events.map(({ event }) => event.idempotency?.owner ?? null),
    $14: events.map(({ event }) => event.idempotency?.key ?? null),
    $15: events.map(({ event }) => event.idempotency?.requestHash ?? null),
    // A batch holds at most one key (a keyed publish is never batched): its lifetime is the batch's.
    $16: events.find(({ event }) => event.idempotency)?.event.idempotency?.expiredBefore ?? params.now,
    // The entries that match each type, as type_patterns(type) lists them, without its cost per event.
    $17: events.map(({ event }) => typeCandidates(event.type).join('\n')),
  })
  const ordered = events.some(({ event }) => event.orderingKey != null)
  if (ordered) values.push(events.map(({ event }) => event.orderingKey ?? null))
  // Claimed, a webhook's own timeout lengthens its deliveries' leases (see longerLease).
  if (lease) values.push((params.readTimeoutMs ?? 10_000) / 1000, params.claimLimit ?? null)
  const text = ordered
    ? lease
      ? insertEventsOrderedClaimed
      : insertEventsOrdered
    : lease
      ? insertEventsClaimed
      : insertEvents
  const { rows } = await sql.query(text, values, {
    tx: params.tx,
    prepare: true,
  })
  return {
    deliveries: toEnqueuedByEvent(rows),
    claimed: lease ? await claimedOf(sql, rows) : [],
  }
}

/** The deliveries an enqueue claimed: all it inserted but those left pending for their rate limit. */
function claimedOf(sql: Sql, rows: Record<string, unknown>[]): Promise<ClaimedDelivery[]> {
  const claimed = rows.filter((row) => row.status === 'delivering')
  return sql.webhooks.attach(sql, claimed.map(toClaimedRow))
}

// One event whose every delivery has its own body (a customized payload); as above otherwise.
const eventInsertBodiesText = (claimed: boolean, ordered: boolean) => (s: string) =>
  `
  WITH given AS (
    SELECT $1::uuid AS uuid, $16::text AS key_owner, $17::text AS key, $18::text AS request_hash
  ), ${idempotencyKeys(s, 'given', '$7', '$19')}, targets AS (
    SELECT b.uuid, b.webhook_id AS id, b.body
      , ${claimed ? rated(s, 'b').replace('b.id', 'b.webhook_id') : 'false'} AS rated,
      ${
        claimed
          ? `$9::timestamptz + coalesce((SELECT ${longerLease('w', ordered ? '$21' : '$20')} FROM ${s}.webhooks w
              WHERE w.id = b.webhook_id), interval '0')`
          : '$9::timestamptz'
      } AS lease${ordered ? ', b.webhook_id, $20::text AS ordering_key, 1 AS n' : ''}
    FROM unnest($12::uuid[], $13::bigint[], $14::text[]) AS b(uuid, webhook_id, body)
    WHERE b.webhook_id IN (${liveTargets(s, '$2', '$11', '$3')})
      AND ($17::text IS NULL OR EXISTS (SELECT 1 FROM keyed))
  ), event AS (
    INSERT INTO ${s}.events (uuid, type, data, payload_key, subject_type, subject_id, trace_context, config_filter,
      created_at)
    SELECT $1, $2, $3::json, $4, $5, $6, $15, $11::jsonb, $7 WHERE EXISTS (SELECT 1 FROM targets)
    RETURNING id
  ), ${ordered ? `${lanes(s, 'targets')}, ` : ''}inserted AS (
    INSERT INTO ${s}.deliveries (uuid, event_id, webhook_id, status, next_attempt_at, body, created_at, updated_at
      ${ordered ? ', ordering_key, sequence' : ''})
    SELECT targets.uuid, event.id, targets.id,
      CASE WHEN ${ordered ? 'targets.parked OR ' : ''}targets.rated THEN 'pending' ELSE $8 END,
      CASE ${ordered ? `WHEN targets.parked THEN 'infinity'::timestamptz ` : ''}WHEN targets.rated THEN $7
        ELSE targets.lease END, targets.body::json, $7, $7${ordered ? ', targets.ordering_key, targets.sequence' : ''}
    FROM event, ${ordered ? 'sequenced' : ''} targets
    RETURNING *
  ), ${notify}
  ${
    claimed
      ? `SELECT ${insertedClaimedColumns}, $1::text AS event_uuid, d.status FROM inserted d
         JOIN ${s}.webhooks w ON w.id = d.webhook_id LEFT JOIN notified ON true`
      : `SELECT inserted.id, inserted.uuid::text AS uuid, inserted.webhook_id, $1::text AS event_uuid
         FROM inserted LEFT JOIN notified ON true`
  }`

const insertBodies = statement('eventInsertBodies', eventInsertBodiesText(false, false))
const insertBodiesClaimed = statement('eventInsertBodiesClaimed', eventInsertBodiesText(true, false))
const insertBodiesOrdered = statement('eventInsertBodiesOrdered', eventInsertBodiesText(false, true))
const insertBodiesOrderedClaimed = statement(
  'eventInsertBodiesOrderedClaimed',
  eventInsertBodiesText(true, true),
)

/**
 * Stores one event whose every delivery has its own body: one delivery per body whose webhook is
 * still live and matching. Otherwise as {@link eventsInsert}.
 */
export async function eventInsertBodies(
  sql: Sql,
  params: {
    tx?: Queryable
    event: NewEvent
    configFilter: Record<string, unknown> | null
    bodies: { uuid: string; webhookId: number; body: string }[]
    now: Date
    lease?: Date
    /** The service's read timeout (ms), which a webhook's own timeout replaces. @default 10000 */
    readTimeoutMs?: number
  },
): Promise<Enqueued> {
  const { event, lease, bodies } = params
  const values = bind({
    $1: event.uuid,
    $2: event.type,
    $3: event.dataJson,
    $4: event.payloadKey,
    $5: event.subject?.type ?? null,
    $6: event.subject?.id ?? null,
    $7: params.now,
    $8: lease ? 'delivering' : 'pending',
    $9: lease ?? params.now,
    $10: sql.channel,
    $11: params.configFilter ? JSON.stringify(params.configFilter) : null,
    $12: bodies.map((b) => b.uuid),
    $13: bodies.map((b) => b.webhookId),
    $14: bodies.map((b) => b.body),
    $15: event.traceContext,
    $16: event.idempotency?.owner ?? null,
    $17: event.idempotency?.key ?? null,
    $18: event.idempotency?.requestHash ?? null,
    $19: event.idempotency?.expiredBefore ?? params.now,
  })
  const ordered = event.orderingKey != null
  if (ordered) values.push(event.orderingKey)
  if (lease) values.push((params.readTimeoutMs ?? 10_000) / 1000)
  const text = ordered
    ? lease
      ? insertBodiesOrderedClaimed
      : insertBodiesOrdered
    : lease
      ? insertBodiesClaimed
      : insertBodies
  const { rows } = await sql.query(text, values, {
    tx: params.tx,
  })
  return {
    deliveries: toEnqueuedByEvent(rows),
    claimed: lease ? await claimedOf(sql, rows) : [],
  }
}

const targets = statement('webhookTargets', (s) => liveTargets(s, '$1', '$2', '$3', 'w.id, w.fields'))

/** The live webhooks an event of this type, with this data, would be delivered to, with their chosen fields. */
export async function webhookTargets(
  sql: Sql,
  params: {
    tx?: Queryable
    eventType: string
    configFilter: Record<string, unknown> | null
    dataJson: string
  },
): Promise<{ webhookId: number; fields: string[] | null }[]> {
  const values = bind({
    $1: params.eventType,
    $2: params.configFilter ? JSON.stringify(params.configFilter) : null,
    $3: params.dataJson,
  })
  const { rows } = await sql.query(targets, values, { tx: params.tx })
  return rows.map((row) => ({ webhookId: Number(row.id), fields: (row.fields as string[] | null) ?? null }))
}

// Compiles a filter's regular expression as the fan-out will: an invalid one raises.
const patternCheck = statement('patternCheck', () => `SELECT '' ~ $1 AS matches`)

/** The `like` patterns PostgreSQL cannot compile, each with its error. */
export async function patternProblems(sql: Sql, patterns: string[]): Promise<Map<string, string>> {
  const problems = new Map<string, string>()
  for (const pattern of new Set(patterns)) {
    try {
      await sql.query(patternCheck, bind({ $1: pattern }))
    } catch (error) {
      problems.set(pattern, (error as Error).message)
    }
  }
  return problems
}
