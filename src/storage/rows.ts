import type { Attempt, Delivery } from '../core/delivery.ts'
import type { DeliveryStatus } from '../core/delivery-state.ts'
import type { StatsRow } from '../core/delivery-stats.ts'
import type { WhispererError } from '../core/errors.ts'
import type { Filters } from '../core/filters.ts'
import type { KeyRing } from '../core/key-ring.ts'
import type { ErrorKind } from '../core/outcome.ts'
import { buildBody, type PayloadKey } from '../core/payload.ts'
import type { CountdownConfig } from '../core/retry-countdown.ts'
import type { Signer } from '../core/signing-keys.ts'
import type { Webhook } from '../core/webhook.ts'
import { keySummary, openAuth, type StoredKey, toSigners } from './sql/secrets.ts'

/** Rows as drivers return them: int8 may be a string, json may be parsed or text. */
type Row = Record<string, unknown>

const int = (value: unknown): number => Number(value)
const numberOrNull = (value: unknown): number | null =>
  value === null || value === undefined ? null : Number(value)
const date = (value: unknown): Date => (value instanceof Date ? value : new Date(String(value)))
const dateOrNull = (value: unknown): Date | null =>
  value === null || value === undefined ? null : date(value)
const json = <T>(value: unknown): T => (typeof value === 'string' ? JSON.parse(value) : value) as T

export const webhookColumns = `id, owner, event_types, target_url, signing_keys, secret_rotated_at, is_active,
  retry_countdown_config, callback, additional_headers, config, filters, fields, send_traceparent, disabled_reason,
  failing_since, created_at, updated_at, rate_limit, rate_auto, timeout_seconds, ordering_on_failure`

/** The rate in force of webhook `w` (a column named `rate_limit_current`), from its rate row. */
export const rateCurrentColumn = (s: string, w: string) =>
  `(SELECT r.rate FROM ${s}.webhook_rates r WHERE r.webhook_id = ${w}.id) AS rate_limit_current`

/**
 * A webhook row; the credentials of its `config.auth` are opened with `ring` (one it cannot open
 * stays sealed: a read masks it, and sending refuses it), its signing keys never are.
 */
export function toWebhook(row: Row, ring: KeyRing): Webhook {
  return {
    id: int(row.id),
    owner: String(row.owner),
    eventType: (row.event_types as string[])[0]!,
    eventTypes: row.event_types as string[],
    targetUrl: String(row.target_url),
    ...keySummary(json<StoredKey[]>(row.signing_keys)),
    secretRotatedAt: dateOrNull(row.secret_rotated_at),
    isActive: Boolean(row.is_active),
    retryCountdownConfig: json<CountdownConfig>(row.retry_countdown_config),
    callback: (row.callback as string | null) ?? null,
    additionalHeaders: json<Record<string, string>>(row.additional_headers),
    config: openAuth(json<Record<string, unknown>>(row.config), ring, { lenient: true }),
    filters: json<Filters>(row.filters),
    fields: (row.fields as string[] | null) ?? null,
    sendTraceparent: Boolean(row.send_traceparent),
    rateLimit: row.rate_auto ? 'auto' : numberOrNull(row.rate_limit),
    rateLimitCurrent: numberOrNull(row.rate_limit_current),
    timeout: numberOrNull(row.timeout_seconds),
    orderingOnFailure: row.ordering_on_failure === 'block' ? 'block' : 'skip',
    disabledReason: (row.disabled_reason as string | null) ?? null,
    failingSince: dateOrNull(row.failing_since),
    createdAt: date(row.created_at),
    updatedAt: date(row.updated_at),
  }
}

/** Columns of a delivery joined to its event (`d` and `e`), for {@link toDelivery}. */
export const deliveryColumns = `d.id, d.uuid::text AS uuid, d.webhook_id, d.status, d.retry_count, d.next_attempt_at,
  d.last_status, d.last_error_kind, d.last_attempt_at, d.last_duration_ms, d.body::text AS body,
  d.created_at, d.updated_at, e.uuid::text AS event_uuid, e.type AS event_type, e.data::text AS data,
  e.payload_key, e.subject_type, e.subject_id, d.ordering_key, d.sequence,
  d.next_attempt_at = 'infinity' AS parked`

export function toDelivery(row: Row): Delivery {
  const status = row.status as DeliveryStatus
  const uuid = String(row.uuid)
  const eventType = String(row.event_type)
  return {
    id: int(row.id),
    uuid,
    webhookId: int(row.webhook_id),
    eventUuid: String(row.event_uuid),
    eventType,
    status,
    retryCount: int(row.retry_count),
    nextAttemptAt: status === 'pending' && !row.parked ? date(row.next_attempt_at) : null,
    ordering:
      row.ordering_key === null || row.ordering_key === undefined
        ? null
        : { key: String(row.ordering_key), sequence: int(row.sequence) },
    lastStatus: numberOrNull(row.last_status),
    lastErrorKind: (row.last_error_kind as ErrorKind | null) ?? null,
    lastAttemptAt: dateOrNull(row.last_attempt_at),
    lastDurationMs: numberOrNull(row.last_duration_ms),
    subject: row.subject_type ? { type: String(row.subject_type), id: String(row.subject_id) } : null,
    body:
      (row.body as string | null) ??
      buildBody(eventType, uuid, row.payload_key as PayloadKey, String(row.data)),
    createdAt: date(row.created_at),
    updatedAt: date(row.updated_at),
  }
}

