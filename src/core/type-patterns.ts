import { isOperationalType, operationalPrefix } from './operational-events.ts'

/**
 * The event types a webhook subscribes to: each entry is a type (`order.paid`), a prefix pattern
 * (`order.*`: every type beginning `order.`), or `*` (every type but Whisperer's operational
 * `whisperer.` ones, which a webhook gets only by naming them, or a pattern beginning `whisperer.`).
 *
 * The fan-out decides in SQL with `type_patterns(type)`, the entries that match a type, which
 * {@link typeCandidates} mirrors here.
 */

/** The most entries a webhook may have. */
export const maxEventTypes = 100

const all = '*'

/** Whether an entry is a pattern (`*`, or a prefix ending `.*`) rather than one type. */
export function isTypePattern(entry: string): boolean {
  return entry === all || entry.endsWith('.*')
}

/** The prefix a pattern matches (`order.` for `order.*`), or null for `*` and for a type. */
function prefixOf(entry: string): string | null {
  return entry !== all && entry.endsWith('.*') ? entry.slice(0, -1) : null
}

const patternName = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,121}\.\*$/

/** What is wrong with an entry's spelling as a pattern; null when it is a pattern as written. */
export function typePatternProblem(entry: string): string | null {
  if (entry === all || patternName.test(entry)) return null
  return 'A pattern is "*" or a prefix followed by ".*", such as "order.*".'
}

/** Whether an entry matches an event type. */
export function typeMatches(entry: string, type: string): boolean {
  if (entry === type) return true
  if (entry === all) return !isOperationalType(type)
  const prefix = prefixOf(entry)
  return prefix !== null && type.startsWith(prefix)
}

/** Whether any of a webhook's entries matches an event type. */
export function typesMatch(entries: readonly string[], type: string): boolean {
  return entries.some((entry) => typeMatches(entry, type))
}

/**
 * The entries that match `type`: the type itself, a pattern for each prefix ending in a dot, and
 * `*` unless the type is operational. The same list `type_patterns(type)` gives in SQL.
 */
export function typeCandidates(type: string): string[] {
  const candidates = [type]
  for (let i = 0; i < type.length; i++) if (type[i] === '.') candidates.push(`${type.slice(0, i + 1)}*`)
  if (!isOperationalType(type)) candidates.push(all)
  return candidates
}

/**
 * Whether some event type would match both entries, for any types registered now or later: two
 * types only if equal; a type and a pattern if the pattern matches it; two patterns if one's prefix
 * begins with the other's (`*` never reaching `whisperer.` types).
 */
export function entriesOverlap(a: string, b: string): boolean {
  if (!isTypePattern(a) && !isTypePattern(b)) return a === b
  if (!isTypePattern(a)) return typeMatches(b, a)
  if (!isTypePattern(b)) return typeMatches(a, b)
  const pa = prefixOf(a)
  const pb = prefixOf(b)
  if (pa === null && pb === null) return true
  if (pa === null) return !pb!.startsWith(operationalPrefix)
  if (pb === null) return !pa.startsWith(operationalPrefix)
  return pa.startsWith(pb) || pb.startsWith(pa)
}

/** The first pair of entries, one from each list, that overlap; null when none does. */
export function overlappingEntries(
  a: readonly string[],
  b: readonly string[],
): { entry: string; other: string } | null {
  for (const entry of a) {
    const other = b.find((candidate) => entriesOverlap(entry, candidate))
    if (other !== undefined) return { entry, other }
  }
  return null
}
