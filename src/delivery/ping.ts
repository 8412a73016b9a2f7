import { randomUUID } from 'node:crypto'
import type { AttemptResult } from '../core/outcome.ts'
import { buildBody, type PayloadKey, toJson } from '../core/payload.ts'
import { buildRequest, staticAuthorization } from '../core/request.ts'
import type { Webhook } from '../core/webhook.ts'
import type { AttemptContext } from './attempt.ts'
import { TokenAuthenticator } from './token-auth.ts'

/** The event type of a test ping. */
export const pingEventType = 'whisperer.ping'

/**
 * Sends a test ping to a webhook, signed and authenticated like any delivery, and returns what
 * happened. Nothing is stored: a ping is not an event.
 */
export async function sendPing(
  webhook: Webhook,
  context: AttemptContext,
  payloadKey: PayloadKey,
): Promise<AttemptResult> {
  const uuid = randomUUID()
  const data = toJson({ webhook_id: webhook.id, event_type: webhook.eventType })
  const auth = webhook.config.auth
  const authorization = TokenAuthenticator.applies(auth)
    ? await context.tokens.authorization(webhook.id, auth, context.userAgent)
    : staticAuthorization(auth)
  const request = buildRequest({
    targetUrl: webhook.targetUrl,
    eventType: pingEventType,
    deliveryUuid: uuid,
    body: buildBody(pingEventType, uuid, payloadKey, data),
    secretKey: webhook.secretKey,
    additionalHeaders: webhook.additionalHeaders,
    authorization,
    timestamp: Math.floor(context.clock().getTime() / 1000),
    userAgent: context.userAgent,
  })
  return context.sender.send(request)
}