export function toAttempt(row: Row): Attempt {
  return {
    id: int(row.id),
    deliveryId: int(row.delivery_id),
    attempt: int(row.attempt),
    createdAt: date(row.created_at),
    durationMs: int(row.duration_ms),
    status: numberOrNull(row.status),
    errorKind: (row.error_kind as ErrorKind | null) ?? null,
    error: (row.error as string | null) ?? null,
    requestHeaders: json<Record<string, string>>(row.request_headers),
    responseHeaders:
      row.response_headers === null ? null : json<Record<string, string>>(row.response_headers),
    responseBody: (row.response_body as string | null) ?? null,
    responseTruncated: Boolean(row.response_truncated),
    callbackError: (row.callback_error as string | null) ?? null,
  }
}

/** What sending needs of a webhook; kept by the {@link Store} between claims. */
export interface ClaimedWebhook
  extends Pick<
    Webhook,
    | 'id'
    | 'targetUrl'
    | 'additionalHeaders'
    | 'config'
    | 'retryCountdownConfig'
    | 'callback'
    | 'sendTraceparent'
    | 'timeout'
    | 'updatedAt'
  > {
  /** Its keys, ready to sign, newest first (each attempt signs with those live then); none when unsigned. */
  signers: readonly Signer[]
  /** Why its secrets cannot be opened (an encryption key missing or wrong); it is then never sent. */
  secretsError: WhispererError | null
}

/** A delivery taken by a claim: everything needed to send it, with its lease. */
export interface ClaimedDelivery {
  id: number
  uuid: string
  /** The lease this claim holds; a completion applies only while it is still the row's. */
  lease: Date
  retryCount: number
  eventType: string
  body: string
  subjectId: string | null
  /** When the delivery was enqueued. */
  createdAt: Date
  /** The W3C trace context the event was published under (`traceparent[ tracestate]`), if any. */
  traceContext: string | null
  /** Whether the webhook was failing when the delivery was claimed (its success is then a recovery). */
  webhookFailing: boolean
  /** Claimed under its webhook's rate limit: its outcome adjusts the shared rate. */
  rated: boolean
  /** Its send slot under the rate limit: it is not sent before then; null to send at once. */
  notBefore: Date | null
  /** Under a rate limit, the least time (ms) between two sends to its webhook from one process. */
  spacingMs: number | null
  /** Its lane's ordering key and its sequence in the lane; null for an unordered delivery. */
  ordering: { key: string; sequence: number } | null
  webhook: ClaimedWebhook
}

/** A claimed row before its webhook is attached: the webhook's id and version only. */
export interface ClaimedRow extends Omit<ClaimedDelivery, 'webhook'> {
  webhookId: number
  webhookUpdatedAt: Date
}

/**
 * Columns of a claimed delivery (`d`, `e`, and `w` for the webhook's version only: the webhook
 * itself comes from the store's cache, so a claim does not carry and parse it on every row).
 */
export const claimedColumns = `d.id, d.uuid::text AS uuid, d.next_attempt_at AS lease, d.retry_count, d.body::text AS body,
  e.type AS event_type, e.data::text AS data, e.payload_key, e.subject_id, d.webhook_id, w.updated_at AS webhook_updated_at,
  d.created_at, e.trace_context, w.failing_since IS NOT NULL AS webhook_failing, d.ordering_key, d.sequence`

/**
 * Columns of a delivery claimed as it is inserted: the event row is not visible to its own
 * statement yet, so its fields come from the parameters ($2 type, $3 data, $4 key, $6 subject id,
 * $15 trace context).
 */
export const insertedClaimedColumns = `d.id, d.uuid::text AS uuid, d.next_attempt_at AS lease, d.retry_count,
  d.body::text AS body, $2::text AS event_type, $3::text AS data, $4::text AS payload_key,
  $6::text AS subject_id, d.webhook_id, w.updated_at AS webhook_updated_at, d.created_at,
  $15::text AS trace_context, w.failing_since IS NOT NULL AS webhook_failing, d.ordering_key, d.sequence`

