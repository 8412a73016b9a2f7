import { createRoute, type OpenAPIHono } from '@hono/zod-openapi'
import type { MiddlewareHandler } from 'hono'
import { validationError, WhispererError } from '../../core/errors.ts'
import type { RoutingReason } from '../../service/deliveries.ts'
import { allows } from '../auth.ts'
import { type ApiEnv, actorOf, requires } from '../context.ts'
import {
  ErrorBody,
  EventRouting,
  EventUuidParam,
  json,
  PublishBody,
  PublishHeaders,
  PublishResult,
  RoutingQuery,
} from '../schemas.ts'

const errors = {
  400: json(ErrorBody, 'Invalid input'),
  401: json(ErrorBody, 'Not authenticated'),
  403: json(ErrorBody, 'The token lacks the scope'),
}

/** A subscriber (for its webhooks) or a publisher (for its owner's) may read an event's routing. */
const readsRouting: MiddlewareHandler<ApiEnv> = async (c, next) => {
  const principal = c.get('principal')
  if (!allows(principal, 'subscriber') && !allows(principal, 'publisher')) {
    throw new WhispererError('forbidden', 'This token lacks the subscriber or publisher scope')
  }
  await next()
}

/** Publishing events (server mode): `POST events/`; why one did or did not arrive: `GET events/{uuid}/routing/`. */
export function eventRoutes(app: OpenAPIHono<ApiEnv>): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/events/',
      ...requires('publisher'),
      tags: ['Events'],
      summary: 'Publish an event',
      description:
        'Delivers `data` as an event of `event_type` to every active webhook subscribed to it (publisher scope). ' +
        'Data that fails the event type’s schema is refused with 422 and the failing paths. ' +
        'With an idempotency key (`Idempotency-Key` header or `idempotency_key`), a repeat by the same owner within ' +
        '`idempotencyTtl` (24 h) answers 200 with the first publish’s event and deliveries and `idempotent_replay: true`, ' +
        'and stores nothing; a repeat with other data is 409 `idempotency_key_reused`.',
      request: {
        headers: PublishHeaders,
        body: { content: { 'application/json': { schema: PublishBody } }, required: true },
      },
      responses: {
        200: json(PublishResult, 'A repeat of an idempotency key: the first publish’s result'),
        202: json(PublishResult, 'Queued for delivery'),
        409: json(ErrorBody, 'The idempotency key was used for other data'),
        422: json(ErrorBody, 'The data does not match the event type’s schema'),
        ...errors,
      },
    }),
    async (c) => {
      const backend = c.get('backend')
      const body = c.req.valid('json')
      const header = c.req.valid('header')['idempotency-key']
      if (header !== undefined && body.idempotency_key !== undefined && header !== body.idempotency_key) {
        throw validationError([
          {
            path: 'idempotency_key',
            message: 'Differs from the Idempotency-Key header: give one, or the same.',
          },
        ])
      }
      const key = body.idempotency_key ?? header
      const result = await backend.deliverEvent(body.data, body.event_type, {
        ...(body.config_filter ? { configFilter: body.config_filter } : {}),
        ...(key !== undefined ? { idempotencyKey: key, idempotencyOwner: c.get('principal').owner } : {}),
        ...(body.ordering_key !== undefined ? { orderingKey: body.ordering_key } : {}),
      })
      const replay = result.idempotentReplay === true
      return c.json(
        {
          event_uuid: result.eventUuid,
          deliveries: result.deliveries.map((d) => ({ uuid: d.uuid, webhook: d.webhookId })),
          idempotent_replay: replay,
        },
        replay ? 200 : 202,
      )
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/events/{uuid}/routing/',
      security: [{ token: ['subscriber'] }, { token: ['publisher'] }],
      middleware: [readsRouting as MiddlewareHandler],
      tags: ['Events'],
      summary: 'Why an event did or did not arrive',
      description:
        'For every webhook of the event’s type (the caller’s owner’s; every owner’s for an admin), whether the event ' +
        'was delivered to it (its delivery’s uuid and status) and, if not, why: `not_subscribed` (for the one ' +
        'webhook `?webhook=` asks about, whose event types do not match), `inactive`, `deleted`, `created_after`, ' +
        '`config_filter` (naming the key) or `filter` (naming the condition). Each webhook is evaluated as it is now ' +
        '(`evaluated: "now"`), saying whether it changed since the publish. An owner with no webhook of the type gets ' +
        'an empty list. An event that matched no webhook is not stored: 404 `event_not_found`.',
      request: { params: EventUuidParam, query: RoutingQuery },
      responses: {
        200: json(EventRouting, 'The event’s routing'),
        404: json(ErrorBody, 'No stored event has this uuid'),
        ...errors,
      },
    }),
    async (c) => {
      const actor = actorOf(c.get('principal'))
      const { webhook } = c.req.valid('query')
      const routing = await c.get('backend').deliveries.routing(actor, c.req.valid('param').uuid, {
        ...(webhook !== undefined ? { webhookId: webhook } : {}),
      })
      return c.json(
        {
          event_uuid: routing.eventUuid,
          event_type: routing.eventType,
          published_at: routing.publishedAt.toISOString(),
          config_filter: routing.configFilter,
          webhooks: routing.webhooks.map((w) => ({
            webhook: w.webhookId,
            owner: w.owner,
            target_url: w.targetUrl,
            delivered: w.delivery !== null,
            delivery: w.delivery,
            reasons: w.reasons.map(reasonToWire),
            evaluated: w.evaluated,
            changed_since_publish: w.changedSincePublish,
          })),
        },
        200,
      )
    },
  )
}

function reasonToWire(reason: RoutingReason) {
  switch (reason.code) {
    case 'not_subscribed':
      return { code: reason.code, event_types: reason.eventTypes }
    case 'inactive':
      return { code: reason.code, disabled_reason: reason.disabledReason }
    case 'deleted':
      return { code: reason.code, deleted_at: reason.deletedAt.toISOString() }
    case 'created_after':
      return { code: reason.code, created_at: reason.createdAt.toISOString() }
    default:
      return reason
  }
}
