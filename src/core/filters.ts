import { isSafePattern } from 'redos-detector'
import type { FieldIssue } from './errors.ts'

/**
 * Durian's match filters: a webhook receives an event only when its data matches every condition.
 *
 * `{"status": "paid", "customer": {"email": {"endswith": "@acme.com"}}, "items.0.sku": {"like": "^A-"}}`
 * - a plain value means equality (`is`), with JSON's types: `1` does not match `"1"`;
 * - an object of operators (`any`, `is`, `startswith`, `endswith`, `contains`, `like`) applies them all;
 * - any other object reaches into the data, as does a dotted key (array items by index).
 *
 * A missing value, or one of the wrong type (a number for `startswith`), does not match; `null`
 * matches a missing value, as in durian. Filters are compiled into a flat list of
 * {@link Condition}s, which PostgreSQL evaluates while fanning an event out, and
 * {@link conditionsMatch} evaluates the same way in memory.
 */
export type Filters = Record<string, unknown>

export const filterOperators = ['any', 'is', 'startswith', 'endswith', 'contains', 'like'] as const
export type FilterOperator = (typeof filterOperators)[number]

/** One test on one value of the data, found by its path. */
export interface Condition {
  path: string[]
  op: FilterOperator
  value: unknown
}

/** Bounds on what one webhook's filters may ask, so that matching stays cheap. */
export const filterLimits = { conditions: 50, depth: 8, pathSegment: 200, text: 1024, pattern: 256 } as const

const operatorSet = new Set<string>(filterOperators)

/**
 * Checks filters and compiles them into conditions. `fields`, when the event type declares them,
 * are the only top-level names the filters may reference. Issues are named from `base`
 * (`filters.customer.email.endswith`).
 */
export function compileFilters(
  filters: unknown,
  options: { base?: string; fields?: readonly string[] | null } = {},
): { conditions: Condition[]; issues: FieldIssue[] } {
  const base = options.base ?? 'filters'
  const conditions: Condition[] = []
  const issues: FieldIssue[] = []
  if (!isPlainObject(filters)) {
    return { conditions, issues: [{ path: base, message: 'Expected an object of field conditions.' }] }
  }

  const walk = (node: Record<string, unknown>, prefix: string[], at: string): void => {
    for (const [key, value] of Object.entries(node)) {
      const where = `${at}.${key}`
      const segments = key.split('.')
      if (segments.some((segment) => segment === '' || segment.length > filterLimits.pathSegment)) {
        issues.push({ path: where, message: 'Field paths are names separated by single dots.' })
        continue
      }
      const path = [...prefix, ...segments]
      if (prefix.length === 0 && options.fields && !options.fields.includes(segments[0]!)) {
        issues.push({ path: where, message: `"${segments[0]}" is not a field of this event type.` })
        continue
      }
      if (path.length > filterLimits.depth) {
        issues.push({ path: where, message: `Filters reach at most ${filterLimits.depth} levels deep.` })
        continue
      }
      if (!isPlainObject(value)) {
        conditions.push({ path, op: 'is', value: value ?? null })
        continue
      }
      const keys = Object.keys(value)
      const operators = keys.filter((name) => operatorSet.has(name))
      if (keys.length === 0) {
        issues.push({
          path: where,
          message: 'Expected a value, operators or nested fields, not an empty object.',
        })
      } else if (operators.length === keys.length) {
        for (const op of operators as FilterOperator[]) {
          const problem = operandProblem(op, value[op])
          if (problem) issues.push({ path: `${where}.${op}`, message: problem })
          else conditions.push({ path, op, value: op === 'any' ? null : value[op] })
        }
      } else if (operators.length > 0) {
        issues.push({
          path: where,
          message: `Operators (${operators.join(', ')}) cannot be mixed with field names; use a dotted path for nested fields.`,
        })
      } else walk(value, path, where)
    }
  }
  walk(filters, [], base)
  if (conditions.length > filterLimits.conditions) {
    issues.push({ path: base, message: `At most ${filterLimits.conditions} conditions are allowed.` })
  }
  return { conditions, issues }
}

