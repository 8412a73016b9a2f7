import { createHmac } from 'node:crypto'
import { expect } from 'vitest'
import { type Principal, presentedToken } from '../../src/api/auth.ts'
import type { ApiHandler, ApiOptions } from '../../src/api/handler.ts'
import type { Whisperer } from '../../src/whisperer.ts'

/** The callers of the API tests, by name; each presents `Authorization: Token <name>-token`. */
export const principals = {
  alice: { owner: 'alice' },
  bob: { owner: 'bob' },
  admin: { owner: 'root', admin: true },
  publisher: { owner: 'shop', scopes: ['publisher'] },
} satisfies Record<string, Principal>

export type Caller = keyof typeof principals

/** The token the seed documents send (`Authorization: Token <secret-login-token>`), as alice. */
export const seedToken = '<secret-login-token>'

/** The host application's `authenticate`: known tokens only. */
export function authenticate(request: Request): Principal | null {
  const token = presentedToken(request)
  if (token === seedToken) return principals.alice
  const name = token?.endsWith('-token') ? token.slice(0, -'-token'.length) : null
  return name && Object.hasOwn(principals, name) ? principals[name as Caller] : null
}

export interface ApiResponse {
  status: number
  headers: Headers
  /** The JSON body (null when empty). */
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies are checked by expect, field by field
  body: any
  text: string
}

export interface CallOptions {
  /** Who calls; null sends no credentials. @default 'alice' */
  as?: Caller | null
  /** A body to send as JSON. */
  json?: unknown
  /** A raw body, sent as is (with `Content-Type: application/json` unless `headers` says otherwise). */
  body?: string
  headers?: Record<string, string>
}

export type Call = (method: string, path: string, options?: CallOptions) => Promise<ApiResponse>

/**
 * Calls the handler in-process with a `new Request(...)`; `path` is relative to the prefix
 * (`hooks/`).
 */
export function caller(handler: ApiHandler, prefix = '/whisperer'): Call {
  return async (method, path, options = {}) => {
    const headers: Record<string, string> = {}
    const as = options.as === undefined ? 'alice' : options.as
    if (as) headers.authorization = `Token ${as}-token`
    const body = options.json !== undefined ? JSON.stringify(options.json) : options.body
    if (body !== undefined) headers['content-type'] = 'application/json'
    const request = new Request(`http://api.test${prefix}/${path}`, {
      method,
      headers: { ...headers, ...options.headers },
      ...(body !== undefined ? { body } : {}),
    })
    const response = await handler(request)
    const text = await response.text()
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null, text }
  }
}

/** The handler of `whisperer` with the test callers, no rate limit unless given, and its caller. */
export function apiOf(whisperer: Whisperer, options: Partial<ApiOptions> = {}): Call {
  return caller(whisperer.api({ authenticate, rateLimit: false, ...options }))
}

/** Asserts an error response: its status and stable code, as JSON `{code, message, errors?}`. */
export function expectError(response: ApiResponse, status: number, code: string): void {
  expect({ status: response.status, code: response.body?.code }).toEqual({ status, code })
  expect(typeof response.body.message).toBe('string')
  expect(response.headers.get('content-type')).toMatch(/^application\/json/)
}

/** `X-Whisperer-Signature` of a body with a secret. */
export function signature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', Buffer.from(secret, 'utf8')).update(body).digest('hex')}`
}
