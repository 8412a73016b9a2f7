import { createRoute, type OpenAPIHono } from '@hono/zod-openapi'
import { z } from 'zod'
import { validationError, WhispererError } from '../../core/errors.ts'
import { issuesFromZod } from '../../core/zod-issues.ts'
import { type ApiContext, type ApiEnv, actorOf, nextPage, requires, seesEventType } from '../context.ts'
import {
  ErrorBody,
  IdParam,
  isTrue,
  json,
  PingResult,
  page,
  RotateSecret,
  Webhook,
  WebhookCreate,
  WebhookPatch,
  WebhookQuery,
} from '../schemas.ts'
import { unmask, webhookJson } from '../serialize.ts'
import { refuseInvalid, type ValidationResult } from '../validation.ts'
import { issuesToWire, webhookInputFromWire } from '../wire.ts'

const errors = {
  400: json(ErrorBody, 'Invalid input: every failing field is named'),
  401: json(ErrorBody, 'Not authenticated'),
  403: json(ErrorBody, 'The token lacks the scope'),
  404: json(ErrorBody, 'No such webhook for this owner'),
}
const body = (schema: z.ZodType) => ({
  body: { content: { 'application/json': { schema } }, required: true },
})
const tags = ['Webhooks']

/**
 * Runs a webhook operation with validation errors named in wire fields; the wire body is turned
 * into the library's input first, keeping unknown fields out.
 */
async function withWireErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (error) {
    if (error instanceof WhispererError && error.issues.length > 0) {
      if (error.code === 'validation_error') throw validationError(issuesToWire(error.issues))
      throw new WhispererError(error.code, error.message, {
        issues: issuesToWire(error.issues),
        cause: error,
      })
    }
    throw error
  }
}

/**
 * A webhook body that fails its schema is checked in full by the library, so that every failing
 * field is named (an unknown event type, a countdown's kwargs, ...), in wire names.
 */
function webhookBodyHook(partial: boolean) {
  return <T>(result: ValidationResult<T>, c: ApiContext): undefined | Promise<never> => {
    if (result.success || result.target !== 'json') return refuseInvalid(result)
    // The validator passes the raw value along, though its type does not say so.
    const input = webhookInputFromWire((result as { data?: unknown }).data)
    const error = result.error
    return withWireErrors(() => c.get('backend').webhooks.check(input, { partial })).then(() => {
      throw validationError(issuesToWire(issuesFromZod(error)))
    })
  }
}

