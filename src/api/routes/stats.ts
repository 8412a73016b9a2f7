import { createRoute, type OpenAPIHono } from '@hono/zod-openapi'
import { type ApiEnv, actorOf, requires } from '../context.ts'
import { ErrorBody, json, Stats, StatsQuery } from '../schemas.ts'

/** Delivery statistics, as the dashboard's overview draws them. */
export function statsRoutes(app: OpenAPIHono<ApiEnv>): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/stats/',
      ...requires('subscriber'),
      tags: ['Deliveries'],
      summary: 'Delivery statistics over the last hour or day',
      description:
        'Deliveries created in the window, per minute (1h) or per 15 minutes (24h), by what became of them; ' +
        'the success rate; and the time to deliver (median and 99th percentile), from creation to the end ' +
        'of the successful attempt.',
      request: { query: StatsQuery },
      responses: {
        200: json(Stats, 'The statistics'),
        400: json(ErrorBody, 'Invalid input'),
        401: json(ErrorBody, 'Not authenticated'),
        403: json(ErrorBody, 'The token lacks the scope'),
      },
    }),
    async (c) => {
      const query = c.req.valid('query')
      const principal = c.get('principal')
      const stats = await c
        .get('backend')
        .deliveries.stats(actorOf(principal, query.owner), query.window ?? '1h')
      return c.json(
        {
          window: stats.window,
          since: stats.since.toISOString(),
          until: stats.until.toISOString(),
          bucket_seconds: stats.bucketSeconds,
          buckets: stats.buckets.map(({ start, p50Ms, p99Ms, ...counts }) => ({
            start: start.toISOString(),
            ...counts,
            p50_ms: p50Ms,
            p99_ms: p99Ms,
          })),
          totals: stats.totals,
          success_rate: stats.successRate,
          per_minute: stats.perMinute,
          time_to_deliver_ms: { p50: stats.p50Ms, p99: stats.p99Ms },
        },
        200,
      )
    },
  )
}
