import type { FieldIssue } from './errors.ts'

/** How deeply a JSON value that Whisperer stores (a webhook's config, a JSON Schema) may nest. */
export const maxStoredDepth = 64

const unpairedSurrogate = /\p{Cs}/u

/**
 * What PostgreSQL could not store in a value, each issue named by its path under `path`: a NUL
 * character or an unpaired UTF-16 surrogate in a string or a key (neither text nor jsonb holds
 * one), or objects and arrays nested deeper than {@link maxStoredDepth}. Checked before storing,
 * so that such input is refused naming the field; the walk stops at that depth, so no input can
 * exhaust the stack.
 */
export function unstorableIssues(value: unknown, path: string, depth = 0): FieldIssue[] {
  if (typeof value === 'string') {
    const problem = textProblem(value)
    return problem ? [{ path, message: problem }] : []
  }
  if (typeof value !== 'object' || value === null) return []
  if (depth >= maxStoredDepth)
    return [{ path, message: `Must not nest more than ${maxStoredDepth} levels deep.` }]
  return Object.entries(value).flatMap(([key, inner]) => {
    const problem = textProblem(key)
    const at = path ? `${path}.${key}` : key
    return problem ? [{ path: at, message: problem }] : unstorableIssues(inner, at, depth + 1)
  })
}

function textProblem(text: string): string | null {
  if (text.includes('\0')) return 'Must not contain NUL characters.'
  if (unpairedSurrogate.test(text)) return 'Must not contain unpaired surrogate characters.'
  return null
}
