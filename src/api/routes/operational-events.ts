import { createRoute, type OpenAPIHono } from '@hono/zod-openapi'
import { type ApiEnv, actorOf, requires } from '../context.ts'
import { ErrorBody, json, OperationalEvent, OperationalEventQuery } from '../schemas.ts'

/** The latest operational events: what happened to the caller's webhooks, whoever receives it. */
export function operationalEventRoutes(app: OpenAPIHono<ApiEnv>): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/operational_events/',
      ...requires('subscriber'),
      tags: ['Webhooks'],
      summary: 'Recent operational events',
      description:
        'Newest first: webhooks failing, disabled or recovered, and deliveries that failed for good, about the ' +
        'caller’s webhooks (every owner’s for an admin). They are listed whether or not a webhook receives them.',
      request: { query: OperationalEventQuery },
      responses: {
        200: json(OperationalEvent.array(), 'Operational events'),
        400: json(ErrorBody, 'Invalid input'),
        401: json(ErrorBody, 'Not authenticated'),
        403: json(ErrorBody, 'The token lacks the scope'),
      },
    }),
    async (c) => {
      const query = c.req.valid('query')
      const events = await c
        .get('backend')
        .deliveries.operationalEvents(actorOf(c.get('principal'), query.owner), {
          ...(query.type ? { type: query.type } : {}),
          limit: query.limit ?? 20,
        })
      return c.json(
        events.map((event) => ({
          uuid: event.uuid,
          type: event.type,
          webhook_id: event.webhookId,
          created_at: event.createdAt.toISOString(),
          data: event.data,
        })),
        200,
      )
    },
  )
}
