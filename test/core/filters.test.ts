import { describe, expect, test } from 'vitest'
import {
  type Condition,
  compileFilters,
  conditionsMatch,
  patternProblem,
  pickFields,
  valueAt,
} from '../../src/core/filters.ts'

const matches = (filters: Record<string, unknown>, data: unknown): boolean => {
  const { conditions, issues } = compileFilters(filters)
  expect(issues).toEqual([])
  return conditionsMatch(conditions, data)
}

describe('compileFilters', () => {
  test('plain values, operators, nested objects and dotted paths become flat conditions', () => {
    expect(
      compileFilters({
        status: 'paid',
        customer: { email: { endswith: '@acme.com' }, country: { is: 'NL' } },
        'items.0.sku': { like: '^A-', startswith: 'A' },
        note: { any: 'ignored' },
        coupon: null,
      }).conditions,
    ).toEqual([
      { path: ['status'], op: 'is', value: 'paid' },
      { path: ['customer', 'email'], op: 'endswith', value: '@acme.com' },
      { path: ['customer', 'country'], op: 'is', value: 'NL' },
      { path: ['items', '0', 'sku'], op: 'like', value: '^A-' },
      { path: ['items', '0', 'sku'], op: 'startswith', value: 'A' },
      { path: ['note'], op: 'any', value: null },
      { path: ['coupon'], op: 'is', value: null },
    ] satisfies Condition[])
  })

  test('every problem is reported with the path of its field', () => {
    const { issues } = compileFilters(
      {
        name: { startswith: 5 },
        code: { like: '(a+)+$' },
        bad: { like: '[' },
        mixed: { startswith: 'a', city: 'x' },
        empty: {},
        'a..b': 1,
        deep: { a: { b: { c: { d: { e: { f: { g: { h: 1 } } } } } } } },
      },
      { base: 'filters' },
    )
    expect(issues.map((issue) => issue.path)).toEqual([
      'filters.name.startswith',
      'filters.code.like',
      'filters.bad.like',
      'filters.mixed',
      'filters.empty',
      'filters.a..b',
      'filters.deep.a.b.c.d.e.f.g.h',
    ])
    expect(issues[1]!.message).toMatch(/backtrack catastrophically/)
    expect(issues[2]!.message).toMatch(/Not a valid regular expression/)
  })

  test('filters may name only the fields the event type exposes', () => {
    const { issues } = compileFilters(
      { email: 'x', 'profile.name': 'y', secret: 'z' },
      { fields: ['email', 'profile'] },
    )
    expect(issues).toEqual([
      { path: 'filters.secret', message: '"secret" is not a field of this event type.' },
    ])
  })

  test('filters must be an object, and their number is bounded', () => {
    expect(compileFilters([1]).issues).toEqual([
      { path: 'filters', message: 'Expected an object of field conditions.' },
    ])
    const many = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`f${i}`, i]))
    expect(compileFilters(many).issues).toEqual([
      { path: 'filters', message: 'At most 50 conditions are allowed.' },
    ])
  })
})

describe('matching, as durian did it (REFERENCE.md §B.5) without its crashes', () => {
  const person = {
    name: 'Joe',
    email: 'joe@example.com',
    age: 42,
    address: { city: 'Delft' },
    tags: ['a', 'b'],
  }

  test('an empty filter matches everything; extra data keys are ignored', () => {
    expect(matches({}, person)).toBe(true)
    expect(matches({}, 'not even an object')).toBe(true)
    expect(matches({ name: 'Joe' }, person)).toBe(true)
  })

  test('equality is type-sensitive: 1 does not match "1"', () => {
    expect(matches({ age: 42 }, person)).toBe(true)
    expect(matches({ age: '42' }, person)).toBe(false)
    expect(matches({ age: { is: 42.0 } }, person)).toBe(true)
    expect(matches({ tags: ['a', 'b'] }, person)).toBe(true)
    expect(matches({ tags: ['b', 'a'] }, person)).toBe(false)
  })

  test('null matches a missing key; any matches even when the key is absent', () => {
    expect(matches({ coupon: null }, person)).toBe(true)
    expect(matches({ name: null }, person)).toBe(false)
    expect(matches({ coupon: { any: true } }, person)).toBe(true)
  })

  test('string operators are case-sensitive and need a string', () => {
    expect(matches({ name: { startswith: 'J' } }, person)).toBe(true)
    expect(matches({ name: { startswith: 'j' } }, person)).toBe(false)
    expect(matches({ email: { endswith: '@example.com' } }, person)).toBe(true)
    expect(matches({ email: { contains: 'oe@' } }, person)).toBe(true)
    expect(matches({ email: { like: '^[a-z]+@' } }, person)).toBe(true)
    expect(matches({ email: { like: '^[0-9]+@' } }, person)).toBe(false)
    // Durian raised AttributeError here; a wrong type or a missing value simply does not match.
    expect(matches({ age: { startswith: '4' } }, person)).toBe(false)
    expect(matches({ missing: { contains: 'x' } }, person)).toBe(false)
  })

  test('nested objects and dotted paths reach into objects and arrays', () => {
    expect(matches({ address: { city: { startswith: 'D' } } }, person)).toBe(true)
    expect(matches({ 'address.city': 'Delft' }, person)).toBe(true)
    expect(matches({ 'tags.1': 'b', 'tags.-1': 'b' }, person)).toBe(true)
    expect(matches({ 'name.first': { any: 1 } }, person)).toBe(true)
    expect(matches({ 'name.first': 'J' }, person)).toBe(false)
  })

  test('every condition must hold', () => {
    expect(matches({ name: 'Joe', age: 41 }, person)).toBe(false)
    expect(matches({ name: { startswith: 'J', endswith: 'e' } }, person)).toBe(true)
  })
})

describe('patternProblem', () => {
  test('accepts ordinary patterns and refuses empty, long, invalid and catastrophic ones', () => {
    expect(patternProblem('^order-[0-9]{3}$')).toBeNull()
    expect(patternProblem('\\d+@(acme|example)\\.com$')).toBeNull()
    expect(patternProblem('')).toMatch(/Expected a regular expression/)
    expect(patternProblem(42)).toMatch(/Expected a regular expression/)
    expect(patternProblem('a'.repeat(257))).toMatch(/At most 256/)
    expect(patternProblem('(')).toMatch(/Not a valid regular expression/)
    expect(patternProblem('^(a|a)*$')).toMatch(/backtrack/)
    expect(patternProblem('(x+x+)+y')).toMatch(/backtrack/)
  })
})

describe('pickFields and valueAt', () => {
  test('pickFields keeps only the named top-level fields, in the data order', () => {
    expect(pickFields({ a: 1, b: { c: 2 }, d: 3 }, ['d', 'b', 'missing'])).toEqual({ b: { c: 2 }, d: 3 })
    expect(pickFields([1, 2], ['a'])).toEqual([1, 2])
  })

  test('valueAt ignores inherited properties', () => {
    expect(valueAt({}, ['constructor'])).toBeUndefined()
    expect(valueAt({ a: [{ b: 1 }] }, ['a', '0', 'b'])).toBe(1)
    expect(valueAt({ a: [1] }, ['a', 'x'])).toBeUndefined()
  })
})
