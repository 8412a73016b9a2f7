import type { z } from 'zod'
import type { FieldIssue } from './errors.ts'

/** Turns a zod error into field issues whose paths are dotted and start with `prefix`. */
export function issuesFromZod(error: z.ZodError, prefix = ''): FieldIssue[] {
  return error.issues.map((issue) => {
    const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.')
    const message =
      issue.code === 'invalid_type' && issue.input === undefined ? 'This field is required.' : issue.message
    return { path, message }
  })
}
