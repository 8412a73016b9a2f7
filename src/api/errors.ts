import { HTTPException } from 'hono/http-exception'
import { errorCodes, type FieldIssue, WhispererError } from '../core/errors.ts'
import type { Logger } from '../logger.ts'

/** Seconds a client is told to wait when the database is unavailable. */
export const retryAfterUnavailable = 5

/** An error as JSON: a stable code, a human message, and for validation errors the issues per field. */
export function errorJson(code: string, message: string, issues: readonly FieldIssue[] = []) {
  const body: { code: string; message: string; errors?: Record<string, string[]> } = { code, message }
  if (issues.length > 0) {
    body.errors = {}
    for (const issue of issues) {
      const key = issue.path || 'non_field_errors'
      body.errors[key] = [...(body.errors[key] ?? []), issue.message]
    }
  }
  return body
}

/**
 * The one place errors become responses: a domain error by its code, Hono's own (malformed JSON,
 * oversized body) by theirs, and anything else as a logged 500 that leaks nothing.
 */
export function errorResponse(error: unknown, logger: Logger, headers?: Record<string, string>): Response {
  if (error instanceof WhispererError) {
    // A database outage passes: say when to come back, as for a rate limit.
    const retry =
      error.code === 'database_unavailable' ? { 'Retry-After': String(retryAfterUnavailable) } : {}
    return Response.json(errorJson(error.code, error.message, error.issues), {
      status: error.status,
      headers: { ...retry, ...headers },
    })
  }
  if (error instanceof HTTPException) {
    const code =
      error.status === 413
        ? 'payload_too_large'
        : error.status === 400
          ? 'invalid_json'
          : error.status === 401
            ? 'unauthenticated'
            : 'invalid_json'
    const known = errorCodes[code]
    return Response.json(errorJson(code, known.message), { status: error.status })
  }
  logger.error({ err: error }, 'API request failed')
  return Response.json(errorJson('internal_error', 'Internal server error'), { status: 500 })
}