/** What is wrong with an operator's operand, or null. */
function operandProblem(op: FilterOperator, operand: unknown): string | null {
  switch (op) {
    case 'any':
    case 'is':
      return null
    case 'startswith':
    case 'endswith':
    case 'contains':
      if (typeof operand !== 'string') return 'Expected a string.'
      return operand.length > filterLimits.text ? `At most ${filterLimits.text} characters.` : null
    case 'like':
      return patternProblem(operand)
  }
}

/**
 * What is wrong with a `like` pattern, or null: it must be a regular expression of at most 256
 * characters that cannot backtrack catastrophically. PostgreSQL evaluates it (its regular
 * expressions accept the common syntax: classes, `\d`, `\w`, anchors, groups, quantifiers), and
 * the webhook service also has the database compile it before storing it.
 */
export function patternProblem(pattern: unknown): string | null {
  if (typeof pattern !== 'string' || pattern === '') return 'Expected a regular expression.'
  if (pattern.length > filterLimits.pattern) return `At most ${filterLimits.pattern} characters.`
  try {
    new RegExp(pattern)
  } catch (error) {
    return `Not a valid regular expression: ${(error as Error).message}.`
  }
  let safe: boolean
  try {
    // From one starting position: an unanchored search tries every position, which costs at most a
    // factor of the value's length; nested or overlapping repetitions cost exponentially.
    safe = isSafePattern(`^(?:${pattern})`, { timeout: 200 }).safe
  } catch (error) {
    const reason = (error as Error).message.split('\n')[0]
    return `Uses syntax that cannot be checked for safety (${reason}); use classes, groups, alternatives and quantifiers.`
  }
  return safe
    ? null
    : 'This pattern could backtrack catastrophically; simplify its nested or overlapping repetitions.'
}

/** Whether data matches every condition, as PostgreSQL's `filters_match` decides it. */
export function conditionsMatch(conditions: readonly Condition[], data: unknown): boolean {
  return conditions.every((condition) => conditionMatches(condition, data))
}

function conditionMatches({ path, op, value }: Condition, data: unknown): boolean {
  const found = valueAt(data, path)
  if (op === 'any') return true
  if (op === 'is') return jsonEqual(found === undefined ? null : found, value)
  if (typeof found !== 'string') return false
  const operand = String(value)
  switch (op) {
    case 'startswith':
      return found.startsWith(operand)
    case 'endswith':
      return found.endsWith(operand)
    case 'contains':
      return found.includes(operand)
    case 'like':
      return new RegExp(operand).test(found)
  }
}

/** The value at a path (`#>` in PostgreSQL): object keys, and array indexes (negative from the end). */
export function valueAt(data: unknown, path: readonly string[]): unknown {
  let current = data
  for (const segment of path) {
    if (Array.isArray(current)) {
      if (!/^-?\d+$/.test(segment)) return undefined
      const index = Number(segment)
      current = current[index < 0 ? current.length + index : index]
    } else if (isPlainObject(current) && Object.hasOwn(current, segment)) {
      current = current[segment]
    } else return undefined
  }
  return current
}

/** JSON equality as `jsonb` has it: numbers by value, objects regardless of key order. */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (Array.isArray(a))
    return Array.isArray(b) && a.length === b.length && a.every((item, i) => jsonEqual(item, b[i]))
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = Object.keys(a)
    return (
      keys.length === Object.keys(b).length &&
      keys.every((key) => Object.hasOwn(b, key) && jsonEqual(a[key], b[key]))
    )
  }
  return false
}

/** Data reduced to the named top-level fields; data that is not an object is kept whole. */
export function pickFields(data: unknown, fields: readonly string[]): unknown {
  if (!isPlainObject(data)) return data
  return Object.fromEntries(
    fields.filter((field) => Object.hasOwn(data, field)).map((field) => [field, data[field]]),
  )
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
