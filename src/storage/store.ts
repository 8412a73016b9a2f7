import type { Attempt, Delivery } from '../core/delivery.ts'
import type { DeliveryStatus } from '../core/delivery-state.ts'
import type { StatsRow } from '../core/delivery-stats.ts'
import { WhispererError } from '../core/errors.ts'
import type { Subject } from '../core/event-types.ts'
import { compileFilters, type Filters } from '../core/filters.ts'
import type { ErrorKind } from '../core/outcome.ts'
import type { PayloadKey } from '../core/payload.ts'
import type { Actor, Webhook, WebhookInput } from '../core/webhook.ts'
import { partitionStart, partitionsCovering } from './attempt-partitions.ts'
import type { Database, Queryable } from './database.ts'
import { quoteIdentifier } from './identifier.ts'
import {
  type ClaimedDelivery,
  type ClaimedRow,
  type ClaimedWebhook,
  toAttempt,
  toClaimedRow,
  toClaimedWebhook,
  toDelivery,
  toWebhook,
} from './rows.ts'
import { statements } from './statements.ts'

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

/** An API token as stored, without its secret. */
export interface ApiTokenRow {
  id: string
  name: string
  owner: string
  scopes: string[]
  createdAt: Date
  lastUsedAt: Date | null
  revokedAt: Date | null
}

/** An event type declared by configuration or through the API. */
export interface StoredEventType {
  type: string
  description: string | null
  jsonSchema: object | null
  fields: string[] | null
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
  /** Delivered ones only (true) or all others (false). */
  delivered?: boolean
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
  /** Webhooks as sending needs them, by id; an entry is used only while its version matches. */
  readonly #webhooks = new Map<number, ClaimedWebhook>()

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
        JSON.stringify(input.filters),
        conditionsJson(input.filters),
        input.fields,
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

