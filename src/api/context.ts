import type { Context, MiddlewareHandler } from 'hono'
import { WhispererError } from '../core/errors.ts'
import type { Actor } from '../core/webhook.ts'
import type { Scope } from '../service/tokens.ts'
import { allows, isAdmin, type Principal } from './auth.ts'
import type { ApiBackend } from './backend.ts'

/** What every route sees: the caller, and the Whisperer it serves. */
export interface ApiEnv {
  Variables: { principal: Principal; backend: ApiBackend }
}

export type ApiContext = Context<ApiEnv>

/**
 * The scope a route requires (null: any caller), to spread into its `createRoute`: declared in
 * its OpenAPI security requirement, and enforced by a middleware that runs after authentication
 * and before the route's validators, so a caller without the scope gets 403 before its body,
 * query or parameters are read, and before any database read.
 */
export function requires(scope: Scope | null): {
  security: { token: string[] }[]
  middleware: MiddlewareHandler[]
} {
  const enforce: MiddlewareHandler<ApiEnv> = async (c, next) => {
    if (scope && !allows(c.get('principal'), scope)) {
      throw new WhispererError('forbidden', `This token lacks the ${scope} scope`)
    }
    await next()
  }
  return { security: [{ token: scope ? [scope] : [] }], middleware: [enforce as MiddlewareHandler] }
}

/**
 * The scope of data a request acts in: the caller's own owner, or for an admin every owner, or
 * just the one named by `owner`.
 */
export function actorOf(principal: Principal, owner?: string): Actor {
  if (!isAdmin(principal)) {
    const eventTypes = principal.portal?.eventTypes
    return eventTypes ? { owner: principal.owner, eventTypes } : { owner: principal.owner }
  }
  return owner ? { owner } : { owner: principal.owner, admin: true }
}

/** Whether a caller sees an event type: a portal session only its own, anyone else every one. */
export function seesEventType(principal: Principal, type: string): boolean {
  const allowed = principal.portal?.eventTypes
  return !allowed || allowed.includes(type)
}

/** The URL of the next page of a list whose page was full, or null. */
export function nextPage(c: ApiContext, results: { id: number }[], limit: number): string | null {
  if (results.length < limit) return null
  const url = new URL(c.req.url)
  url.searchParams.set('cursor', String(results.at(-1)!.id))
  return url.toString()
}

/** A date or date-time from a query filter; a bare date means its midnight (UTC). */
export function queryDate(value: string | undefined, field: string): Date | undefined {
  if (value === undefined) return undefined
  const date = new Date(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value)
  if (!storableDate(date)) {
    throw new WhispererError('validation_error', `${field}: Enter a valid date/time.`, {
      issues: [{ path: field, message: 'Enter a valid date/time.' }],
    })
  }
  return date
}

/** Whether PostgreSQL takes a date as a timestamp parameter: a valid one, in the years 1 to 9999 (UTC). */
export function storableDate(date: Date): boolean {
  const year = date.getUTCFullYear()
  return year >= 1 && year <= 9999
}
