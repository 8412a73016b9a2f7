import { expect, test } from 'vitest'
import {
  conditionsFromFilters,
  filtersFromConditions,
  formatValue,
  parseValue,
  typeAt,
} from '../../dashboard/conditions.js'
import { compileFilters } from '../../src/core/filters.ts'

const schema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    total: { type: 'number' },
    paid: { type: 'boolean' },
    name: { type: 'string' },
    note: { type: ['string', 'null'] },
    customer: { type: 'object', properties: { email: { type: 'string' }, age: { type: 'integer' } } },
  },
}

test('a field has the type its schema gives it, nested ones included', () => {
  expect(typeAt(schema, 'id')).toBe('integer')
  expect(typeAt(schema, 'note')).toBe('string')
  expect(typeAt(schema, 'customer.age')).toBe('integer')
  expect(typeAt(schema, 'customer.missing')).toBeUndefined()
  expect(typeAt(null, 'id')).toBeUndefined()
})

test('a value is read with its field’s JSON type, since 1 does not match "1"', () => {
  expect(parseValue('42', 'integer')).toEqual({ value: 42 })
  expect(parseValue('4.5', 'integer')).toEqual({ problem: 'Enter a whole number.' })
  expect(parseValue('abc', 'number')).toEqual({ problem: 'Enter a number.' })
  expect(parseValue('true', 'boolean')).toEqual({ value: true })
  expect(parseValue('yes', 'boolean')).toEqual({ problem: 'Enter true or false.' })
  expect(parseValue('42', 'string')).toEqual({ value: '42' })
  // Without a type: JSON when it reads as JSON, else the text as typed.
  expect(parseValue('42', undefined)).toEqual({ value: 42 })
  expect(parseValue('"42"', undefined)).toEqual({ value: '42' })
  expect(parseValue('null', undefined)).toEqual({ value: null })
  expect(parseValue('Jane Doe', undefined)).toEqual({ value: 'Jane Doe' })
})

test('a shown value reads back as the same value', () => {
  for (const [value, type] of [
    ['42', undefined],
    ['Jane', undefined],
    [42, undefined],
    [null, undefined],
    [[1, 2], undefined],
    ['42', 'string'],
    [7, 'integer'],
    [false, 'boolean'],
  ] as const) {
    expect(parseValue(formatValue(value, type), type)).toEqual({ value })
  }
})

test('conditions make filters that the API accepts, and come back from them', () => {
  const rows = [
    { field: 'name', op: 'startswith', value: 'J' },
    { field: 'name', op: 'endswith', value: 'e' },
    { field: 'id', op: 'is', value: '42' },
    { field: 'customer.email', op: 'like', value: '@acme\\.com$' },
    { field: 'paid', op: 'any', value: '' },
    { field: '', op: 'is', value: '' },
  ]
  const { filters, problems } = filtersFromConditions(rows, schema)
  expect(problems).toEqual([])
  expect(filters).toEqual({
    name: { startswith: 'J', endswith: 'e' },
    id: 42,
    'customer.email': { like: '@acme\\.com$' },
    paid: { any: true },
  })
  expect(compileFilters(filters, { fields: Object.keys(schema.properties) }).issues).toEqual([])
  expect(conditionsFromFilters(filters, schema)).toEqual(rows.slice(0, 5))
  // Nested objects come back as dotted fields.
  expect(conditionsFromFilters({ customer: { email: { endswith: '.com' }, age: 30 } }, schema)).toEqual([
    { field: 'customer.email', op: 'endswith', value: '.com' },
    { field: 'customer.age', op: 'is', value: '30' },
  ])
})

test('each row with a problem is named by its index', () => {
  const { problems } = filtersFromConditions(
    [
      { field: 'id', op: 'is', value: 'abc' },
      { field: 'name', op: 'contains', value: 'a' },
      { field: 'name', op: 'contains', value: 'b' },
      { field: 'a..b', op: 'is', value: '1' },
    ],
    schema,
  )
  expect(problems).toEqual([
    { index: 0, message: 'Enter a number.' },
    { index: 2, message: '"name" already has an “contains” condition.' },
    { index: 3, message: 'Name a field, with dots between nested names.' },
  ])
})