export function toClaimedRow(row: Row): ClaimedRow {
  const uuid = String(row.uuid)
  const eventType = String(row.event_type)
  return {
    id: int(row.id),
    uuid,
    lease: date(row.lease),
    retryCount: int(row.retry_count),
    eventType,
    body:
      (row.body as string | null) ??
      buildBody(eventType, uuid, row.payload_key as PayloadKey, String(row.data)),
    subjectId: (row.subject_id as string | null) ?? null,
    createdAt: date(row.created_at),
    traceContext: (row.trace_context as string | null) ?? null,
    webhookFailing: Boolean(row.webhook_failing),
    rated: Boolean(row.rated),
    notBefore: dateOrNull(row.slot_at),
    spacingMs: row.slot_rate === null || row.slot_rate === undefined ? null : 1000 / Number(row.slot_rate),
    ordering:
      row.ordering_key === null || row.ordering_key === undefined
        ? null
        : { key: String(row.ordering_key), sequence: int(row.sequence) },
    webhookId: int(row.webhook_id),
    webhookUpdatedAt: date(row.webhook_updated_at),
  }
}

export const claimedWebhookColumns = `id, target_url, signing_keys, additional_headers, config, retry_countdown_config,
  callback, send_traceparent, timeout_seconds, updated_at`

/** A webhook as sending needs it, its secrets opened with `ring` (or the error that prevented it). */
export function toClaimedWebhook(row: Row, ring: KeyRing): ClaimedWebhook {
  let secretsError: WhispererError | null = null
  const signers = toSigners(json<StoredKey[]>(row.signing_keys), ring)
  let config = json<Record<string, unknown>>(row.config)
  try {
    config = openAuth(config, ring)
  } catch (error) {
    secretsError = error as WhispererError
  }
  if (!Array.isArray(signers)) secretsError = signers
  return {
    id: int(row.id),
    targetUrl: String(row.target_url),
    signers: Array.isArray(signers) ? signers : [],
    secretsError,
    additionalHeaders: json<Record<string, string>>(row.additional_headers),
    config,
    retryCountdownConfig: json<CountdownConfig>(row.retry_countdown_config),
    callback: (row.callback as string | null) ?? null,
    sendTraceparent: Boolean(row.send_traceparent),
    timeout: numberOrNull(row.timeout_seconds),
    updatedAt: date(row.updated_at),
  }
}

/** A delivery created by an enqueue. */
export interface EnqueuedDelivery {
  id: number
  uuid: string
  webhookId: number
}

/** The deliveries an enqueue created, by the uuid of their event. */
export function toEnqueuedByEvent(rows: Row[]): Map<string, EnqueuedDelivery[]> {
  const deliveries = new Map<string, EnqueuedDelivery[]>()
  for (const row of rows) {
    const eventUuid = String(row.event_uuid)
    const list = deliveries.get(eventUuid) ?? []
    list.push({ id: int(row.id), uuid: String(row.uuid), webhookId: int(row.webhook_id) })
    deliveries.set(eventUuid, list)
  }
  return deliveries
}

export function toStatsRow(row: Row): StatsRow {
  return {
    bucket: numberOrNull(row.bucket),
    total: int(row.total),
    delivered: int(row.delivered),
    failed: int(row.failed),
    cancelled: int(row.cancelled),
    p50Ms: numberOrNull(row.p50_ms),
    p99Ms: numberOrNull(row.p99_ms),
  }
}

/** A delivery's attempts in short: their times (newest first) and the last response body. */
export interface AttemptSummary {
  times: Date[]
  lastResponseBody: string | null
}

export function toAttemptSummary(row: Row): AttemptSummary {
  return {
    times: (row.times as unknown[]).map(date),
    lastResponseBody: (row.last_response_body as string | null) ?? null,
  }
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

export function toToken(row: Row): ApiTokenRow {
  return {
    id: String(row.id),
    name: String(row.name),
    owner: String(row.owner),
    scopes: row.scopes as string[],
    createdAt: date(row.created_at),
    lastUsedAt: dateOrNull(row.last_used_at),
    revokedAt: dateOrNull(row.revoked_at),
  }
}

/** An event type declared by configuration or through the API. */
export interface StoredEventType {
  type: string
  description: string | null
  jsonSchema: object | null
  fields: string[] | null
}

export function toStoredEventType(row: Row): StoredEventType {
  return {
    type: String(row.type),
    description: (row.description as string | null) ?? null,
    jsonSchema: row.json_schema === null ? null : json<object>(row.json_schema),
    fields: (row.fields as string[] | null) ?? null,
  }
}

/** A portal session, without the digests of its secrets. */
export interface PortalSessionRow {
  id: string
  owner: string
  /** The event types it may see and subscribe to; null for every one. */
  eventTypes: string[] | null
  readOnly: boolean
  createdAt: Date
  expiresAt: Date
  exchangedAt: Date | null
  revokedAt: Date | null
}

export function toPortalSession(row: Row): PortalSessionRow {
  return {
    id: String(row.id),
    owner: String(row.owner),
    eventTypes: (row.event_types as string[] | null) ?? null,
    readOnly: Boolean(row.read_only),
    createdAt: date(row.created_at),
    expiresAt: date(row.expires_at),
    exchangedAt: dateOrNull(row.exchanged_at),
    revokedAt: dateOrNull(row.revoked_at),
  }
}
