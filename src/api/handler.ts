import { createRoute, OpenAPIHono } from '@hono/zod-openapi'
import { bodyLimit } from 'hono/body-limit'
import { z } from 'zod'
import { defaultPrefix } from '../config.ts'
import { WhispererError } from '../core/errors.ts'
import { isPortalSessionToken, type PortalSession } from '../service/portal.ts'
import { type Authenticate, type Principal, presentedToken } from './auth.ts'
import type { ApiBackend } from './backend.ts'
import type { ApiEnv } from './context.ts'
import { errorResponse } from './errors.ts'
import { type RateLimit, RateLimiter } from './rate-limit.ts'
import { callerRoutes } from './routes/caller.ts'
import { countdownRoutes } from './routes/countdowns.ts'
import { deliveryRoutes } from './routes/deliveries.ts'
import { eventTypeRoutes } from './routes/event-types.ts'
import { eventRoutes } from './routes/events.ts'
import { healthRoutes } from './routes/health.ts'
import { operationalEventRoutes } from './routes/operational-events.ts'
import { portalExchangeRoute, portalRoutes } from './routes/portal.ts'
import { statsRoutes } from './routes/stats.ts'
import { tokenRoutes } from './routes/tokens.ts'
import { webhookRoutes } from './routes/webhooks.ts'
import { refuseInvalid } from './validation.ts'

export interface ApiOptions {
  /** Who sends a request: supplied by the host application, or the service's API tokens. */
  authenticate: Authenticate
  /** Where the API is mounted. @default '/whisperer' */
  prefix?: string
  /** The largest request body accepted, in bytes. @default 1048576 */
  maxBodyBytes?: number
  /**
   * Requests per caller, or false for none. @default { requestsPerSecond: 50, burst: 100 } (through
   * `whisperer.api()`: the `apiRateLimit` option, with a burst of twice that)
   */
  rateLimit?: RateLimit | false
}

/** The REST API as a Web-standard handler: mount it in any framework, or serve it as is. */
export type ApiHandler = (request: Request) => Promise<Response>

/**
 * Builds the REST API: dj-whisperer's routes (`hooks/`, `hook_events/`, `event_queues/`) and
 * Whisperer's (attempts, replay, ping, `events/`, `event_types/`, `openapi.json`), each scoped to
 * the caller's owner, with errors as JSON carrying a stable code.
 */
