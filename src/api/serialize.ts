import type { Attempt, Delivery } from '../core/delivery.ts'
import type { EventTypeDefinition } from '../core/event-types.ts'
import { maskHeaders } from '../core/request.ts'
import type { Webhook, WebhookWithSecret } from '../core/webhook.ts'
import { drfDuration } from './wire.ts'

/** What a masked secret reads as; sending it back in an update keeps the stored value. */
export const masked = '********'

const secretAuthFields = ['password', 'token'] as const

/**
 * A webhook over the wire. Its secret key is masked (shown only in the response that set it, when
 * given a {@link WebhookWithSecret} with one); the password or token in `config.auth`, and
 * additional headers that carry credentials (`Authorization`, `X-Api-Key`, …) are masked, except in
 * the response that created it (`reveal`).
 */
export function webhookJson(webhook: Webhook | WebhookWithSecret, options: { reveal?: boolean } = {}) {
  const secret = 'secretKey' in webhook ? webhook.secretKey : null
  let config = webhook.config
  if (!options.reveal && config.auth && typeof config.auth === 'object') {
    const auth = { ...(config.auth as Record<string, unknown>) }
    for (const field of secretAuthFields)
      if (auth[field] !== undefined && auth[field] !== null) auth[field] = masked
    config = { ...config, auth }
  }
  return {
    id: webhook.id,
    owner: webhook.owner,
    event_type: webhook.eventType,
    event_types: webhook.eventTypes,
    target_url: webhook.targetUrl,
    secret_key: secret ?? (webhook.signatureScheme ? masked : null),
    signed: webhook.signatureScheme !== null,
    signature_scheme: webhook.signatureScheme,
    public_key: webhook.publicKey,
    secret_rotated_at: webhook.secretRotatedAt?.toISOString() ?? null,
    previous_keys: webhook.previousKeys.map((key) => ({
      signature_scheme: key.scheme,
      public_key: key.publicKey,
      expires_at: key.expiresAt.toISOString(),
    })),
    is_active: webhook.isActive,
    retry_countdown_config: webhook.retryCountdownConfig,
    callback: webhook.callback,
    additional_headers: options.reveal ? webhook.additionalHeaders : maskHeaders(webhook.additionalHeaders),
    config,
    filters: webhook.filters,
    fields: webhook.fields,
    send_traceparent: webhook.sendTraceparent,
    rate_limit: webhook.rateLimit,
    rate_limit_current: webhook.rateLimitCurrent,
    timeout: webhook.timeout,
    ordering_on_failure: webhook.orderingOnFailure,
    disabled_reason: webhook.disabledReason,
    failing_since: webhook.failingSince?.toISOString() ?? null,
    created_date: webhook.createdAt.toISOString(),
    modified_date: webhook.updatedAt.toISOString(),
  }
}

/**
 * An update body whose masked secrets (as a GET returned them) mean "unchanged": they are replaced
 * by the stored values, so that a client may send back what it read.
 */
export function unmask(body: unknown, current: Webhook): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return body
  const result: Record<string, unknown> = { ...body }
  // The secret as read back means "keep it": it is left out.
  if (result.secret_key === masked) delete result.secret_key
  const headers = result.additional_headers
  if (headers && typeof headers === 'object' && !Array.isArray(headers)) {
    const shown = maskHeaders(current.additionalHeaders)
    result.additional_headers = Object.fromEntries(
      Object.entries(headers as Record<string, unknown>).map(([name, value]) => [
        name,
        value === shown[name] && value !== current.additionalHeaders[name]
          ? current.additionalHeaders[name]
          : value,
      ]),
    )
  }
  const auth = (result.config as { auth?: unknown } | undefined)?.auth
  const stored = current.config.auth as Record<string, unknown> | undefined
  if (auth && typeof auth === 'object' && !Array.isArray(auth) && stored) {
    const merged = { ...(auth as Record<string, unknown>) }
    for (const field of secretAuthFields) if (merged[field] === masked) merged[field] = stored[field]
    result.config = { ...(result.config as Record<string, unknown>), auth: merged }
  }
  return result
}

/** A delivery over the wire, as dj-whisperer's WebhookEvent with Whisperer's additions. */
export function hookEventJson(
  delivery: Delivery,
  webhook: Webhook | null,
  summary: { times: Date[]; lastResponseBody: string | null } | undefined,
) {
  return {
    id: delivery.id,
    uuid: delivery.uuid,
    event_uuid: delivery.eventUuid,
    event_type: delivery.eventType,
    status: delivery.status,
    delivered: delivery.status === 'delivered',
    webhook: webhook ? webhookJson(webhook) : null,
    retry_count: delivery.retryCount,
    next_attempt_at: delivery.nextAttemptAt?.toISOString() ?? null,
    ordering_key: delivery.ordering?.key ?? null,
    sequence: delivery.ordering?.sequence ?? null,
    request_payload: JSON.parse(delivery.body) as unknown,
    response_content: summary?.lastResponseBody ?? null,
    response_http_status: delivery.lastStatus,
    response_time: drfDuration(delivery.lastDurationMs),
    request_datetimes: (summary?.times ?? []).map((time) => time.toISOString()),
    last_error_kind: delivery.lastErrorKind,
    object_id: delivery.subject?.id ?? null,
    content_type: delivery.subject?.type ?? null,
    created_date: delivery.createdAt.toISOString(),
    modified_date: delivery.updatedAt.toISOString(),
  }
}

export function attemptJson(attempt: Attempt) {
  return {
    attempt: attempt.attempt,
    created_date: attempt.createdAt.toISOString(),
    duration_ms: attempt.durationMs,
    response_http_status: attempt.status,
    error_kind: attempt.errorKind,
    error: attempt.error,
    request_headers: attempt.requestHeaders,
    response_headers: attempt.responseHeaders,
    response_content: attempt.responseBody,
    response_truncated: attempt.responseTruncated,
    callback_error: attempt.callbackError,
  }
}

export function eventQueueJson(delivery: Delivery) {
  return {
    id: delivery.id,
    uuid: delivery.uuid,
    hook_id: delivery.webhookId,
    event_type: delivery.eventType,
    object_id: delivery.subject?.id ?? null,
    created_date: delivery.createdAt.toISOString(),
    modified_date: delivery.updatedAt.toISOString(),
  }
}

/** An event type over the wire; `fields` are those it exposes, declared or read from its schema. */
export function eventTypeJson(
  definition: EventTypeDefinition<unknown>,
  jsonSchema: unknown,
  fields: readonly string[] | null,
) {
  return {
    type: definition.type,
    description: definition.description ?? null,
    json_schema: jsonSchema ?? null,
    fields: fields ? [...fields] : null,
  }
}