  /** Webhooks by id, deleted ones included (for the deliveries that name them). */
  async webhookGetMany(params: { ids: number[] }): Promise<Webhook[]> {
    if (params.ids.length === 0) return []
    const { rows } = await this.db.query(this.#sql.webhookGetMany, [params.ids])
    return rows.map(toWebhook)
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
        json(patch.filters),
        patch.filters === undefined ? null : conditionsJson(patch.filters),
        patch.fields !== undefined,
        patch.fields ?? null,
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
   * Stores events and one delivery per matching webhook, all in one statement, and wakes workers
   * at commit. Each event goes to the live webhooks of its type whose config matches its filter.
   * With `lease`, the deliveries start out claimed, for an attempt made right away. Runs on `tx`
   * when given. Returns the deliveries of each event, by event uuid.
   */
  async eventsInsert(params: {
    tx?: Queryable
    events: { event: NewEvent; configFilter: Record<string, unknown> | null }[]
    now: Date
    lease?: Date
  }): Promise<{ deliveries: Map<string, EnqueuedDelivery[]>; claimed: ClaimedDelivery[] }> {
    const { events, lease } = params
    const values = [
      events.map(({ event }) => event.uuid),
      events.map(({ event }) => event.type),
      events.map(({ event }) => event.dataJson),
      events.map(({ event }) => event.payloadKey),
      events.map(({ event }) => event.subject?.type ?? null),
      events.map(({ event }) => event.subject?.id ?? null),
      events.map(({ configFilter }) => (configFilter ? JSON.stringify(configFilter) : null)),
      params.now,
      lease ? 'delivering' : 'pending',
      this.channel,
      lease ?? params.now,
    ]
    const text = lease ? this.#sql.eventsInsertClaimed : this.#sql.eventsInsert
    const { rows } = params.tx
      ? await params.tx.query(text, values)
      : await this.db.query(text, values, { prepare: true })
    return {
      deliveries: byEvent(rows),
      claimed: lease ? await this.#withWebhooks(rows.map(toClaimedRow)) : [],
    }
  }

  /**
   * Stores one event whose every delivery has its own body (a customized payload): one delivery
   * per body whose webhook is still live and matching. Otherwise as {@link eventsInsert}.
   */
  async eventInsertBodies(params: {
    tx?: Queryable
    event: NewEvent
    configFilter: Record<string, unknown> | null
    bodies: { uuid: string; webhookId: number; body: string }[]
    now: Date
    lease?: Date
  }): Promise<{ deliveries: Map<string, EnqueuedDelivery[]>; claimed: ClaimedDelivery[] }> {
    const { event, lease, bodies } = params
    const values = [
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
      bodies.map((b) => b.uuid),
      bodies.map((b) => b.webhookId),
      bodies.map((b) => b.body),
    ]
    const text = lease ? this.#sql.eventInsertBodiesClaimed : this.#sql.eventInsertBodies
    const { rows } = await (params.tx ?? this.db).query(text, values)
    return {
      deliveries: byEvent(rows),
      claimed: lease ? await this.#withWebhooks(rows.map(toClaimedRow)) : [],
    }
  }

  /** The live webhooks an event of this type, with this data, would be delivered to, with their chosen fields. */
  async webhookTargets(params: {
    tx?: Queryable
    eventType: string
    configFilter: Record<string, unknown> | null
    dataJson: string
  }): Promise<{ webhookId: number; fields: string[] | null }[]> {
    const { rows } = await (params.tx ?? this.db).query(this.#sql.webhookTargets, [
      params.eventType,
      params.configFilter ? JSON.stringify(params.configFilter) : null,
      params.dataJson,
    ])
    return rows.map((row) => ({ webhookId: Number(row.id), fields: (row.fields as string[] | null) ?? null }))
  }

  /** The `like` patterns PostgreSQL cannot compile, each with its error. */
  async patternProblems(patterns: string[]): Promise<Map<string, string>> {
    const problems = new Map<string, string>()
    for (const pattern of new Set(patterns)) {
      try {
        await this.db.query(this.#sql.patternCheck, [pattern])
      } catch (error) {
        problems.set(pattern, (error as Error).message)
      }
    }
    return problems
  }

  /**
   * Claims up to `limit` due deliveries (pending ones, and delivering ones whose lease expired) with
   * `FOR UPDATE SKIP LOCKED`, leasing them until `leaseUntil`. One prepared statement.
   */
  async deliveryClaim(params: { limit: number; now: Date; leaseUntil: Date }): Promise<ClaimedDelivery[]> {
    const values = [params.now, params.limit, params.leaseUntil]
    const { rows } = await this.db.query(this.#sql.deliveryClaim, values, { prepare: true })
    return this.#withWebhooks(rows.map(toClaimedRow))
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
    return rows[0] ? ((await this.#withWebhooks([toClaimedRow(rows[0])]))[0] ?? null) : null
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

  /**
   * Attaches each claimed row's webhook, from the cache when its version matches, otherwise read
   * (all missing ones in one query) and cached.
   */
  async #withWebhooks(rows: ClaimedRow[]): Promise<ClaimedDelivery[]> {
    const stale = new Set<number>()
    for (const row of rows) {
      const cached = this.#webhooks.get(row.webhookId)
      if (!cached || cached.updatedAt.getTime() !== row.webhookUpdatedAt.getTime()) stale.add(row.webhookId)
    }
    if (stale.size > 0) {
      const { rows: fresh } = await this.db.query(this.#sql.webhooksForSending, [[...stale]])
      if (this.#webhooks.size + fresh.length > 10_000) this.#webhooks.clear()
      for (const row of fresh) {
        const webhook = toClaimedWebhook(row)
        this.#webhooks.set(webhook.id, webhook)
      }
    }
    return rows.map(({ webhookId, webhookUpdatedAt: _version, ...row }) => ({
      ...row,
      webhook: this.#webhooks.get(webhookId)!,
    }))
  }

  /** The current status of each delivery, by id. */
  async deliveryStatuses(params: { ids: number[] }): Promise<Map<number, DeliveryStatus>> {
    const { rows } = await this.db.query(this.#sql.deliveryStatuses, [params.ids])
    return new Map(rows.map((row) => [Number(row.id), row.status as DeliveryStatus]))
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
      filter.delivered ?? null,
    ])
    return rows.map(toDelivery)
  }

  /**
   * Sends matching deliveries again through the queue (bulk replay): up to `limit` of them, due
   * now, in one statement; returns how many. Only deliveries of live webhooks are replayed.
   */
  async deliveryReplay(params: ReplayFilter & { limit: number; now: Date }): Promise<number> {
    const { rows } = await this.db.query<{ replayed: number }>(this.#sql.deliveryReplay, [
      ...replayFilterValues(params),
      params.limit,
      params.now,
      this.channel,
    ])
    return Number(rows[0]?.replayed ?? 0)
  }

  /** How many deliveries a bulk replay with this filter would send again. */
  async deliveryReplayCount(params: ReplayFilter): Promise<number> {
    const { rows } = await this.db.query<{ n: number }>(
      this.#sql.deliveryReplayCount,
      replayFilterValues(params),
    )
    return Number(rows[0]?.n ?? 0)
  }

  /** Deliveries created in `[since, until)` counted per bucket and in all, in one statement. */
  async deliveryStats(params: {
    actor: Actor
    since: Date
    until: Date
    bucketSeconds: number
  }): Promise<StatsRow[]> {
    const { rows } = await this.db.query(this.#sql.deliveryStats, [
      ownerScope(params.actor),
      params.since,
      params.until,
      params.bucketSeconds,
    ])
    const ms = (value: unknown) => (value === null || value === undefined ? null : Number(value))
    return rows.map((row) => ({
      bucket: row.bucket === null ? null : Number(row.bucket),
      total: Number(row.total),
      delivered: Number(row.delivered),
      failed: Number(row.failed),
      cancelled: Number(row.cancelled),
      p50Ms: ms(row.p50_ms),
      p99Ms: ms(row.p99_ms),
    }))
  }

  /** For each delivery, its attempts' times (newest first) and its last response body, in one query. */
  async attemptSummaries(params: {
    deliveries: { id: number; createdAt: Date }[]
  }): Promise<Map<number, { times: Date[]; lastResponseBody: string | null }>> {
    if (params.deliveries.length === 0) return new Map()
    const since = new Date(Math.min(...params.deliveries.map((d) => d.createdAt.getTime())))
    const { rows } = await this.db.query(this.#sql.attemptSummaries, [
      params.deliveries.map((d) => d.id),
      since,
    ])
    return new Map(
      rows.map((row) => [
        Number(row.delivery_id),
        {
          times: (row.times as (Date | string)[]).map((time) => new Date(time)),
          lastResponseBody: (row.last_response_body as string | null) ?? null,
        },
      ]),
    )
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

  // API tokens and stored event types (the standalone service)

  async tokenInsert(params: {
    id: string
    name: string
    owner: string
    scopes: string[]
    secretHash: Buffer
    now: Date
  }): Promise<ApiTokenRow> {
    const { rows } = await this.db.query(this.#sql.tokenInsert, [
      params.id,
      params.name,
      params.owner,
      params.scopes,
      params.secretHash,
      params.now,
    ])
    return toToken(rows[0]!)
  }

  async tokenGet(params: { id: string }): Promise<(ApiTokenRow & { secretHash: Buffer }) | null> {
    const { rows } = await this.db.query(this.#sql.tokenGet, [params.id])
    const row = rows[0]
    return row ? { ...toToken(row), secretHash: Buffer.from(row.secret_hash as Uint8Array) } : null
  }

  async tokenList(): Promise<ApiTokenRow[]> {
    const { rows } = await this.db.query(this.#sql.tokenList)
    return rows.map(toToken)
  }

  async tokenRevoke(params: { id: string; now: Date }): Promise<boolean> {
    const { rows } = await this.db.query(this.#sql.tokenRevoke, [params.id, params.now])
    return rows.length > 0
  }

  async tokenTouch(params: { id: string; now: Date }): Promise<void> {
    await this.db.query(this.#sql.tokenTouch, [params.id, params.now])
  }

  async eventTypeUpsert(params: {
    type: string
    description: string | null
    jsonSchema: object | null
    fields: string[] | null
    now: Date
  }): Promise<void> {
    await this.db.query(this.#sql.eventTypeUpsert, [
      params.type,
      params.description,
      params.jsonSchema ? JSON.stringify(params.jsonSchema) : null,
      params.fields,
      params.now,
    ])
  }

  async eventTypeList(): Promise<StoredEventType[]> {
    const { rows } = await this.db.query(this.#sql.eventTypeList)
    return rows.map((row) => ({
      type: String(row.type),
      description: (row.description as string | null) ?? null,
      jsonSchema:
        row.json_schema === null
          ? null
          : typeof row.json_schema === 'string'
            ? JSON.parse(row.json_schema)
            : row.json_schema,
      fields: (row.fields as string[] | null) ?? null,
    }))
  }

  async eventTypeDelete(params: { type: string }): Promise<boolean> {
    const { rows } = await this.db.query(this.#sql.eventTypeDelete, [params.type])
    return rows.length > 0
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

function toToken(row: Record<string, unknown>): ApiTokenRow {
  const date = (value: unknown) => (value === null || value === undefined ? null : new Date(value as string))
  return {
    id: String(row.id),
    name: String(row.name),
    owner: String(row.owner),
    scopes: row.scopes as string[],
    createdAt: new Date(row.created_at as string),
    lastUsedAt: date(row.last_used_at),
    revokedAt: date(row.revoked_at),
  }
}

function byEvent(rows: Record<string, unknown>[]): Map<string, EnqueuedDelivery[]> {
  const deliveries = new Map<string, EnqueuedDelivery[]>()
  for (const row of rows) {
    const eventUuid = String(row.event_uuid)
    const list = deliveries.get(eventUuid) ?? []
    list.push({ id: Number(row.id), uuid: String(row.uuid), webhookId: Number(row.webhook_id) })
    deliveries.set(eventUuid, list)
  }
  return deliveries
}

/** The conditions the fan-out evaluates, compiled from validated filters; null when there are none. */
function conditionsJson(filters: Filters): string | null {
  const { conditions } = compileFilters(filters)
  return conditions.length > 0 ? JSON.stringify(conditions) : null
}

/** Which deliveries a bulk replay sends again. */
export interface ReplayFilter {
  actor: Actor
  statuses: DeliveryStatus[]
  webhookId?: number
  eventType?: string
  createdAfter?: Date
  createdBefore?: Date
}

/** $1–$6 of the replay statements (see `replayFilter` in statements.ts). */
function replayFilterValues(filter: ReplayFilter): unknown[] {
  return [
    ownerScope(filter.actor),
    filter.statuses,
    filter.webhookId ?? null,
    filter.eventType ?? null,
    filter.createdAfter ?? null,
    filter.createdBefore ?? null,
  ]
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
