import type { Attempt, Delivery } from '../core/delivery.ts'
import type { DeliveryStatus } from '../core/delivery-state.ts'
import { WhispererError } from '../core/errors.ts'
import type { Subject } from '../core/event-types.ts'
import type { ErrorKind } from '../core/outcome.ts'
import type { PayloadKey } from '../core/payload.ts'
import type { Actor, Webhook, WebhookInput } from '../core/webhook.ts'
import { partitionStart, partitionsCovering } from './attempt-partitions.ts'
import type { Database, Queryable } from './database.ts'
import { quoteIdentifier } from './identifier.ts'
import {
  type ClaimedDelivery,
  claimedColumns,
  deliveryColumns,
  insertedClaimedColumns,
  toAttempt,
  toClaimed,
  toDelivery,
  toWebhook,
  webhookColumns,
} from './rows.ts'

export type { ClaimedDelivery } from './rows.ts'

/** A new event, serialized. */
export interface NewEvent {
  uuid: string
  type: string
  dataJson: string
  payloadKey: PayloadKey
  subject: Subject | null
}

/** A delivery created by an enqueue. */
export interface EnqueuedDelivery {
  id: number
  uuid: string
  webhookId: number
}

/** The recorded result of one attempt, and where it leaves its delivery. */
export interface Completion {
  id: number
  lease: Date
  webhookId: number
  /** The target answered 410 Gone: the webhook is disabled and its pending deliveries cancelled. */
  gone: boolean
  attempt: {
    number: number
    startedAt: Date
    durationMs: number
    status: number | null
    errorKind: ErrorKind | null
    error: string | null
    requestHeaders: Record<string, string>
    responseHeaders: Record<string, string> | null
    responseBody: string | null
    responseTruncated: boolean
  }
  next: { status: 'delivered' | 'pending' | 'failed'; retryCount: number; nextAttemptAt: Date }
}

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
  limit: number
  /** Keyset pagination: only ids below this one (lists are newest first). */
  beforeId?: number
}

const uniqueViolation = '23505'

/**
 * All of Whisperer's SQL, on the one {@link Database} seam. Statement texts are built once per
 * schema; hot ones are prepared. Methods are named noun-verb and take one params object.
 */
export class Store {
  readonly db: Database
  readonly schema: string
  /** The NOTIFY channel that wakes workers when deliveries are due. */
  readonly channel: string
  readonly #sql: ReturnType<typeof statements>
  readonly #qualified: string
  /** Weekly attempt partitions known to exist, by name. */
  readonly #partitions = new Set<string>()

  constructor(db: Database, schema: string) {
    this.db = db
    this.schema = schema
    this.channel = `whisperer_${schema}`
    this.#qualified = quoteIdentifier(schema)
    this.#sql = statements(this.#qualified)
  }

  // Webhooks

