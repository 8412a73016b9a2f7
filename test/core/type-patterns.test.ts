import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import {
  entriesOverlap,
  isTypePattern,
  overlappingEntries,
  typeCandidates,
  typeMatches,
  typePatternProblem,
} from '../../src/core/type-patterns.ts'

describe('type patterns', () => {
  test('an entry is a type, a prefix pattern, or "*", which never reaches operational types', () => {
    expect(typeMatches('order.*', 'order.paid')).toBe(true)
    expect(typeMatches('order.*', 'order.paid.late')).toBe(true)
    expect(typeMatches('order.*', 'order')).toBe(false)
    expect(typeMatches('order.*', 'orders.paid')).toBe(false)
    expect(typeMatches('order.paid', 'order.paid')).toBe(true)
    expect(typeMatches('*', 'anything')).toBe(true)
    expect(typeMatches('*', 'whisperer.webhook.failing')).toBe(false)
    expect(typeMatches('whisperer.*', 'whisperer.webhook.failing')).toBe(true)
    expect(typeMatches('whisperer.webhook.failing', 'whisperer.webhook.failing')).toBe(true)
    expect(typeCandidates('a.b.c')).toEqual(['a.b.c', 'a.*', 'a.b.*', '*'])
    expect(typeCandidates('whisperer.ping')).toEqual(['whisperer.ping', 'whisperer.*'])
    expect(['*', 'a.*', 'a.b.*'].every(isTypePattern)).toBe(true)
    expect(['a', 'a*', 'a.b'].some(isTypePattern)).toBe(false)
    expect(typePatternProblem('order.*')).toBeNull()
    expect(typePatternProblem('*')).toBeNull()
    expect(typePatternProblem('.*')).not.toBeNull()
    expect(typePatternProblem('order.**')).not.toBeNull()
  })

  test('entries overlap exactly when some type matches both', () => {
    expect(entriesOverlap('order.paid', 'order.paid')).toBe(true)
    expect(entriesOverlap('order.paid', 'order.created')).toBe(false)
    expect(entriesOverlap('order.*', 'order.paid')).toBe(true)
    expect(entriesOverlap('order.*', 'order.paid.*')).toBe(true)
    expect(entriesOverlap('order.*', 'orders.*')).toBe(false)
    expect(entriesOverlap('*', 'order.*')).toBe(true)
    expect(entriesOverlap('*', 'whisperer.*')).toBe(false)
    expect(entriesOverlap('*', 'whisperer.ping')).toBe(false)
    expect(entriesOverlap('*', '*')).toBe(true)
    expect(overlappingEntries(['a.x', 'b.*'], ['c', 'b.y.*'])).toEqual({ entry: 'b.*', other: 'b.y.*' })
    expect(overlappingEntries(['a.x'], ['a.y'])).toBeNull()

    // Against the definition, over every type of up to three segments (and one more), which holds
    // a witness of every overlap of the entries drawn.
    const segments = ['a', 'b', 'whisperer']
    const segment = fc.constantFrom(...segments)
    const type = fc.array(segment, { minLength: 1, maxLength: 3 }).map((parts) => parts.join('.'))
    const entry = fc.oneof(
      type,
      type.map((t) => `${t}.*`),
      fc.constant('*'),
    )
    let types = segments
    const universe = [...types]
    for (let depth = 2; depth <= 3; depth++) {
      types = types.flatMap((t) => segments.map((s) => `${t}.${s}`))
      universe.push(...types)
    }
    universe.push(...universe.map((t) => `${t}.z`))
    fc.assert(
      fc.property(entry, entry, (a, b) => {
        const witnessed = universe.some((t) => typeMatches(a, t) && typeMatches(b, t))
        expect(entriesOverlap(a, b)).toBe(witnessed)
        expect(entriesOverlap(b, a)).toBe(witnessed)
      }),
      { numRuns: 500 },
    )
  })
})
