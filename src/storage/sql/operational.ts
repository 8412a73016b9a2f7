import type { OperationalEvent } from '../../core/operational-events.ts'
import type { Actor } from '../../core/webhook.ts'
import type { Sql } from './context.ts'
import { bind, eventTypeScope, ownerScope, statement } from './statement.ts'

/** A webhook as operational events name it (`w` given). */
export const webhookJson = (w: string) =>
  `json_build_object('id', ${w}.id, 'owner', ${w}.owner, 'event_type', ${w}.event_types[1],
    'event_types', ${w}.event_types, 'target_url', ${w}.target_url)`

/** Whether webhook `w` may be the subject of operational events: not one that receives them. */
export const observed = (w: string) =>
  `NOT EXISTS (SELECT 1 FROM unnest(${w}.event_types) t WHERE t LIKE 'whisperer.%')`

/** How operational events are stored: the payload key of their bodies, and who receives all of them. */
export interface OperationsOptions {
  payloadKey: string
  /** The owner whose webhooks receive the operational events of every owner's webhooks. */
  owner: string
}

/** Placeholders of the statement that embeds {@link operationalFanOut}. */
export interface FanOutParams {
  now: string
  payloadKey: string
  /** The owner whose webhooks receive every owner's operational events. */
  operationsOwner: string
  channel: string
}

/**
 * The CTEs that store the operational events of a CTE `ops (webhook_id, owner, type, data json)`,
 * in the statement of the state change that causes them, so that one is never lost nor invented.
 * Every event is stored, with its webhook as subject (the dashboard lists them); each is delivered
 * to the live webhooks of its type owned by the webhook's owner or by the operations owner, whose
 * filters match. Defines `op_events (uuid, webhook_id, type, data)`, `op_deliveries (id)` and
 * `op_notified`; starts with a comma.
 */
export const operationalFanOut = (s: string, p: FanOutParams) => `,
  op_events AS (
    SELECT gen_random_uuid() AS uuid, o.webhook_id, o.owner, o.type, o.data, ${s}.type_patterns(o.type) AS patterns
    FROM ops o
  ), op_targets AS (
    SELECT e.uuid AS event_uuid, w.id AS webhook_id, gen_random_uuid() AS uuid, w.fields
    FROM op_events e JOIN ${s}.webhooks w ON w.event_types && e.patterns AND w.is_active AND w.deleted_at IS NULL
    WHERE (w.owner = e.owner OR w.owner = ${p.operationsOwner})
      AND (w.conditions IS NULL OR ${s}.filters_match(w.conditions, e.data::jsonb))
  ), op_stored AS (
    INSERT INTO ${s}.events (uuid, type, data, payload_key, subject_type, subject_id, created_at)
    SELECT uuid, type, data, ${p.payloadKey}, 'webhook', webhook_id::text, ${p.now} FROM op_events
    RETURNING id, uuid
  ), op_deliveries AS (
    INSERT INTO ${s}.deliveries (uuid, event_id, webhook_id, status, next_attempt_at, body, created_at, updated_at)
    SELECT t.uuid, x.id, t.webhook_id, 'pending', ${p.now},
      CASE WHEN t.fields IS NOT NULL THEN ('{"event":{"type":' || to_json(e.type)::text || ',"uuid":"'
        || replace(t.uuid::text, '-', '') || '"},"' || ${p.payloadKey} || '":'
        || ${s}.pick_fields(e.data, t.fields) || '}')::json END,
      ${p.now}, ${p.now}
    FROM op_targets t JOIN op_stored x ON x.uuid = t.event_uuid JOIN op_events e ON e.uuid = t.event_uuid
    RETURNING id
  ), op_notified AS (
    SELECT pg_notify(${p.channel}, '') AS n WHERE EXISTS (SELECT 1 FROM op_deliveries)
  )`

/**
 * Columns that return what {@link operationalFanOut} did: the events (as one JSON array) and how
 * many deliveries they made. Evaluated once per statement, whatever the number of rows.
 */
export const operationalColumns = `(SELECT json_agg(json_build_object('uuid', e.uuid, 'type', e.type,
    'webhook_id', e.webhook_id, 'data', e.data,
    'deliveries', (SELECT count(*) FROM op_targets t WHERE t.event_uuid = e.uuid))) FROM op_events e)::text AS operational,
  (SELECT count(*) FROM op_deliveries) AS operational_deliveries,
  (SELECT count(*) FROM op_notified) AS operational_notified`

/** What a state change emitted. */
export interface Emitted {
  /** Each event, with the number of deliveries it made. */
  events: (OperationalEvent & { deliveries: number })[]
  /** Deliveries made for them (due now). */
  deliveries: number
}

/** Reads {@link operationalColumns} from a row; `now` is when the events were stored. */
export function toEmitted(row: Record<string, unknown> | undefined, now: Date): Emitted {
  if (!row) return { events: [], deliveries: 0 }
  const events = row.operational
    ? (JSON.parse(String(row.operational)) as {
        uuid: string
        type: string
        webhook_id: number
        data: object
        deliveries: number
      }[])
    : []
  return {
    events: events.map((event) => ({
      uuid: event.uuid,
      type: event.type as OperationalEvent['type'],
      webhookId: Number(event.webhook_id),
      data: event.data as Record<string, unknown>,
      createdAt: now,
      deliveries: Number(event.deliveries),
    })),
    deliveries: Number(row.operational_deliveries ?? 0),
  }
}

const list = statement(
  'operationalEventList',
  (s) => `
    SELECT e.uuid::text AS uuid, e.type, e.data::text AS data, e.subject_id, e.created_at
    FROM ${s}.events e JOIN ${s}.webhooks w ON w.id = e.subject_id::bigint
    WHERE e.type LIKE 'whisperer.%' AND e.subject_type = 'webhook'
      AND ($1::text IS NULL OR w.owner = $1) AND ($2::text IS NULL OR e.type = $2)
      AND ($3::timestamptz IS NULL OR e.created_at < $3)
      AND ($5::text[] IS NULL OR w.event_types <@ $5::text[])
    ORDER BY e.created_at DESC, e.id DESC
    LIMIT $4`,
)

/** The latest operational events about the actor's webhooks (every owner's for an admin), newest first. */
export async function operationalEventList(
  sql: Sql,
  params: { actor: Actor; type?: string; before?: Date; limit: number },
): Promise<OperationalEvent[]> {
  const values = bind({
    $1: ownerScope(params.actor),
    $2: params.type ?? null,
    $3: params.before ?? null,
    $4: params.limit,
    $5: eventTypeScope(params.actor),
  })
  const { rows } = await sql.query(list, values)
  return rows.map((row) => ({
    uuid: String(row.uuid),
    type: row.type as OperationalEvent['type'],
    webhookId: Number(row.subject_id),
    data: JSON.parse(String(row.data)) as Record<string, unknown>,
    createdAt: row.created_at instanceof Date ? row.created_at : new Date(String(row.created_at)),
  }))
}
