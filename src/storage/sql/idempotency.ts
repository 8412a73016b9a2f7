import type { Queryable } from '../database.ts'
import type { EnqueuedDelivery } from '../rows.ts'
import type { Sql } from './context.ts'
import { bind, statement } from './statement.ts'

/** A stored idempotency key: what its first publish published, and the deliveries it made. */
export interface StoredPublish {
  requestHash: string
  /** The uuid of the first publish's event (not stored when it matched no webhook). */
  eventUuid: string
  deliveries: EnqueuedDelivery[]
}

const get = statement(
  'idempotencyKeyGet',
  (s) => `
    SELECT k.request_hash, k.event_uuid::text AS event_uuid,
      coalesce((SELECT json_agg(json_build_object('id', d.id, 'uuid', d.uuid, 'webhook_id', d.webhook_id) ORDER BY d.id)
        FROM ${s}.events e JOIN ${s}.deliveries d ON d.event_id = e.id WHERE e.uuid = k.event_uuid), '[]') AS deliveries
    FROM ${s}.idempotency_keys k WHERE k.owner = $1 AND k.key = $2`,
)

/** The first publish of a live key, as a repeat answers it; null when the key is not stored. */
export async function idempotencyKeyGet(
  sql: Sql,
  params: { owner: string; key: string; tx?: Queryable },
): Promise<StoredPublish | null> {
  const { rows } = await sql.query(get, bind({ $1: params.owner, $2: params.key }), { tx: params.tx })
  const row = rows[0]
  if (!row) return null
  const raw = row.deliveries
  const deliveries = (typeof raw === 'string' ? JSON.parse(raw) : raw) as {
    id: number
    uuid: string
    webhook_id: number
  }[]
  return {
    requestHash: String(row.request_hash),
    eventUuid: String(row.event_uuid),
    deliveries: deliveries.map((d) => ({ id: Number(d.id), uuid: d.uuid, webhookId: Number(d.webhook_id) })),
  }
}

const expire = statement(
  'idempotencyKeysExpire',
  (s) => `
    DELETE FROM ${s}.idempotency_keys WHERE (owner, key) IN (
      SELECT owner, key FROM ${s}.idempotency_keys WHERE created_at < $1 ORDER BY created_at LIMIT $2)
    RETURNING 1`,
)

/** Deletes up to `limit` keys created before `before`; returns how many. */
export async function idempotencyKeysExpire(
  sql: Sql,
  params: { before: Date; limit: number },
): Promise<number> {
  const { rows } = await sql.query(expire, bind({ $1: params.before, $2: params.limit }))
  return rows.length
}
