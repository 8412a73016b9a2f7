import { createRoute, type OpenAPIHono } from '@hono/zod-openapi'
import { type ApiEnv, requires } from '../context.ts'
import { ErrorBody, json, PublishBody, PublishResult } from '../schemas.ts'

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
        'Data that fails the event type’s schema is refused with 422 and the failing paths.',
      request: { body: { content: { 'application/json': { schema: PublishBody } }, required: true } },
      responses: {
        202: json(PublishResult, 'Queued for delivery'),
        422: json(ErrorBody, 'The data does not match the event type’s schema'),
        ...errors,
      },
    }),
    async (c) => {
      const backend = c.get('backend')
      const body = c.req.valid('json')
      const result = await backend.deliverEvent(body.data, body.event_type, {
        ...(body.config_filter ? { configFilter: body.config_filter } : {}),
      })
      return c.json(
        {
          event_uuid: result.eventUuid,
          deliveries: result.deliveries.map((d) => ({ uuid: d.uuid, webhook: d.webhookId })),
        },
        202,
      )
    },
  )
}