export function webhookRoutes(app: OpenAPIHono<ApiEnv>): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/hooks/',
      ...requires('subscriber'),
      tags,
      summary: 'List webhooks',
      request: { query: WebhookQuery },
      responses: { 200: json(page(Webhook, 'WebhookPage'), 'Webhooks, oldest first'), ...errors },
    }),
    async (c) => {
      const query = c.req.valid('query')
      const principal = c.get('principal')
      const limit = query.limit ?? 100
      const webhooks = await c.get('backend').webhooks.list(actorOf(principal, query.owner), {
        ...(query.event_type !== undefined ? { eventType: query.event_type } : {}),
        ...(query.target_url !== undefined ? { targetUrl: query.target_url } : {}),
        ...(query.is_active !== undefined ? { isActive: isTrue(query.is_active)! } : {}),
        ...(query.cursor !== undefined ? { afterId: query.cursor } : {}),
        limit,
      })
      return c.json({ results: webhooks.map((w) => webhookJson(w)), next: nextPage(c, webhooks, limit) }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/hooks/',
      ...requires('subscriber'),
      tags,
      summary: 'Create a webhook',
      description: 'The response is the only one that shows the secret key and auth passwords unmasked.',
      request: {
        query: z.object({
          owner: WebhookQuery.shape.owner.describe('Admins only: the owner to create it for.'),
        }),
        ...body(WebhookCreate),
      },
      responses: {
        201: json(Webhook, 'Created'),
        409: json(ErrorBody, 'This owner has a webhook for this target_url whose event types overlap these'),
        ...errors,
      },
    }),
    async (c) => {
      const principal = c.get('principal')
      const backend = c.get('backend')
      const input = c.req.valid('json') as Record<string, unknown>
      const actor = actorOf(principal, c.req.valid('query').owner)
      const webhook = await withWireErrors(() => backend.webhooks.create(actor, webhookInputFromWire(input)))
      return c.json(webhookJson(webhook, { reveal: true }), 201)
    },
    webhookBodyHook(false),
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/hooks/registry/',
      ...requires(null),
      tags,
      summary: 'The event types a webhook may subscribe to',
      responses: { 200: json(z.array(z.string()), 'Event type names'), 401: errors[401] },
    }),
    async (c) => {
      const definitions = await c.get('backend').eventTypes.list()
      return c.json(
        definitions
          .filter((definition) => seesEventType(c.get('principal'), definition.type))
          .map((definition) => definition.type),
        200,
      )
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/hooks/{id}/',
      ...requires('subscriber'),
      tags,
      summary: 'Get a webhook',
      request: { params: IdParam },
      responses: { 200: json(Webhook, 'The webhook'), ...errors },
    }),
    async (c) => {
      const principal = c.get('principal')
      const webhook = await c.get('backend').webhooks.get(actorOf(principal), c.req.valid('param').id)
      return c.json(webhookJson(webhook), 200)
    },
  )

  for (const method of ['put', 'patch'] as const) {
    const partial = method === 'patch'
    app.openapi(
      createRoute({
        method,
        path: '/hooks/{id}/',
        ...requires('subscriber'),
        tags,
        summary: partial ? 'Change some fields of a webhook' : 'Replace a webhook',
        description:
          'A masked secret sent back unchanged keeps the stored one. Deactivating cancels pending deliveries.',
        request: { params: IdParam, ...body(partial ? WebhookPatch : WebhookCreate) },
        responses: {
          200: json(Webhook, 'The webhook'),
          409: json(
            ErrorBody,
            'This owner has a webhook for this target_url whose event types overlap these',
          ),
          ...errors,
        },
      }),
      async (c) => {
        const principal = c.get('principal')
        const backend = c.get('backend')
        const actor = actorOf(principal)
        const { id } = c.req.valid('param')
        const current = await backend.webhooks.get(actor, id)
        const input = unmask(c.req.valid('json'), current) as Record<string, unknown>
        const changes = webhookInputFromWire(input)
        const webhook = await withWireErrors(() =>
          partial
            ? backend.webhooks.update(actor, id, changes)
            : backend.webhooks.replace(actor, id, changes),
        )
        return c.json(webhookJson(webhook), 200)
      },
      webhookBodyHook(partial),
    )
  }

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/hooks/{id}/',
      ...requires('subscriber'),
      tags,
      summary: 'Delete a webhook',
      description: 'Its history stays; its pending deliveries are cancelled; the URL may subscribe again.',
      request: { params: IdParam },
      responses: { 204: { description: 'Deleted' }, ...errors },
    }),
    async (c) => {
      const principal = c.get('principal')
      await c.get('backend').webhooks.delete(actorOf(principal), c.req.valid('param').id)
      return c.body(null, 204)
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/hooks/{id}/rotate-secret/',
      ...requires('subscriber'),
      tags,
      summary: 'Rotate the signing secret',
      description:
        'Makes a new key current: the `secret_key` given, or a generated one, shown in this response only. Until the grace period ends, every request carries a signature per live key in `webhook-signature`, newest first, so receivers holding the old key or the new one both verify. `X-Whisperer-Signature` uses the newest HMAC key. A `grace_seconds` of 0 stops the old keys at once.',
      request: {
        params: IdParam,
        body: { content: { 'application/json': { schema: RotateSecret } }, required: false },
      },
      responses: {
        200: json(Webhook, 'The webhook, with its new secret shown this once'),
        409: json(ErrorBody, 'The webhook would have more than 10 live keys'),
        ...errors,
      },
    }),
    async (c) => {
      const principal = c.get('principal')
      const body = c.req.valid('json') ?? {}
      const webhook = await withWireErrors(() =>
        c.get('backend').webhooks.rotateSecret(actorOf(principal), c.req.valid('param').id, {
          ...(body.secret_key !== undefined ? { secretKey: body.secret_key } : {}),
          ...(body.grace_seconds !== undefined ? { graceSeconds: body.grace_seconds } : {}),
          ...(body.signature_scheme !== undefined ? { signatureScheme: body.signature_scheme } : {}),
        }),
      )
      return c.json(webhookJson(webhook), 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/hooks/{id}/ping/',
      ...requires('subscriber'),
      tags,
      summary: 'Send a test ping',
      description:
        'Sends a signed `backend.ping` event to the webhook now and reports the answer; nothing is stored.',
      request: { params: IdParam },
      responses: { 200: json(PingResult, 'What the target answered'), ...errors },
    }),
    async (c) => {
      const principal = c.get('principal')
      const result = await c.get('backend').webhooks.ping(actorOf(principal), c.req.valid('param').id)
      const response = result.kind === 'response' ? result : null
      return c.json(
        {
          delivered: Boolean(response && response.status >= 200 && response.status < 300),
          response_status: response?.status ?? null,
          response_content: response?.body ?? null,
          duration_ms: result.durationMs,
          error_kind:
            result.kind === 'error' ? result.error : response && response.status >= 300 ? 'http' : null,
          error: result.kind === 'error' ? result.message : null,
        },
        200,
      )
    },
  )
}
