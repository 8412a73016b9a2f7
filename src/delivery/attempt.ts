import type { Tracer } from '@opentelemetry/api'
import { nextTransition, type RetryPolicy, type Transition } from '../core/delivery-state.ts'
import { type AttemptResult, classifyAttempt } from '../core/outcome.ts'
import { buildRequest, maskHeaders, type OutgoingRequest, staticAuthorization } from '../core/request.ts'
import type { CountdownRegistry } from '../core/retry-countdown.ts'
import { liveSigners } from '../core/signing-keys.ts'
import type { Logger } from '../logger.ts'
import type { ClaimedDelivery, ClaimedWebhook, Completion } from '../storage/store.ts'
import type { Metrics } from '../telemetry/metrics.ts'
import { type AttemptSpanResult, inAttemptSpan } from '../telemetry/tracing.ts'
import type { Sender } from './sender.ts'
import { TokenAuthenticator } from './token-auth.ts'

/** What one attempt needs besides the delivery. */
export interface AttemptContext {
  sender: Sender
  tokens: TokenAuthenticator
  countdowns: CountdownRegistry
  policy: RetryPolicy
  userAgent: string
  clock: () => Date
  random: () => number
  /** Spans of attempts and pings (and of publishing): non-recording unless an OpenTelemetry SDK is registered. */
  tracer: Tracer
  /** Where attempts, claims and publishes are counted; null when metrics are off. */
  metrics: Metrics | null
  logger: Logger
}

/**
 * How long a delivery waits, without an attempt, when its webhook's secrets cannot be opened (an
 * encryption key missing or wrong) before it is claimed again: it is never sent unsigned, and
 * never failed for the operator's mistake.
 */
export const heldForSecretsMs = 60_000

/**
 * Splits claimed deliveries into those that can be sent and those held because their webhook's
 * secrets cannot be opened, logging the latter once per call with the error (it names the key id).
 */
export function holdUnopenable(
  deliveries: readonly ClaimedDelivery[],
  logger: Logger,
): { sendable: ClaimedDelivery[]; held: ClaimedDelivery[] } {
  const sendable: ClaimedDelivery[] = []
  const held: ClaimedDelivery[] = []
  for (const delivery of deliveries) (delivery.webhook.secretsError ? held : sendable).push(delivery)
  if (held.length > 0) {
    const webhooks = [...new Set(held.map((delivery) => delivery.webhook.id))]
    logger.error(
      { err: held[0]!.webhook.secretsError, webhooks, deliveries: held.length },
      `deliveries held for ${heldForSecretsMs / 1000} s: their webhook's secrets cannot be decrypted`,
    )
  }
  return { sendable, held }
}

/** One attempt, made and judged, ready to be recorded. */
export interface AttemptReport {
  delivery: ClaimedDelivery
  result: AttemptResult
  transition: Transition
  completion: Completion
}

/** What a request to a webhook is built from: where it goes, how it is signed and authenticated. */
export type RequestTarget = Pick<
  ClaimedWebhook,
  'id' | 'targetUrl' | 'signers' | 'secretsError' | 'additionalHeaders' | 'config' | 'sendTraceparent'
>

/**
 * The request of one attempt or ping: its body signed at `at` with the keys live then, with the
 * webhook's authorization
 * (a token login when its auth asks for one, reused while valid) and headers, and `traceparent`
 * when the webhook asks for it.
 */
/** A webhook's own read timeout (its `timeout`), in ms; null for the service's. */
export function readTimeoutOf(webhook: Pick<ClaimedWebhook, 'timeout'>): number | null {
  return webhook.timeout === null ? null : webhook.timeout * 1000
}

