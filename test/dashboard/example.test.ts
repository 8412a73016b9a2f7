import { expect, test } from 'vitest'
import { exampleFromSchema } from '../../dashboard/example.js'
import { compileJsonSchema } from '../../src/core/json-schema.ts'

test('an example follows the schema: examples, defaults, enums, formats and bounds', () => {
  const schema = {
    type: 'object',
    required: ['id', 'email'],
    properties: {
      note: { type: ['string', 'null'] },
      id: { type: 'integer', minimum: 100 },
      email: { type: 'string', format: 'email' },
      status: { enum: ['paid', 'pending'] },
      currency: { type: 'string', default: 'EUR' },
      sku: { type: 'string', examples: ['A-1'] },
      code: { type: 'string', minLength: 6 },
      items: { type: 'array', items: { type: 'object', properties: { qty: { type: 'integer' } } } },
      total: { type: 'number', exclusiveMinimum: 0 },
      gift: { type: 'boolean' },
    },
  }
  const example = exampleFromSchema(schema)
  expect(example).toEqual({
    id: 100,
    email: 'jane@example.com',
    note: 'text',
    status: 'paid',
    currency: 'EUR',
    sku: 'A-1',
    code: 'xxxxxx',
    items: [{ qty: 1 }],
    total: 1,
    gift: true,
  })
  // Required properties come first, and the example is valid data for the schema.
  expect(Object.keys(example as object).slice(0, 2)).toEqual(['id', 'email'])
  const unformatted = { ...schema, properties: { ...schema.properties, email: { type: 'string' } } }
  expect(compileJsonSchema(unformatted)(example)).toEqual([])
})

test('a schema that says nothing gives an empty object; combinations take their first option', () => {
  expect(exampleFromSchema({})).toEqual({})
  expect(exampleFromSchema(null)).toBeNull()
  expect(exampleFromSchema({ anyOf: [{ type: 'null' }, { type: 'integer', minimum: 3 }] })).toBe(3)
  expect(
    exampleFromSchema({
      allOf: [
        { type: 'object', properties: { a: { const: 1 } } },
        { type: 'object', properties: { b: { type: 'boolean' } } },
      ],
    }),
  ).toEqual({ a: 1, b: true })
})
