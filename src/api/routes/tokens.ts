import { createRoute, type OpenAPIHono } from '@hono/zod-openapi'
import { z } from 'zod'
import { type ApiToken, scopes } from '../../service/tokens.ts'
import { type ApiEnv, requires } from '../context.ts'
import { ErrorBody, json } from '../schemas.ts'

const errors = {
  400: json(ErrorBody, 'Invalid input'),
  401: json(ErrorBody, 'Not authenticated'),
  403: json(ErrorBody, 'Not an admin token'),
}
const tags = ['API tokens']

const Token = z
  .object({
    id: z.string(),
    name: z.string(),
    owner: z.string(),
    scopes: z.array(z.enum(scopes)),
    created_date: z.iso.datetime({ offset: true }),
    last_used_date: z.iso.datetime({ offset: true }).nullable(),
    revoked_date: z.iso.datetime({ offset: true }).nullable(),
  })
  .meta({ id: 'ApiToken' })

const TokenCreate = z
  .object({
    owner: z
      .string()
      .min(1)
      .max(200)
      .regex(/^[^\0]*$/, 'Must not contain NUL characters.'),
    scopes: z.array(z.enum(scopes)).min(1),
    name: z
      .string()
      .max(200)
      .regex(/^[^\0]*$/, 'Must not contain NUL characters.')
      .optional(),
  })
  .meta({ id: 'ApiTokenRequest' })

function tokenJson(token: ApiToken) {
  return {
    id: token.id,
    name: token.name,
    owner: token.owner,
    scopes: token.scopes,
    created_date: token.createdAt.toISOString(),
    last_used_date: token.lastUsedAt?.toISOString() ?? null,
    revoked_date: token.revokedAt?.toISOString() ?? null,
  }
}

/** The service's API tokens, for admins: the same operations as `whisperer tokens`. */
export function tokenRoutes(app: OpenAPIHono<ApiEnv>): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/tokens/',
      ...requires('admin'),
      tags,
      summary: 'List API tokens (admin)',
      responses: { 200: json(z.array(Token), 'Tokens, never their secrets'), ...errors },
    }),
    async (c) => {
      return c.json((await c.get('backend').tokens.list()).map(tokenJson), 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/tokens/',
      ...requires('admin'),
      tags,
      summary: 'Create an API token (admin)',
      description: 'The response is the only time the token itself is shown.',
      request: { body: { content: { 'application/json': { schema: TokenCreate } }, required: true } },
      responses: { 201: json(Token.extend({ token: z.string() }), 'Created'), ...errors },
    }),
    async (c) => {
      const body = c.req.valid('json')
      const { token, record } = await c.get('backend').tokens.create({
        owner: body.owner,
        scopes: body.scopes,
        ...(body.name ? { name: body.name } : {}),
      })
      return c.json({ ...tokenJson(record), token }, 201)
    },
  )

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/tokens/{id}/',
      ...requires('admin'),
      tags,
      summary: 'Revoke an API token (admin)',
      request: { params: z.object({ id: z.string().regex(/^[a-z0-9]{12}$/) }) },
      responses: { 204: { description: 'Revoked' }, 404: json(ErrorBody, 'No such active token'), ...errors },
    }),
    async (c) => {
      await c.get('backend').tokens.revoke(c.req.valid('param').id)
      return c.body(null, 204)
    },
  )
}
