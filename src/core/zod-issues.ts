import type { z } from 'zod'
import type { FieldIssue } from './errors.ts'

/** Turns a zod error into field issues whose paths are dotted and start with `prefix`. */
export function issuesFromZod(error: z.ZodError, prefix = ''): FieldIssue[] {
  return error.issues.map((issue) => {
    const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.')
    // zod leaves the input out of its issues, so a missing value shows only in the message.
    const missing = issue.code === 'invalid_type' && issue.message.endsWith('received undefined')
    return { path, message: missing ? 'This field is required.' : issue.message }
  })
}
