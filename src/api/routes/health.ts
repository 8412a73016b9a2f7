import { createRoute, type OpenAPIHono } from '@hono/zod-openapi'
import { z } from 'zod'
import type { ApiBackend } from '../backend.ts'
import type { ApiEnv } from '../context.ts'

const up = z.object({ status: z.literal('ok') }).meta({ id: 'Health' })
const ready = z
  .object({
    status: z.literal('ok'),
    secrets: z
      .enum(['encrypted', 'clear'])
      .describe(
        'Whether webhook secrets are stored encrypted (`WHISPERER_ENCRYPTION_KEYS` is set) or in clear.',
      ),
  })
  .meta({ id: 'Ready' })
const unavailable = z
  .object({
    status: z.literal('unavailable'),
    reason: z.enum(['database_unavailable', 'migrations_pending']),
  })
  .meta({ id: 'Unavailable' })

/**
 * Liveness and readiness, for probes: no token, and nothing internal in the answers. Declared
 * before authentication.
 */
export function healthRoutes(app: OpenAPIHono<ApiEnv>, backend: ApiBackend): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/health/',
      tags: ['Health'],
      summary: 'Liveness: 200 while the process runs',
      security: [],
      responses: {
        200: { description: 'The process runs', content: { 'application/json': { schema: up } } },
      },
    }),
    (c) => c.json({ status: 'ok' as const }, 200),
  )
  app.openapi(
    createRoute({
      method: 'get',
      path: '/health/ready/',
      tags: ['Health'],
      summary: 'Readiness: 200 when the database answers and its migrations are current',
      security: [],
      responses: {
        200: { description: 'Ready to serve', content: { 'application/json': { schema: ready } } },
        503: {
          description: 'The database does not answer, or migrations are pending',
          content: { 'application/json': { schema: unavailable } },
        },
      },
    }),
    async (c) => {
      const readiness = await backend.ready()
      c.header('Cache-Control', 'no-store')
      return readiness.ready
        ? c.json({ status: 'ok' as const, secrets: readiness.secrets }, 200)
        : c.json({ status: 'unavailable' as const, reason: readiness.reason }, 503)
    },
  )
}
