import { createRoute, type OpenAPIHono } from '@hono/zod-openapi'
import { validationError } from '../../core/errors.ts'
import { type ApiEnv, requires } from '../context.ts'
import { ErrorBody, json, PublishBody, PublishHeaders, PublishResult } from '../schemas.ts'

const errors = {
  400: json(ErrorBody, 'Invalid input'),
  401: json(ErrorBody, 'Not authenticated'),
  403: json(ErrorBody, 'The token lacks the scope'),
}

/** Publishing events (server mode): `POST events/`. */
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
}
