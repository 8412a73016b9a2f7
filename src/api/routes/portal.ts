import { createRoute, type OpenAPIHono } from '@hono/zod-openapi'
import { z } from 'zod'
import { validationError, WhispererError } from '../../core/errors.ts'
import { type PortalSession, portalSessionMaxSeconds } from '../../service/portal.ts'
import type { ApiBackend } from '../backend.ts'
import { type ApiEnv, requires } from '../context.ts'
import { ErrorBody, json } from '../schemas.ts'

const tags = ['Portal']
const noNul = (schema: z.ZodString) => schema.regex(/^[^\0]*$/, 'Must not contain NUL characters.')

const PortalSessionJson = z
  .object({
    id: z.string(),
    owner: z.string(),
    event_types: z.array(z.string()).nullable().describe('The only event types it sees; null for every one.'),
    read_only: z.boolean(),
    created_date: z.iso.datetime({ offset: true }),
    expires_date: z.iso.datetime({ offset: true }),
  })
  .meta({ id: 'PortalSession' })

const PortalSessionCreate = z
  .object({
    owner: noNul(z.string().min(1).max(200)),
    expires_in_seconds: z.int().min(1).max(portalSessionMaxSeconds).optional().describe('@default 3600'),
    event_types: z
      .array(noNul(z.string().min(1).max(200)))
      .min(1)
      .max(1000)
      .optional(),
    read_only: z.boolean().optional().describe('@default false'),
  })
  .meta({ id: 'PortalSessionRequest' })

const PortalExchange = z.object({ token: z.string().max(200) }).meta({ id: 'PortalExchangeRequest' })

const wireNames: Record<string, string> = {
  expiresInSeconds: 'expires_in_seconds',
  eventTypes: 'event_types',
  readOnly: 'read_only',
}

export function portalSessionJson(session: PortalSession) {
  return {
    id: session.id,
    owner: session.owner,
    event_types: session.eventTypes,
    read_only: session.readOnly,
    created_date: session.createdAt.toISOString(),
    expires_date: session.expiresAt.toISOString(),
  }
}

/**
 * The one-time link's exchange, for the portal itself: declared before authentication, since the
 * link is all it has. The link travels in the body, never in a URL.
 */
export function portalExchangeRoute(app: OpenAPIHono<ApiEnv>, backend: ApiBackend): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/portal/sessions/exchange/',
      tags,
      summary: 'Exchange a one-time portal link for a session',
      description:
        'Takes the `whpl_…` token of a link, once, and answers a `whps_…` session token to send as ' +
        '`Authorization: Bearer <token>` until the session expires. A used link is refused with 401 ' +
        '`portal_link_used`, an expired one with 401 `portal_session_expired`.',
      security: [],
      request: { body: { content: { 'application/json': { schema: PortalExchange } }, required: true } },
      responses: {
        200: json(PortalSessionJson.extend({ token: z.string() }), 'The session'),
        400: json(ErrorBody, 'Invalid input'),
        401: json(ErrorBody, 'Unknown, revoked, expired or used link'),
      },
    }),
    async (c) => {
      const { token, session } = await backend.portal.exchange(c.req.valid('json').token)
      return c.json({ ...portalSessionJson(session), token }, 200, { 'Cache-Control': 'no-store' })
    },
  )
}

/** Portal sessions, for the application: create one for a subscriber, or revoke it. */
export function portalRoutes(app: OpenAPIHono<ApiEnv>): void {
  const errors = {
    400: json(ErrorBody, 'Invalid input'),
    401: json(ErrorBody, 'Not authenticated'),
    403: json(ErrorBody, 'The token lacks the publisher scope'),
  }
  app.openapi(
    createRoute({
      method: 'post',
      path: '/portal/sessions/',
      ...requires('publisher'),
      tags,
      summary: 'Create a portal session (publisher or admin)',
      description:
        'A short-lived session for one owner, optionally for some event types only, or read-only. ' +
        'The answer is the only time its one-time `url` (`…/dashboard/#session=<token>`) and `token` are shown.',
      request: { body: { content: { 'application/json': { schema: PortalSessionCreate } }, required: true } },
      responses: {
        201: json(PortalSessionJson.extend({ url: z.string(), token: z.string() }), 'Created'),
        ...errors,
      },
    }),
    async (c) => {
      const body = c.req.valid('json')
      const dashboardUrl = new URL('../../dashboard/', c.req.url).href
      try {
        const { url, token, session } = await c.get('backend').portal.createSession({
          owner: body.owner,
          dashboardUrl,
          ...(body.expires_in_seconds !== undefined ? { expiresInSeconds: body.expires_in_seconds } : {}),
          ...(body.event_types !== undefined ? { eventTypes: body.event_types } : {}),
          ...(body.read_only !== undefined ? { readOnly: body.read_only } : {}),
        })
        return c.json({ ...portalSessionJson(session), url, token }, 201, { 'Cache-Control': 'no-store' })
      } catch (error) {
        if (error instanceof WhispererError && error.code === 'validation_error') {
          throw validationError(
            error.issues.map((issue) => ({ ...issue, path: wireNames[issue.path] ?? issue.path })),
          )
        }
        throw error
      }
    },
  )

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/portal/sessions/{id}/',
      ...requires('publisher'),
      tags,
      summary: 'Revoke a portal session (publisher or admin)',
      description: 'Its link and its session are refused from the next request on.',
      request: { params: z.object({ id: z.string().regex(/^[a-z0-9]{12}$/) }) },
      responses: {
        204: { description: 'Revoked' },
        404: json(ErrorBody, 'No such active portal session'),
        ...errors,
      },
    }),
    async (c) => {
      await c.get('backend').portal.revoke(c.req.valid('param').id)
      return c.body(null, 204)
    },
  )
}