  async webhookInsert(params: { owner: string; input: Required<WebhookInput>; now: Date }): Promise<Webhook> {
    const { input } = params
    try {
      const { rows } = await this.db.query(this.#sql.webhookInsert, [
        params.owner,
        input.eventType,
        input.targetUrl,
        input.secretKey,
        input.isActive,
        JSON.stringify(input.retryCountdownConfig),
        input.callback,
        JSON.stringify(input.additionalHeaders),
        JSON.stringify(input.config),
        params.now,
      ])
      return toWebhook(rows[0]!)
    } catch (error) {
      throw duplicateWebhook(error)
    }
  }

  async webhookGet(params: { id: number; actor: Actor }): Promise<Webhook | null> {
    const { rows } = await this.db.query(this.#sql.webhookGet, [params.id, ownerScope(params.actor)])
    return rows[0] ? toWebhook(rows[0]) : null
  }

  async webhookList(params: {
    actor: Actor
    eventType?: string
    targetUrl?: string
    isActive?: boolean
    limit: number
    afterId?: number
  }): Promise<Webhook[]> {
    const { rows } = await this.db.query(this.#sql.webhookList, [
      ownerScope(params.actor),
      params.eventType ?? null,
      params.targetUrl ?? null,
      params.isActive ?? null,
      params.afterId ?? 0,
      params.limit,
    ])
    return rows.map(toWebhook)
  }

  /**
   * Applies a validated patch. Deactivating a webhook cancels its pending deliveries in the same
   * statement; they can be retried by hand later.
   */
  async webhookUpdate(params: {
    id: number
    actor: Actor
    patch: Partial<WebhookInput>
    now: Date
  }): Promise<Webhook | null> {
    const { patch } = params
    const json = (value: unknown) => (value === undefined ? null : JSON.stringify(value))
    try {
      const { rows } = await this.db.query(this.#sql.webhookUpdate, [
        params.id,
        ownerScope(params.actor),
        patch.eventType ?? null,
        patch.targetUrl ?? null,
        patch.secretKey !== undefined,
        patch.secretKey ?? null,
        patch.isActive ?? null,
        json(patch.retryCountdownConfig),
        patch.callback !== undefined,
        patch.callback ?? null,
        json(patch.additionalHeaders),
        json(patch.config),
        params.now,
      ])
      return rows[0] ? toWebhook(rows[0]) : null
    } catch (error) {
      throw duplicateWebhook(error)
    }
  }

  /** Soft-deletes a webhook: its history stays, its pending deliveries are cancelled. */
  async webhookDelete(params: { id: number; actor: Actor; now: Date }): Promise<boolean> {
    const { rows } = await this.db.query(this.#sql.webhookDelete, [
      params.id,
      ownerScope(params.actor),
      params.now,
    ])
    return rows.length > 0
  }

  // Events and deliveries

  /**
   * Stores an event and one delivery per matching webhook in one statement, and wakes workers at
   * commit. With `bodies`, the deliveries are exactly those (customized payloads); otherwise one per
   * live webhook of the type whose config matches `configFilter`. With `lease`, the deliveries
   * start out claimed, for an attempt made right away. Runs on `tx` when given.
   */
  async eventInsert(params: {
    tx?: Queryable
    event: NewEvent
    configFilter: Record<string, unknown> | null
    now: Date
    lease?: Date
    bodies?: { uuid: string; webhookId: number; body: string }[]
  }): Promise<{ deliveries: EnqueuedDelivery[]; claimed: ClaimedDelivery[] }> {
    const { event, lease } = params
    const values: unknown[] = [
      event.uuid,
      event.type,
      event.dataJson,
      event.payloadKey,
      event.subject?.type ?? null,
      event.subject?.id ?? null,
      params.now,
      lease ? 'delivering' : 'pending',
      lease ?? params.now,
      this.channel,
      params.configFilter ? JSON.stringify(params.configFilter) : null,
    ]
    let text: string
    if (params.bodies) {
      text = lease ? this.#sql.eventInsertBodiesClaimed : this.#sql.eventInsertBodies
      values.push(
        params.bodies.map((b) => b.uuid),
        params.bodies.map((b) => b.webhookId),
        params.bodies.map((b) => b.body),
      )
    } else text = lease ? this.#sql.eventInsertClaimed : this.#sql.eventInsert
    const { rows } = await (params.tx ?? this.db).query(text, values)
    return {
      deliveries: rows.map((row) => ({
        id: Number(row.id),
        uuid: String(row.uuid),
        webhookId: Number(row.webhook_id),
      })),
      claimed: lease ? rows.map(toClaimed) : [],
    }
  }

  /** The live webhooks an event of this type would be delivered to. */
  async webhookTargets(params: {
    tx?: Queryable
    eventType: string
    configFilter: Record<string, unknown> | null
  }): Promise<number[]> {
    const { rows } = await (params.tx ?? this.db).query(this.#sql.webhookTargets, [
      params.eventType,
      params.configFilter ? JSON.stringify(params.configFilter) : null,
    ])
    return rows.map((row) => Number(row.id))
  }

  /**
   * Claims up to `limit` due deliveries (pending ones, and delivering ones whose lease expired) with
   * `FOR UPDATE SKIP LOCKED`, leasing them until `leaseUntil`. One prepared statement.
   */
  async deliveryClaim(params: { limit: number; now: Date; leaseUntil: Date }): Promise<ClaimedDelivery[]> {
    const { rows } = await this.db.query(
      this.#sql.deliveryClaim,
      [params.now, params.limit, params.leaseUntil],
      {
        prepare: true,
      },
    )
    return rows.map(toClaimed)
  }

  /**
   * Claims one delivery for a manual attempt, whatever its due time, if its status is one of
   * `statuses` and no live lease holds it.
   */
  async deliveryClaimOne(params: {
    id: number
    statuses: DeliveryStatus[]
    now: Date
    leaseUntil: Date
  }): Promise<ClaimedDelivery | null> {
    const { rows } = await this.db.query(this.#sql.deliveryClaimOne, [
      params.id,
      params.statuses,
      params.now,
      params.leaseUntil,
    ])
    return rows[0] ? toClaimed(rows[0]) : null
  }

  /** Makes a delivery due now (an asynchronous manual re-send) if its status is one of `statuses`. */
  async deliveryRequeue(params: { id: number; statuses: DeliveryStatus[]; now: Date }): Promise<boolean> {
    const { rows } = await this.db.query(this.#sql.deliveryRequeue, [
      params.id,
      params.statuses,
      params.now,
      this.channel,
    ])
    return rows.length > 0
  }

  /**
   * Records attempts and moves their deliveries on, all in one statement. Every attempt is
   * inserted; a delivery moves only while the completion's lease is still its own, so a worker
   * whose lease expired cannot overwrite a newer claim. In the same statement a webhook whose
   * target answered 410 is disabled, each webhook's `failing_since` follows its outcomes, and a
   * retry due to a webhook that is no longer active is cancelled instead. Returns the attempt id
   * of each delivery.
   */
  async deliveryComplete(params: { completions: Completion[]; now: Date }): Promise<Map<number, number>> {
    const c = params.completions
    const { rows } = await this.db.query<{ delivery_id: string | number; id: string | number }>(
      this.#sql.deliveryComplete,
      [
        c.map((x) => x.id),
        c.map((x) => x.lease),
        c.map((x) => x.next.status),
        c.map((x) => x.next.retryCount),
        c.map((x) => x.next.nextAttemptAt),
        c.map((x) => x.attempt.number),
        c.map((x) => x.attempt.startedAt),
        c.map((x) => x.attempt.durationMs),
        c.map((x) => x.attempt.status),
        c.map((x) => x.attempt.errorKind),
        c.map((x) => x.attempt.error),
        c.map((x) => JSON.stringify(x.attempt.requestHeaders)),
        c.map((x) => (x.attempt.responseHeaders ? JSON.stringify(x.attempt.responseHeaders) : null)),
        c.map((x) => x.attempt.responseBody),
        c.map((x) => x.attempt.responseTruncated),
        params.now,
        c.map((x) => x.webhookId),
        c.map((x) => x.gone),
      ],
      { prepare: true },
    )
    return new Map(rows.map((row) => [Number(row.delivery_id), Number(row.id)]))
  }

  /** Gives claimed deliveries back without an attempt, each due again at its `at`. */
  async deliveryRelease(params: { releases: { id: number; lease: Date; at: Date }[] }): Promise<void> {
    if (params.releases.length === 0) return
    await this.db.query(this.#sql.deliveryRelease, [
      params.releases.map((r) => r.id),
      params.releases.map((r) => r.lease),
      params.releases.map((r) => r.at),
    ])
  }

  /** The earliest time a delivery becomes due (or its lease expires); null if none is unfinished. */
  async deliveryNextDue(): Promise<Date | null> {
    const { rows } = await this.db.query<{ at: Date | null }>(this.#sql.deliveryNextDue, [], {
      prepare: true,
    })
    return rows[0]?.at ? new Date(rows[0].at) : null
  }

  async deliveryGet(params: { id?: number; uuid?: string; actor: Actor }): Promise<Delivery | null> {
    const { rows } = await this.db.query(this.#sql.deliveryGet, [
      params.id ?? null,
      params.uuid ?? null,
      ownerScope(params.actor),
    ])
    return rows[0] ? toDelivery(rows[0]) : null
  }

  /** Deliveries newest first, scoped to the actor's owner. */
  async deliveryList(filter: DeliveryFilter): Promise<Delivery[]> {
    const { rows } = await this.db.query(this.#sql.deliveryList, [
      ownerScope(filter.actor),
      filter.webhookId ?? null,
      filter.eventType ?? null,
      filter.status ?? null,
      filter.uuid ?? null,
      filter.lastStatus ?? null,
      filter.createdAfter ?? null,
      filter.createdBefore ?? null,
      filter.unattempted ?? false,
      filter.beforeId ?? null,
      filter.limit,
    ])
    return rows.map(toDelivery)
  }

  /** A delivery's attempts; `since` (its creation) lets PostgreSQL skip older partitions. */
  async attemptList(params: { deliveryId: number; since: Date }): Promise<Attempt[]> {
    const { rows } = await this.db.query(this.#sql.attemptList, [params.deliveryId, params.since])
    return rows.map(toAttempt)
  }

  /**
   * Creates the weekly attempt partitions covering `[from, to]` that do not exist yet. Idempotent,
   * and safe when processes do it at once (an advisory lock serializes them).
   */
  async attemptPartitionsEnsure(params: { from: Date; to: Date }): Promise<void> {
    const missing = partitionsCovering(params.from, params.to).filter((p) => !this.#partitions.has(p.name))
    if (missing.length === 0) return
    await this.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`whisperer:partitions:${this.schema}`])
      for (const partition of missing) {
        await tx.query(
          `CREATE TABLE IF NOT EXISTS ${this.#qualified}."${partition.name}" PARTITION OF ${this.#qualified}.attempts
           FOR VALUES FROM ('${partition.from.toISOString()}') TO ('${partition.to.toISOString()}')`,
        )
      }
    })
    for (const partition of missing) this.#partitions.add(partition.name)
  }

  /**
   * Drops the attempt partitions that end before `before`: retention without a row-by-row delete.
   * Each drop waits at most `lockTimeoutMs` for its lock, so that it never stalls the inserts
   * queued behind it; one that times out is left for the next run. Returns the partitions dropped.
   */
  async attemptPartitionsDrop(params: { before: Date; lockTimeoutMs: number }): Promise<string[]> {
    const { rows } = await this.db.query<{ name: string }>(this.#sql.attemptPartitionsList)
    const expired = rows
      .map((row) => row.name)
      .filter((name) => {
        const start = partitionStart(name)
        return start !== null && start.getTime() + 7 * 24 * 3600 * 1000 <= params.before.getTime()
      })
    const dropped: string[] = []
    for (const name of expired) {
      try {
        await this.db.transaction(async (tx) => {
          await tx.query(`SET LOCAL lock_timeout = ${Math.round(params.lockTimeoutMs)}`)
          await tx.query(`DROP TABLE ${this.#qualified}."${name}"`)
        })
        this.#partitions.delete(name)
        dropped.push(name)
      } catch (error) {
        if ((error as { code?: string }).code !== '55P03') throw error
      }
    }
    return dropped
  }

  /** Notes a callback's failure on the attempt it followed. */
  async attemptNoteCallbackError(params: { attemptId: number; error: string }): Promise<void> {
    await this.db.query(this.#sql.attemptNoteCallbackError, [params.attemptId, params.error])
  }

  // Maintenance

  /**
   * Deletes up to `limit` finished deliveries last changed before `before`, and the events left
   * without deliveries. Their attempts go with their weekly partitions
   * ({@link attemptPartitionsDrop}). Returns how many deliveries went.
   */
  async retentionDelete(params: { before: Date; limit: number }): Promise<number> {
    const { rows } = await this.db.query<{ deleted: number }>(this.#sql.retentionDelete, [
      params.before,
      params.limit,
    ])
    return Number(rows[0]?.deleted ?? 0)
  }

  /**
   * Disables active webhooks that have failed without a single success since before `before`, and
   * cancels their pending deliveries. Returns their ids.
   */
  async webhookDisableFailing(params: { before: Date; now: Date }): Promise<number[]> {
    const { rows } = await this.db.query(this.#sql.webhookDisableFailing, [params.before, params.now])
    return rows.map((row) => Number(row.id))
  }

  /** Reclaims dead rows of the queue table; PGlite has no autovacuum, so its maintenance does this. */
  async vacuum(): Promise<void> {
    await this.db.query(this.#sql.vacuum)
  }
}

function ownerScope(actor: Actor): string | null {
  return actor.admin ? null : actor.owner
}

function duplicateWebhook(error: unknown): unknown {
  if ((error as { code?: string }).code === uniqueViolation) {
    return new WhispererError(
      'webhook_already_registered',
      'Webhook already registered: this owner already has a webhook for this target_url and event_type',
      { cause: error },
    )
  }
  return error
}

/** Every statement, for one schema. */
function statements(s: string) {
  const configMatches = `($2::jsonb IS NULL OR NOT EXISTS (
      SELECT 1 FROM jsonb_each($2::jsonb) f
      WHERE w.config #> string_to_array(f.key, '__') IS DISTINCT FROM f.value))`
  const liveTargets = (type: string, filter: string) =>
    `SELECT w.id FROM ${s}.webhooks w
     WHERE w.event_type = ${type} AND w.is_active AND w.deleted_at IS NULL
       AND ${configMatches.replaceAll('$2', filter)}`

  const insertEvent = `event AS (
      INSERT INTO ${s}.events (uuid, type, data, payload_key, subject_type, subject_id, created_at)
      SELECT $1, $2, $3::json, $4, $5, $6, $7 WHERE EXISTS (SELECT 1 FROM targets)
      RETURNING id
    )`
  const notify = `notified AS (SELECT pg_notify($10, '') AS n WHERE EXISTS (SELECT 1 FROM inserted))`
  const eventInsert = (fromBodies: boolean, claimed: boolean) => `
    WITH targets AS (
      ${
        fromBodies
          ? `SELECT b.uuid, b.webhook_id AS id, b.body FROM unnest($12::uuid[], $13::bigint[], $14::text[]) AS b(uuid, webhook_id, body)
             WHERE b.webhook_id IN (${liveTargets('$2', '$11')})`
          : liveTargets('$2', '$11')
      }
    ), ${insertEvent}, inserted AS (
      INSERT INTO ${s}.deliveries (uuid, event_id, webhook_id, status, next_attempt_at, body, created_at, updated_at)
      SELECT ${fromBodies ? 'targets.uuid' : 'gen_random_uuid()'}, event.id, targets.id, $8, $9,
        ${fromBodies ? 'targets.body::json' : 'NULL'}, $7, $7
      FROM event, targets
      RETURNING *
    ), ${notify}
    ${
      claimed
        ? `SELECT ${insertedClaimedColumns} FROM inserted d
           JOIN ${s}.webhooks w ON w.id = d.webhook_id LEFT JOIN notified ON true`
        : 'SELECT inserted.id, inserted.uuid::text AS uuid, inserted.webhook_id FROM inserted LEFT JOIN notified ON true'
    }`

  const cancelPending = (webhookId: string, now: string) => `cancelled AS (
      UPDATE ${s}.deliveries SET status = 'cancelled', updated_at = ${now}
      WHERE webhook_id = ${webhookId} AND status = 'pending'
    )`

  return {
    webhookInsert: `
      INSERT INTO ${s}.webhooks (owner, event_type, target_url, secret_key, is_active, retry_countdown_config,
        callback, additional_headers, config, created_at, updated_at)
      VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8::jsonb, $9::jsonb, $10, $10)
      RETURNING ${webhookColumns}`,
    webhookGet: `
      SELECT ${webhookColumns} FROM ${s}.webhooks
      WHERE id = $1 AND deleted_at IS NULL AND ($2::text IS NULL OR owner = $2)`,
    webhookList: `
      SELECT ${webhookColumns} FROM ${s}.webhooks
      WHERE deleted_at IS NULL AND ($1::text IS NULL OR owner = $1)
        AND ($2::text IS NULL OR lower(event_type) = lower($2))
        AND ($3::text IS NULL OR lower(target_url) = lower($3))
        AND ($4::boolean IS NULL OR is_active = $4)
        AND id > $5
      ORDER BY id LIMIT $6`,
    webhookUpdate: `
      WITH updated AS (
        UPDATE ${s}.webhooks SET
          event_type = coalesce($3, event_type),
          target_url = coalesce($4, target_url),
          secret_key = CASE WHEN $5 THEN $6 ELSE secret_key END,
          is_active = coalesce($7, is_active),
          disabled_reason = CASE WHEN $7 THEN NULL ELSE disabled_reason END,
          failing_since = CASE WHEN $7 THEN NULL ELSE failing_since END,
          retry_countdown_config = coalesce($8::jsonb, retry_countdown_config),
          callback = CASE WHEN $9 THEN $10 ELSE callback END,
          additional_headers = coalesce($11::jsonb, additional_headers),
          config = coalesce($12::jsonb, config),
          updated_at = $13
        WHERE id = $1 AND deleted_at IS NULL AND ($2::text IS NULL OR owner = $2)
        RETURNING ${webhookColumns}
      ), cancelled AS (
        UPDATE ${s}.deliveries SET status = 'cancelled', updated_at = $13
        WHERE webhook_id = $1 AND status = 'pending' AND EXISTS (SELECT 1 FROM updated WHERE NOT updated.is_active)
      )
      SELECT * FROM updated`,
    webhookDelete: `
      WITH deleted AS (
        UPDATE ${s}.webhooks SET deleted_at = $3, is_active = false, updated_at = $3
        WHERE id = $1 AND deleted_at IS NULL AND ($2::text IS NULL OR owner = $2)
        RETURNING id
      ), ${cancelPending('(SELECT id FROM deleted)', '$3')}
      SELECT id FROM deleted`,
    webhookTargets: liveTargets('$1', '$2'),
    eventInsert: eventInsert(false, false),
    eventInsertClaimed: eventInsert(false, true),
    eventInsertBodies: eventInsert(true, false),
    eventInsertBodiesClaimed: eventInsert(true, true),
    deliveryClaim: `
      WITH due AS (
        SELECT id FROM ${s}.deliveries
        WHERE status IN ('pending', 'delivering') AND next_attempt_at <= $1
        ORDER BY next_attempt_at
        LIMIT $2
        FOR UPDATE SKIP LOCKED
      )
      UPDATE ${s}.deliveries d SET status = 'delivering', next_attempt_at = $3
      FROM due, ${s}.events e, ${s}.webhooks w
      WHERE d.id = due.id AND e.id = d.event_id AND w.id = d.webhook_id
      RETURNING ${claimedColumns}`,
    deliveryClaimOne: `
      UPDATE ${s}.deliveries d SET status = 'delivering', next_attempt_at = $4
      FROM ${s}.events e, ${s}.webhooks w
      WHERE d.id = $1 AND e.id = d.event_id AND w.id = d.webhook_id AND w.deleted_at IS NULL
        AND d.status = ANY($2::text[]) AND NOT (d.status = 'delivering' AND d.next_attempt_at > $3)
      RETURNING ${claimedColumns}`,
    deliveryRequeue: `
      WITH requeued AS (
        UPDATE ${s}.deliveries SET status = 'pending', next_attempt_at = $3, updated_at = $3
        WHERE id = $1 AND status = ANY($2::text[])
          AND EXISTS (SELECT 1 FROM ${s}.webhooks w WHERE w.id = webhook_id AND w.deleted_at IS NULL)
        RETURNING id
      )
      SELECT id, pg_notify($4, '') FROM requeued`,
    deliveryComplete: `
      WITH input AS (
        SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::int[], $5::timestamptz[],
          $6::int[], $7::timestamptz[], $8::int[], $9::int[], $10::text[], $11::text[], $12::text[], $13::text[],
          $14::text[], $15::boolean[], $17::bigint[], $18::boolean[])
        AS i(id, lease, status, retry_count, next_attempt_at, attempt, started_at, duration_ms, http_status,
          error_kind, error, request_headers, response_headers, response_body, response_truncated, webhook_id, gone)
      ), health AS (
        SELECT webhook_id, bool_or(status = 'delivered') AS ok, min(started_at) AS failed_at, bool_or(gone) AS gone
        FROM input GROUP BY webhook_id
      ), locked AS (
        -- Only webhooks whose health changes are written; locked in id order, so that concurrent
        -- workers cannot deadlock on them.
        SELECT w.id FROM ${s}.webhooks w JOIN health h ON h.webhook_id = w.id
        WHERE (h.gone AND w.is_active) OR (h.ok AND w.failing_since IS NOT NULL)
          OR (NOT h.ok AND w.failing_since IS NULL)
        ORDER BY w.id
        FOR UPDATE OF w
      ), hooks AS (
        UPDATE ${s}.webhooks w SET
          failing_since = CASE WHEN h.ok THEN NULL ELSE coalesce(w.failing_since, h.failed_at) END,
          is_active = w.is_active AND NOT h.gone,
          disabled_reason = CASE WHEN h.gone AND w.is_active THEN 'gone' ELSE w.disabled_reason END,
          updated_at = CASE WHEN h.gone AND w.is_active THEN $16 ELSE w.updated_at END
        FROM health h
        WHERE w.id = h.webhook_id AND w.id IN (SELECT id FROM locked)
        RETURNING w.id, h.gone
      ), moved AS (
        -- A retry is not scheduled for a webhook that is no longer active: it is cancelled.
        UPDATE ${s}.deliveries d SET
          status = CASE WHEN i.status = 'pending' AND (NOT w.is_active OR w.deleted_at IS NOT NULL OR h.gone)
            THEN 'cancelled' ELSE i.status END,
          retry_count = i.retry_count, next_attempt_at = i.next_attempt_at, last_status = i.http_status,
          last_error_kind = i.error_kind, last_attempt_at = i.started_at, last_duration_ms = i.duration_ms,
          updated_at = $16
        FROM input i
        JOIN ${s}.webhooks w ON w.id = i.webhook_id
        JOIN health h ON h.webhook_id = i.webhook_id
        WHERE d.id = i.id AND d.status = 'delivering' AND d.next_attempt_at = i.lease
      ), cancelled AS (
        UPDATE ${s}.deliveries SET status = 'cancelled', updated_at = $16
        WHERE webhook_id IN (SELECT id FROM hooks WHERE gone) AND status = 'pending'
      )
      INSERT INTO ${s}.attempts (delivery_id, attempt, created_at, duration_ms, status, error_kind, error,
        request_headers, response_headers, response_body, response_truncated)
      SELECT id, attempt, started_at, duration_ms, http_status, error_kind, error, request_headers::jsonb,
        response_headers::jsonb, response_body, response_truncated
      FROM input
      RETURNING delivery_id, id`,
    deliveryRelease: `
      UPDATE ${s}.deliveries d SET status = 'pending', next_attempt_at = r.at
      FROM unnest($1::bigint[], $2::timestamptz[], $3::timestamptz[]) AS r(id, lease, at)
      WHERE d.id = r.id AND d.status = 'delivering' AND d.next_attempt_at = r.lease`,
    deliveryNextDue: `
      SELECT min(next_attempt_at) AS at FROM ${s}.deliveries WHERE status IN ('pending', 'delivering')`,
    deliveryGet: `
      SELECT ${deliveryColumns} FROM ${s}.deliveries d
      JOIN ${s}.events e ON e.id = d.event_id
      JOIN ${s}.webhooks w ON w.id = d.webhook_id
      WHERE ($1::bigint IS NULL OR d.id = $1) AND ($2::uuid IS NULL OR d.uuid = $2)
        AND ($3::text IS NULL OR w.owner = $3)`,
    deliveryList: `
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
      ORDER BY d.id DESC
      LIMIT $11`,
    attemptList: `
      SELECT * FROM ${s}.attempts WHERE delivery_id = $1 AND created_at >= $2 ORDER BY attempt, id`,
    attemptPartitionsList: `
      SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = '${s}.attempts'::regclass ORDER BY c.relname`,
    attemptNoteCallbackError: `
      UPDATE ${s}.attempts SET callback_error = $2 WHERE id = $1`,
    retentionDelete: `
      WITH doomed AS (
        SELECT id, event_id FROM ${s}.deliveries
        WHERE status IN ('delivered', 'failed', 'cancelled') AND updated_at < $1
        ORDER BY id LIMIT $2
      ), deliveries_gone AS (
        DELETE FROM ${s}.deliveries d USING doomed WHERE d.id = doomed.id RETURNING d.event_id
      ), events_gone AS (
        DELETE FROM ${s}.events e
        WHERE e.id IN (SELECT DISTINCT event_id FROM deliveries_gone)
          AND NOT EXISTS (
            SELECT 1 FROM ${s}.deliveries d WHERE d.event_id = e.id AND d.id NOT IN (SELECT id FROM doomed))
      )
      SELECT count(*)::int AS deleted FROM deliveries_gone`,
    webhookDisableFailing: `
      WITH disabled AS (
        UPDATE ${s}.webhooks SET is_active = false, disabled_reason = 'failing', updated_at = $2
        WHERE is_active AND deleted_at IS NULL AND failing_since < $1
        RETURNING id
      ), cancelled AS (
        UPDATE ${s}.deliveries SET status = 'cancelled', updated_at = $2
        WHERE webhook_id IN (SELECT id FROM disabled) AND status = 'pending'
      )
      SELECT id FROM disabled`,
    vacuum: `VACUUM ${s}.deliveries`,
  }
}