export async function prepareRequest(
  webhook: RequestTarget,
  message: {
    eventType: string
    uuid: string
    body: string
    ordering?: { key: string; sequence: number } | null
  },
  context: Pick<AttemptContext, 'tokens' | 'userAgent'>,
  at: Date,
  traceparent: string | null = null,
): Promise<OutgoingRequest> {
  // Never sent unsigned, or without its credentials, because its secrets could not be opened.
  if (webhook.secretsError) throw webhook.secretsError
  const auth = webhook.config.auth
  const authorization = TokenAuthenticator.applies(auth)
    ? await context.tokens.authorization(webhook.id, auth, context.userAgent)
    : staticAuthorization(auth)
  return buildRequest({
    targetUrl: webhook.targetUrl,
    eventType: message.eventType,
    deliveryUuid: message.uuid,
    body: message.body,
    signers: liveSigners(webhook.signers, at.getTime()),
    additionalHeaders: webhook.additionalHeaders,
    authorization,
    timestamp: Math.floor(at.getTime() / 1000),
    userAgent: context.userAgent,
    traceparent: webhook.sendTraceparent ? traceparent : null,
    ordering: message.ordering ?? null,
  })
}

/**
 * Makes one attempt of a claimed delivery: builds and signs the request, sends it, and decides
 * where the delivery goes next. It never throws for an HTTP failure; that is an outcome.
 */
export function runAttempt(delivery: ClaimedDelivery, context: AttemptContext): Promise<AttemptReport> {
  const target = {
    name: 'whisperer.attempt',
    targetUrl: delivery.webhook.targetUrl,
    traceContext: delivery.traceContext,
    attributes: {
      'whisperer.delivery.uuid': delivery.uuid,
      'whisperer.event_type': delivery.eventType,
      'whisperer.attempt': delivery.retryCount + 1,
    },
  } as const
  return inAttemptSpan(
    context.tracer,
    target,
    (traceparent) => attempt(delivery, context, traceparent),
    ({ result, transition }) => spanResult(result, transition.status === 'delivered'),
  )
}

/** What a span records of an attempt's result. */
export function spanResult(result: AttemptResult, delivered: boolean): AttemptSpanResult {
  if (result.kind === 'error') return { status: null, errorType: result.error, delivered }
  const success = result.status >= 200 && result.status < 300
  return { status: result.status, errorType: success ? null : String(result.status), delivered }
}

async function attempt(
  delivery: ClaimedDelivery,
  context: AttemptContext,
  traceparent: string | null,
): Promise<AttemptReport> {
  const { webhook } = delivery
  const startedAt = context.clock()
  const request = await prepareRequest(webhook, delivery, context, startedAt, traceparent)
  const result = await context.sender.send(request, { readTimeoutMs: readTimeoutOf(webhook) })
  if (result.kind === 'response' && (result.status === 401 || result.status === 403))
    context.tokens.forget(webhook.id)
  const finishedAt = context.clock()
  const transition = nextTransition({
    outcome: classifyAttempt(result, finishedAt),
    retryCount: delivery.retryCount,
    countdown: (retry) =>
      context.countdowns.delaySeconds(webhook.retryCountdownConfig, retry, context.random),
    policy: context.policy,
    finishedAt,
  })
  const response = result.kind === 'response' ? result : null
  return {
    delivery,
    result,
    transition,
    completion: {
      id: delivery.id,
      lease: delivery.lease,
      webhookId: webhook.id,
      webhookFailing: delivery.webhookFailing,
      gone: transition.disableWebhook,
      ordered: delivery.ordering !== null,
      attempt: {
        attempt: delivery.retryCount + 1,
        createdAt: startedAt,
        durationMs: result.durationMs,
        status: response?.status ?? null,
        errorKind: transition.status === 'delivered' ? null : result.kind === 'error' ? result.error : 'http',
        error: result.kind === 'error' ? result.message : null,
        requestHeaders: maskHeaders(request.headers),
        responseHeaders: response?.headers ?? null,
        responseBody: response?.body ?? null,
        responseTruncated: response?.truncated ?? false,
      },
      next: transition,
    },
  }
}
