import { randomUUID } from 'node:crypto'
import type { AttemptResult } from '../core/outcome.ts'
import { buildBody, type PayloadKey, toJson } from '../core/payload.ts'
import type { Webhook } from '../core/webhook.ts'
import type { ClaimedWebhook } from '../storage/store.ts'
import { inAttemptSpan } from '../telemetry/tracing.ts'
import { type AttemptContext, prepareRequest, readTimeoutOf, spanResult } from './attempt.ts'

/** The event type of a test ping. */
export const pingEventType = 'whisperer.ping'

/**
 * Sends a test ping to a webhook, signed and authenticated like any delivery, and returns what
 * happened. Nothing is stored: a ping is not an event.
 */
export async function sendPing(
  webhook: Pick<Webhook, 'id' | 'eventType'> & ClaimedWebhook,
  context: AttemptContext,
  payloadKey: PayloadKey,
): Promise<AttemptResult> {
  const uuid = randomUUID()
  const data = toJson({ webhook_id: webhook.id, event_type: webhook.eventType })
  const body = buildBody(pingEventType, uuid, payloadKey, data)
  const target = {
    name: 'whisperer.ping',
    targetUrl: webhook.targetUrl,
    traceContext: null,
    attributes: { 'whisperer.event_type': pingEventType, 'whisperer.webhook.id': webhook.id },
  } as const
  return inAttemptSpan(
    context.tracer,
    target,
    async (traceparent) => {
      const message = { eventType: pingEventType, uuid, body }
      const request = await prepareRequest(webhook, message, context, context.clock(), traceparent)
      return context.sender.send(request, { readTimeoutMs: readTimeoutOf(webhook) })
    },
    (result) => spanResult(result, result.kind === 'response' && result.status >= 200 && result.status < 300),
  )
}
