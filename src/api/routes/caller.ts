import { createRoute, type OpenAPIHono } from '@hono/zod-openapi'
import type { Scope } from '../../service/tokens.ts'
import { isAdmin } from '../auth.ts'
import { type ApiEnv, requires } from '../context.ts'
import { Caller, ErrorBody, json } from '../schemas.ts'

/** Who the caller is, so that a client (the dashboard) shows what its token may do. */
export function callerRoutes(app: OpenAPIHono<ApiEnv>): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/me/',
      ...requires(null),
      tags: ['API tokens'],
      summary: 'The caller: its owner, and what it may do',
      responses: { 200: json(Caller, 'The caller'), 401: json(ErrorBody, 'Not authenticated') },
    }),
    (c) => {
      const principal = c.get('principal')
      const admin = isAdmin(principal)
      // The default scopes, as `allows` has them: a subscriber's, or everything for an admin.
      const scopes: Scope[] = [...(principal.scopes ?? (admin ? [] : ['subscriber']))]
      if (admin && !scopes.includes('admin')) scopes.push('admin')
      const portal = principal.portal
        ? {
            event_types: principal.portal.eventTypes ? [...principal.portal.eventTypes] : null,
            read_only: principal.portal.readOnly,
            expires_date: principal.portal.expiresAt.toISOString(),
          }
        : null
      return c.json({ owner: principal.owner, admin, scopes, portal }, 200)
    },
  )
}
