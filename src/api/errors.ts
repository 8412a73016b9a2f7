import { HTTPException } from 'hono/http-exception'
import {
  type ErrorCode,
  type ErrorCodeEntry,
  errorCodes,
  type FieldIssue,
  httpErrorCode,
  WhispererError,
} from '../core/errors.ts'
import type { Logger } from '../logger.ts'

/** An error as JSON: a stable code, a human message, and for validation errors the issues per field. */
export function errorJson(code: ErrorCode, message: string, issues: readonly FieldIssue[] = []) {
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
 * The one place errors become responses, every one with a code of the catalogue
 * ({@link errorCodes}): a domain error by its code, the framework's own (malformed JSON) by their
 * status, and anything else as a logged `internal_error` that leaks nothing.
 */
export function errorResponse(error: unknown, logger: Logger, headers?: Record<string, string>): Response {
  if (error instanceof WhispererError) {
    // An error that passes (a database outage) says when to come back, as a rate limit does.
    const entry: ErrorCodeEntry = errorCodes[error.code]
    const retry = entry.retryAfterSeconds ? { 'Retry-After': String(entry.retryAfterSeconds) } : {}
    return Response.json(errorJson(error.code, error.message, error.issues), {
      status: error.status,
      headers: { ...retry, ...headers },
    })
  }
  // A framework's own failure (malformed JSON, an unsupported media type, ...) by its status.
  const code = error instanceof HTTPException ? httpErrorCode(error.status) : 'internal_error'
  if (code !== 'internal_error') {
    return Response.json(errorJson(code, errorCodes[code].message), { status: errorCodes[code].status })
  }
  logger.error({ err: error }, 'API request failed')
  return Response.json(errorJson(code, errorCodes[code].message), { status: errorCodes[code].status })
}
