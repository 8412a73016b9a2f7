import { describe, expect, test } from 'vitest'
import { z } from 'zod'
import { WhispererError } from '../../src/core/errors.ts'
import { EventTypeRegistry } from '../../src/core/event-types.ts'

function thrown(fn: () => unknown): WhispererError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(WhispererError)
    return error as WhispererError
  }
  throw new Error('expected a WhispererError')
}

describe('register', () => {
  test('a registered type is known and listed', () => {
    const registry = new EventTypeRegistry()
    registry.register({ type: 'package-created', description: 'A package was created' })
    expect(registry.has('package-created')).toBe(true)
    expect(registry.has('package-deleted')).toBe(false)
    expect(registry.get('package-created').description).toBe('A package was created')
    expect(registry.list().map((definition) => definition.type)).toEqual(['package-created'])
  })

  test('registering a type twice throws event_type_already_registered', () => {
    const registry = new EventTypeRegistry()
    registry.register({ type: 'package-created' })
    const error = thrown(() => registry.register({ type: 'package-created' }))
    expect(error.code).toBe('event_type_already_registered')
    expect(error.status).toBe(409)
    expect(error.message).toContain('package-created')
  })

  test.each(['package-created', 'order.created', 'billing:invoice/paid', 'A_1', '9lives', 'x'.repeat(124)])(
    'accepts the name %s',
    (type) => {
      const registry = new EventTypeRegistry()
      registry.register({ type })
      expect(registry.has(type)).toBe(true)
    },
  )

  test.each([
    ['empty', ''],
    ['leading space', ' x'],
    ['inner space', 'a b'],
    ['leading dash', '-x'],
    ['leading dot', '.x'],
    ['trailing newline', 'a\n'],
    ['non-ASCII', 'café'],
    ['quote', 'a"b'],
    ['125 characters', 'x'.repeat(125)],
  ])('refuses a name with %s', (_label, type) => {
    const error = thrown(() => new EventTypeRegistry().register({ type }))
    expect(error.code).toBe('invalid_options')
  })

  test('refuses a type that is not a string', () => {
    const error = thrown(() => new EventTypeRegistry().register({ type: 42 as unknown as string }))
    expect(error.code).toBe('invalid_options')
  })

  test('registries are independent', () => {
    new EventTypeRegistry().register({ type: 'a' })
    expect(new EventTypeRegistry().has('a')).toBe(false)
  })
})

describe('get', () => {
  test('an unknown type throws unknown_event_type naming the type', () => {
    const error = thrown(() => new EventTypeRegistry().get('order-shipped'))
    expect(error.code).toBe('unknown_event_type')
    expect(error.message).toContain('order-shipped')
  })
})

