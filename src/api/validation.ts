import type { z } from 'zod'
import { validationError, WhispererError } from '../core/errors.ts'
import { issuesFromZod } from '../core/zod-issues.ts'

/** What a route's validator reports: the value it checked and, when that failed, why. */
export type ValidationResult<T = unknown> = { target: string } & (
  | { success: true; data: T }
  | { success: false; error: z.ZodError }
)

/**
 * The answer to a request that fails a route's schema: a bad path parameter is a resource that
 * does not exist; a body field or a query filter is named as the client wrote it (`delivered`, as
 * `created_date__gte` is), like dj-whisperer's `{field: [messages]}`.
 */
export function refuseInvalid<T>(result: ValidationResult<T>): undefined {
  if (result.success) return undefined
  if (result.target === 'param') throw new WhispererError('not_found')
  const under = result.target === 'json' || result.target === 'query' ? '' : result.target
  throw validationError(issuesFromZod(result.error, under))
}
