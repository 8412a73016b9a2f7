import { PGlite } from '@electric-sql/pglite'
import type pg from 'pg'
import { beforeEach, expect, test } from 'vitest'
import { z } from 'zod'
import { operationalEventTypes } from '../../src/core/operational-events.ts'
import type { Queryable } from '../../src/storage/database.ts'
import type { Whisperer } from '../../src/whisperer.ts'
import { forEachDatabase } from '../support/databases.ts'
import { apiOf, type Call, expectError } from './support.ts'

/** Whisperer's operational event types, listed after the application's. */
const builtIn = operationalEventTypes.map((t) => t.type)

forEachDatabase((db) => {
  let whisperer: Whisperer
  let call: Call
  const invoiceSchema = {
    type: 'object',
    properties: { id: { type: 'integer' }, total: { type: 'number', minimum: 0 } },
    required: ['id'],
  }
  beforeEach(async () => {
    whisperer = await db.whisperer()
    whisperer.eventTypes.register({ type: 'package-created', description: 'A package was created' })
    whisperer.eventTypes.register({ type: 'order-created', schema: z.object({ id: z.int() }) })
    call = apiOf(whisperer)
  })

  test('event_types/ lists every type, with its JSON Schema when it has one and the fields it exposes', async () => {
    const response = await call('GET', 'event_types/')
    expect(response.status).toBe(200)
    // Whisperer's operational event types come last, each with its JSON Schema.
    const operational = response.body.slice(-builtIn.length)
    expect(operational.map((t: { type: string }) => t.type)).toEqual(builtIn)
    expect(operational.every((t: { json_schema: unknown }) => t.json_schema !== null)).toBe(true)
    expect(response.body.slice(0, -builtIn.length)).toEqual([
      { type: 'package-created', description: 'A package was created', json_schema: null, fields: null },
      {
        type: 'order-created',
        description: null,
        json_schema: expect.objectContaining({ type: 'object', properties: { id: expect.any(Object) } }),
        fields: ['id'],
      },
    ])
  })

  test('an admin declares a type with a JSON Schema; anyone else is refused with 403', async () => {
    const body = { type: 'invoice-paid', description: 'An invoice was paid', json_schema: invoiceSchema }
    expectError(await call('POST', 'event_types/', { as: 'alice', json: body }), 403, 'forbidden')
    expectError(await call('POST', 'event_types/', { as: 'publisher', json: body }), 403, 'forbidden')
    const declared = await call('POST', 'event_types/', { as: 'admin', json: { ...body, fields: ['id'] } })
    expect(declared.status).toBe(201)
    expect(declared.body).toEqual({ ...body, fields: ['id'] })

    const listed = (await call('GET', 'event_types/')).body
    expect(listed).toContainEqual({ ...body, fields: ['id'] })
    expect((await call('GET', 'hooks/registry/')).body).toContain('invoice-paid')
    const subscribed = await call('POST', 'hooks/', {
      json: { event_type: 'invoice-paid', target_url: 'https://example.com/invoices' },
    })
    expect(subscribed.status).toBe(201)

    // Redeclared with another schema: the new one applies.
    const replaced = await call('POST', 'event_types/', {
      as: 'admin',
      json: { type: 'invoice-paid', json_schema: { type: 'object', required: ['number'] } },
    })
    expect(replaced.status).toBe(201)
    const refused = await call('POST', 'events/', {
      as: 'publisher',
      json: { event_type: 'invoice-paid', data: { id: 1 } },
    })
    expect(refused.body.errors).toEqual({ 'data.number': [expect.any(String)] })
  })

  test('data failing the type’s schema is 422 invalid_event_data naming the failing paths', async () => {
    await call('POST', 'event_types/', {
      as: 'admin',
      json: { type: 'invoice-paid', json_schema: invoiceSchema },
    })
    await call('POST', 'hooks/', {
      json: { event_type: 'invoice-paid', target_url: 'https://example.com/invoices' },
    })
    const publish = (event_type: string, data: unknown) =>
      call('POST', 'events/', { as: 'publisher', json: { event_type, data } })

    const wrong = await publish('invoice-paid', { id: 'INV-1', total: -5 })
    expectError(wrong, 422, 'invalid_event_data')
    expect(Object.keys(wrong.body.errors).sort()).toEqual(['data.id', 'data.total'])
    const missing = await publish('invoice-paid', { total: 5 })
    expectError(missing, 422, 'invalid_event_data')
    expect(Object.keys(missing.body.errors)).toEqual(['data.id'])
    // A type declared in code with a zod schema is checked the same way.
    const zod = await publish('order-created', { id: 1.5 })
    expectError(zod, 422, 'invalid_event_data')
    expect(Object.keys(zod.body.errors)).toEqual(['data.id'])
    expect((await call('GET', 'hook_events/')).body.results).toEqual([])

    const valid = await publish('invoice-paid', { id: 7, total: 12.5 })
    expect(valid.status).toBe(202)
    expect(valid.body.deliveries).toHaveLength(1)
    expect((await call('GET', 'hook_events/')).body.results[0].request_payload.data).toEqual({
      id: 7,
      total: 12.5,
    })

    expectError(await publish('no-such-type', {}), 400, 'unknown_event_type')
    const noType = await call('POST', 'events/', { as: 'publisher', json: { data: {} } })
    expectError(noType, 400, 'validation_error')
    expect(Object.keys(noType.body.errors)).toEqual(['event_type'])
    // No subscriber: nothing is stored.
    expect((await publish('package-created', { id: 1 })).body).toEqual({
      event_uuid: null,
      deliveries: [],
      idempotent_replay: false,
    })
  })

  test('a declaration is checked: a JSON Schema that does not compile, or a type declared in code', async () => {
    const invalid = await call('POST', 'event_types/', {
      as: 'admin',
      json: { type: 'broken', json_schema: { type: 'no-such-type' } },
    })
    expectError(invalid, 400, 'validation_error')
    expect(Object.keys(invalid.body.errors)).toEqual(['json_schema'])
    const inCode = await call('POST', 'event_types/', { as: 'admin', json: { type: 'order-created' } })
    expectError(inCode, 409, 'event_type_already_registered')
    const badName = await call('POST', 'event_types/', { as: 'admin', json: { type: '' } })
    expectError(badName, 400, 'validation_error')
    expect(Object.keys(badName.body.errors)).toEqual(['type'])
    expect((await call('GET', 'event_types/')).body.map((t: { type: string }) => t.type)).toEqual([
      'package-created',
      'order-created',
      ...builtIn,
    ])
  })

  test('an admin removes a declared type with DELETE event_types/{type}/', async () => {
    await call('POST', 'event_types/', {
      as: 'admin',
      json: { type: 'invoice-paid', json_schema: invoiceSchema },
    })
    expectError(await call('DELETE', 'event_types/invoice-paid/', { as: 'alice' }), 403, 'forbidden')
    const removed = await call('DELETE', 'event_types/invoice-paid/', { as: 'admin' })
    expect(removed.status).toBe(204)
    expect(removed.text).toBe('')
    expect((await call('GET', 'event_types/')).body.map((t: { type: string }) => t.type)).not.toContain(
      'invoice-paid',
    )
    expect((await call('GET', 'hooks/registry/')).body).not.toContain('invoice-paid')
    const subscribe = await call('POST', 'hooks/', {
      json: { event_type: 'invoice-paid', target_url: 'https://example.com/invoices' },
    })
    expect(subscribe.body.errors).toEqual({ event_type: ['"invoice-paid" is not a valid choice.'] })
    expectError(await call('DELETE', 'event_types/invoice-paid', { as: 'admin' }), 404, 'not_found')
    // A type declared in code is not removed through the API.
    expectError(await call('DELETE', 'event_types/order-created/', { as: 'admin' }), 404, 'not_found')
  })

  test('a type declared by another process is known here at once', async () => {
    const source = await db.source()
    const first = await db.whisperer(source)
    const second = await db.whisperer({ ...source, migrate: false })
    const declared = await apiOf(first)('POST', 'event_types/', {
      as: 'admin',
      json: { type: 'invoice-paid', json_schema: invoiceSchema },
    })
    expect(declared.status).toBe(201)
    const other = apiOf(second)
    expect((await other('GET', 'hooks/registry/')).body).toEqual(['invoice-paid', ...builtIn])
    const created = await other('POST', 'hooks/', {
      json: { event_type: 'invoice-paid', target_url: 'https://example.com/invoices' },
    })
    expect(created.status).toBe(201)
    const wrong = await other('POST', 'events/', {
      as: 'publisher',
      json: { event_type: 'invoice-paid', data: { id: 'x' } },
    })
    expectError(wrong, 422, 'invalid_event_data')
  })

  test('a webhook body failing its schema names only the failing fields, even for a type declared elsewhere', async () => {
    const source = await db.source()
    const first = await db.whisperer(source)
    const second = await db.whisperer({ ...source, migrate: false })
    await apiOf(first)('POST', 'event_types/', { as: 'admin', json: { type: 'invoice-paid' } })
    const invalid = await apiOf(second)('POST', 'hooks/', {
      json: { event_type: 'invoice-paid', target_url: 42 },
    })
    expectError(invalid, 400, 'validation_error')
    expect(Object.keys(invalid.body.errors)).toEqual(['target_url'])
  })

  // Reading the stored types once only added them and never forgot one another process removed,
  // so a second process kept listing a removed type and accepting webhooks for it.
  test('a type removed by another process is forgotten here', async () => {
    const source = await db.source()
    const first = await db.whisperer(source)
    const second = await db.whisperer({ ...source, migrate: false })
    const one = apiOf(first)
    const other = apiOf(second)
    await one('POST', 'event_types/', { as: 'admin', json: { type: 'invoice-paid' } })
    expect((await other('GET', 'hooks/registry/')).body).toEqual(['invoice-paid', ...builtIn])
    expect((await one('DELETE', 'event_types/invoice-paid/', { as: 'admin' })).status).toBe(204)
    expect((await other('GET', 'event_types/')).body.map((t: { type: string }) => t.type)).toEqual(builtIn)
    const subscribe = await other('POST', 'hooks/', {
      json: { event_type: 'invoice-paid', target_url: 'https://example.com/invoices' },
    })
    expect(subscribe.status).toBe(400)
  })

  test('a type declared elsewhere is published inside a caller’s transaction, and through it on PGlite', async () => {
    const source = await db.source()
    const first = await db.whisperer(source)
    const second = await db.whisperer({ ...source, migrate: false })
    await first.eventTypes.declare({ type: 'invoice-paid' })
    await first.webhooks.create('alice', { eventType: 'invoice-paid', targetUrl: 'https://example.com/i' })
    const raw = await db.raw()
    const publish = (tx: Queryable) => second.deliverEvent({ id: 1 }, 'invoice-paid', { tx })
    // PGlite has one connection: reading the stored type beside the open transaction would wait forever.
    const result =
      raw instanceof PGlite
        ? await raw.transaction((tx) => publish(tx))
        : await (async () => {
            const client = await (raw as pg.Pool).connect()
            try {
              await client.query('BEGIN')
              const published = await publish(client)
              await client.query('COMMIT')
              return published
            } finally {
              client.release()
            }
          })()
    expect(result.deliveries).toHaveLength(1)
    expect((await second.eventTypes.get('invoice-paid')).type).toBe('invoice-paid')
    expect((await second.eventTypes.list()).map((t) => t.type)).toEqual(['invoice-paid', ...builtIn])
    // Code wins over a stored type of the same name.
    second.eventTypes.register({ type: 'invoice-paid', description: 'in code' })
    expect((await second.eventTypes.get('invoice-paid')).description).toBe('in code')
    await expect(second.eventTypes.declare({ type: 'invoice-paid' })).rejects.toMatchObject({
      code: 'event_type_already_registered',
    })
  })
})