describe('serialize', () => {
  test('an unknown type throws unknown_event_type naming the type', () => {
    const error = thrown(() => new EventTypeRegistry().serialize('order-shipped', { id: 1 }))
    expect(error.code).toBe('unknown_event_type')
    expect(error.message).toContain('order-shipped')
  })

  test('the default serialize is identity', () => {
    const registry = new EventTypeRegistry()
    registry.register({ type: 'package-created' })
    expect(registry.serialize('package-created', { id: 61, tags: ['a'] })).toEqual({
      dataJson: '{"id":61,"tags":["a"]}',
      subject: null,
    })
  })

  test('serialize shapes the data', () => {
    const registry = new EventTypeRegistry()
    registry.register<{ id: number; secret: string }>({
      type: 'package-created',
      serialize: (p) => ({ id: p.id }),
    })
    expect(registry.serialize('package-created', { id: 61, secret: 'x' }).dataJson).toBe('{"id":61}')
  })

  test('dates and bigints are encoded', () => {
    const registry = new EventTypeRegistry()
    registry.register({ type: 'a' })
    expect(registry.serialize('a', { at: new Date('2026-01-01T00:00:00Z'), n: 2n ** 60n }).dataJson).toBe(
      '{"at":"2026-01-01T00:00:00.000Z","n":1152921504606846976}',
    )
  })

  test('data that cannot be JSON is invalid event data', () => {
    const registry = new EventTypeRegistry()
    registry.register({ type: 'a' })
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    for (const instance of [undefined, () => 1, cyclic]) {
      const error = thrown(() => registry.serialize('a', instance))
      expect(error.code).toBe('invalid_event_data')
      expect(error.issues.map((issue) => issue.path)).toEqual(['data'])
      expect(error.message).toContain('"a"')
    }
  })

  test('a schema validates the serialized data', () => {
    const registry = new EventTypeRegistry()
    registry.register({ type: 'a', schema: z.object({ id: z.number(), name: z.string() }) })
    expect(registry.serialize('a', { id: 1, name: 'n' }).dataJson).toBe('{"id":1,"name":"n"}')
  })

  test('a schema failure carries its issues under data', () => {
    const registry = new EventTypeRegistry()
    registry.register({
      type: 'a',
      schema: z.object({ id: z.number(), owner: z.object({ email: z.email() }) }),
    })
    const error = thrown(() => registry.serialize('a', { id: 'one', owner: { email: 'nope' } }))
    expect(error.code).toBe('invalid_event_data')
    expect(error.status).toBe(422)
    expect(error.issues.map((issue) => issue.path).sort()).toEqual(['data.id', 'data.owner.email'])
    expect(error.message).toContain('"a"')
  })

  test('a schema failure on the whole value is under data', () => {
    const registry = new EventTypeRegistry()
    registry.register({ type: 'a', schema: z.array(z.number()) })
    const error = thrown(() => registry.serialize('a', 'text'))
    expect(error.issues.map((issue) => issue.path)).toEqual(['data'])
  })

  test('the schema output is what gets stored', () => {
    const registry = new EventTypeRegistry()
    registry.register({
      type: 'a',
      schema: z.object({ id: z.number(), name: z.string().transform((s) => s.toUpperCase()) }),
    })
    expect(registry.serialize('a', { id: 1, name: 'n', dropped: true }).dataJson).toBe('{"id":1,"name":"N"}')
  })

  test('the schema checks the output of serialize', () => {
    const registry = new EventTypeRegistry()
    registry.register<{ n: number }>({
      type: 'a',
      serialize: (instance) => ({ count: instance.n }),
      schema: z.object({ count: z.number().max(10) }),
    })
    expect(registry.serialize('a', { n: 3 }).dataJson).toBe('{"count":3}')
    expect(thrown(() => registry.serialize('a', { n: 11 })).issues.map((issue) => issue.path)).toEqual([
      'data.count',
    ])
  })

  test('subject is recorded with its id as a string', () => {
    const registry = new EventTypeRegistry()
    registry.register<{ id: number }>({
      type: 'package-created',
      subject: (p) => ({ type: 'package', id: p.id as unknown as string }),
    })
    expect(registry.serialize('package-created', { id: 61 }).subject).toEqual({ type: 'package', id: '61' })
  })

  test('subject comes from the instance, not the serialized data', () => {
    const registry = new EventTypeRegistry()
    registry.register<{ pk: string }>({
      type: 'a',
      serialize: () => ({ other: true }),
      subject: (instance) => ({ type: 'thing', id: instance.pk }),
    })
    expect(registry.serialize('a', { pk: 'abc' })).toEqual({
      dataJson: '{"other":true}',
      subject: { type: 'thing', id: 'abc' },
    })
  })

  test('a subject returning null or undefined records none', () => {
    const registry = new EventTypeRegistry()
    registry.register({ type: 'a', subject: () => null })
    registry.register({ type: 'b', subject: () => undefined })
    expect(registry.serialize('a', {}).subject).toBeNull()
    expect(registry.serialize('b', {}).subject).toBeNull()
  })
})

describe('JSON Schema', () => {
  const schema = {
    type: 'object',
    required: ['id', 'items'],
    properties: {
      id: { type: 'integer' },
      items: {
        type: 'array',
        items: { type: 'object', properties: { price: { type: 'number', minimum: 0 } } },
      },
    },
  }

  test('data is checked against the JSON Schema of a defined type, every failing path named', () => {
    const registry = new EventTypeRegistry()
    registry.define({ type: 'order-created', jsonSchema: schema })
    expect(registry.serialize('order-created', { id: 1, items: [{ price: 2 }] }).dataJson).toBe(
      '{"id":1,"items":[{"price":2}]}',
    )
    const error = thrown(() => registry.serialize('order-created', { id: 'x', items: [{ price: -1 }] }))
    expect(error.code).toBe('invalid_event_data')
    expect(error.status).toBe(422)
    expect(error.issues.map((issue) => issue.path).sort()).toEqual(['data.id', 'data.items.0.price'])
    expect(
      thrown(() => registry.serialize('order-created', {}))
        .issues.map((issue) => issue.path)
        .sort(),
    ).toEqual(['data.id', 'data.items'])
  })

  test('the standard formats of a JSON Schema are checked', () => {
    const registry = new EventTypeRegistry()
    registry.define({
      type: 'user-created',
      jsonSchema: {
        type: 'object',
        properties: {
          email: { type: 'string', format: 'email' },
          at: { type: 'string', format: 'date-time' },
        },
      },
    })
    expect(
      registry.serialize('user-created', { email: 'ann@example.com', at: '2026-11-23T10:00:00Z' }),
    ).toBeTruthy()
    expect(
      thrown(() => registry.serialize('user-created', { email: 'ann', at: 'yesterday' })).issues.map(
        (issue) => issue.path,
      ),
    ).toEqual(['data.email', 'data.at'])
  })

  test('define replaces a type; remove forgets it; a schema that does not compile is refused', () => {
    const registry = new EventTypeRegistry()
    registry.define({ type: 'a', jsonSchema: { type: 'string' } })
    registry.define({ type: 'a', jsonSchema: { type: 'number' } })
    expect(registry.serialize('a', 3).dataJson).toBe('3')
    expect(registry.remove('a')).toBe(true)
    expect(registry.has('a')).toBe(false)
    expect(thrown(() => registry.define({ type: 'b', jsonSchema: { type: 'nonsense' } })).code).toBe(
      'validation_error',
    )
  })
})