export function createApiHandler(backend: ApiBackend, options: ApiOptions): ApiHandler {
  const prefix = (options.prefix ?? defaultPrefix).replace(/\/+$/, '')
  const limiter =
    options.rateLimit === false
      ? null
      : new RateLimiter(options.rateLimit ?? { requestsPerSecond: 50, burst: 100 })
  const app = new OpenAPIHono<ApiEnv>({
    // A route may check a failing body itself first (webhooks name every failing field).
    defaultHook: (result) => refuseInvalid(result),
  }).basePath(prefix)

  app.onError((error) => errorResponse(error, backend.logger))
  app.notFound(() => errorResponse(new WhispererError('not_found', 'No such route'), backend.logger))

  // Before authentication: the document is public, and says so (no security).
  app.openapi(
    createRoute({
      method: 'get',
      path: '/openapi.json',
      tags: ['Documentation'],
      summary: 'This OpenAPI document',
      security: [],
      responses: {
        200: {
          description: 'The OpenAPI 3.1 document of the API',
          content: { 'application/json': { schema: z.looseObject({ openapi: z.string() }) } },
        },
      },
    }),
    (c) => c.json(openApiDocument(app), 200),
  )
  healthRoutes(app, backend)
  // The portal's exchange has only its one-time link: it is not authenticated, and not rate
  // limited per owner, but its body is checked as every other.
  const exchangePath = `${prefix}/portal/sessions/exchange/`
  // The one POST that reads: a retry schedule, computed and not stored.
  const schedulePath = `${prefix}/countdowns/schedule/`

  app.use('*', async (c, next) => {
    // Charged as it arrived: requests held up together by a slow authentication are not a burst.
    const arrivedAt = performance.now()
    c.set('backend', backend)
    if (c.req.method === 'POST' && c.req.path === exchangePath) {
      refuseUnlessJson(c.req.raw)
      return next()
    }
    let principal: Principal | null
    try {
      // A portal session is Whisperer's own; any other credential is the application's to judge.
      const presented = presentedToken(c.req.raw)
      if (presented && isPortalSessionToken(presented)) {
        const session = await backend.portal.verify(presented)
        principal = session ? portalPrincipal(session) : null
      } else {
        principal = await options.authenticate(c.req.raw)
      }
    } catch (error) {
      if (!(error instanceof WhispererError && error.code === 'portal_session_expired')) throw error
      return errorResponse(error, backend.logger, { 'WWW-Authenticate': 'Bearer' })
    }
    // Answered here rather than thrown: a thrown error's response would lose these headers.
    if (!principal) {
      return errorResponse(new WhispererError('unauthenticated'), backend.logger, {
        'WWW-Authenticate': 'Token',
      })
    }
    c.set('principal', principal)
    // A read-only portal session reads, whatever the route.
    const reads =
      c.req.method === 'GET' ||
      c.req.method === 'HEAD' ||
      (c.req.method === 'POST' && c.req.path === schedulePath)
    if (principal.portal?.readOnly && !reads) throw new WhispererError('portal_read_only')
    const wait = limiter?.take(principal.owner, arrivedAt)
    if (wait) {
      const error = new WhispererError('rate_limited', `Too many requests: try again in ${wait} s`)
      return errorResponse(error, backend.logger, { 'Retry-After': String(wait) })
    }
    refuseUnlessJson(c.req.raw)
    await next()
  })
  app.use(
    '*',
    bodyLimit({
      maxSize: options.maxBodyBytes ?? 1024 * 1024,
      onError: () => {
        throw new WhispererError('payload_too_large')
      },
    }),
  )

  portalExchangeRoute(app, backend)
  webhookRoutes(app)
  deliveryRoutes(app)
  eventRoutes(app)
  eventTypeRoutes(app)
  tokenRoutes(app)
  portalRoutes(app)
  countdownRoutes(app)
  statsRoutes(app)
  operationalEventRoutes(app)
  callerRoutes(app)

  return async (request) => {
    try {
      return await app.fetch(withTrailingSlash(request))
    } catch (error) {
      return errorResponse(error, backend.logger)
    }
  }
}

/** Refuses a request body that is not JSON (`unsupported_media_type`); an empty one passes. */
function refuseUnlessJson(request: Request): void {
  if (!['POST', 'PUT', 'PATCH'].includes(request.method)) return
  const type = request.headers.get('content-type') ?? ''
  const length = request.headers.get('content-length')
  const empty = length === '0' || (length === null && !request.body)
  if (!empty && !/^application\/(.+\+)?json\b/i.test(type)) throw new WhispererError('unsupported_media_type')
}

/** A portal session as a caller: its owner's subscriber, within its event types, perhaps read-only. */
function portalPrincipal(session: PortalSession): Principal {
  return {
    owner: session.owner,
    scopes: ['subscriber'],
    portal: {
      sessionId: session.id,
      eventTypes: session.eventTypes,
      readOnly: session.readOnly,
      expiresAt: session.expiresAt,
    },
  }
}

/**
 * Routes end with a slash, as in dj-whisperer; a request without one is served the same
 * (`hooks/12` is `hooks/12/`), except for `openapi.json`.
 */
function withTrailingSlash(request: Request): Request {
  const url = new URL(request.url)
  if (url.pathname.endsWith('/') || url.pathname.endsWith('.json')) return request
  url.pathname += '/'
  return new Request(url, request)
}

/** The OpenAPI 3.1 document of the API, generated from the schemas that validate its requests. */
export function openApiDocument(app: OpenAPIHono<ApiEnv>) {
  const document = app.getOpenAPI31Document({
    openapi: '3.1.0',
    info: {
      title: 'Whisperer',
      version: '1',
      description:
        'Outbound webhooks: subscribe URLs to event types, and follow every delivery attempt by attempt. ' +
        'Compatible with dj-whisperer’s API.',
    },
    servers: [{ url: '/' }],
    security: [{ token: [] }],
  })
  document.components = {
    ...document.components,
    securitySchemes: {
      token: {
        type: 'http',
        scheme: 'bearer',
        description: 'An API token as `Authorization: Token <token>` or `Bearer <token>`.',
      },
    },
  }
  return document
}
