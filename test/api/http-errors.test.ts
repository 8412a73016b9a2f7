import { beforeEach, expect, test } from 'vitest'
import { operationalEventTypes } from '../../src/core/operational-events.ts'
import type { Logger } from '../../src/logger.ts'
import type { Whisperer } from '../../src/whisperer.ts'
import { forEachDatabase } from '../support/databases.ts'
import { apiOf, authenticate, type Call, caller, expectError } from './support.ts'

/** The errors every route shares: authentication, scopes, bodies, rate limits; JSON `{code, message}`. */
/** Whisperer's operational event types, listed after the application's. */
const builtIn = operationalEventTypes.map((t) => t.type)

forEachDatabase((db) => {
  let whisperer: Whisperer
  let call: Call
  const hook = { event_type: 'order-created', target_url: 'https://example.com/hook' }
  beforeEach(async () => {
    whisperer = await db.whisperer()
    whisperer.eventTypes.register({ type: 'order-created' })
    call = apiOf(whisperer)
  })

  test('no credentials, or credentials the host does not know, are 401 with WWW-Authenticate', async () => {
    for (const response of [
      await call('GET', 'hooks/', { as: null }),
      await call('POST', 'hooks/', { as: null, json: hook }),
      await call('GET', 'hooks/', { as: null, headers: { authorization: 'Token nobody-token' } }),
      await call('GET', 'hook_events/', { as: null, headers: { authorization: 'Basic YWxpY2U6cHc=' } }),
    ]) {
      expectError(response, 401, 'unauthenticated')
      expect(response.headers.get('www-authenticate')).toBe('Token')
    }
    expect(
      (await call('GET', 'hooks/', { as: null, headers: { authorization: 'Bearer bob-token' } })).status,
    ).toBe(200)
    expect(await whisperer.webhooks.list({ owner: '', admin: true })).toEqual([])
  })

  test('a caller without the scope a route needs is 403', async () => {
    expectError(await call('GET', 'hooks/', { as: 'publisher' }), 403, 'forbidden')
    expectError(await call('POST', 'hooks/', { as: 'publisher', json: hook }), 403, 'forbidden')
    expectError(await call('GET', 'hook_events/', { as: 'publisher' }), 403, 'forbidden')
    expectError(await call('POST', 'hook_events/replay/', { as: 'publisher', json: {} }), 403, 'forbidden')
    const publish = { event_type: 'order-created', data: {} }
    expectError(await call('POST', 'events/', { as: 'alice', json: publish }), 403, 'forbidden')
    expect((await call('POST', 'events/', { as: 'publisher', json: publish })).status).toBe(202)
    expect((await call('POST', 'events/', { as: 'admin', json: publish })).status).toBe(202)
  })

  test('malformed JSON is 400 invalid_json; a body that is not JSON is 415', async () => {
    const created = (await call('POST', 'hooks/', { json: hook })).body
    for (const [method, path] of [
      ['POST', 'hooks/'],
      ['PUT', `hooks/${created.id}/`],
      ['PATCH', `hooks/${created.id}`],
      ['POST', 'events/'],
      ['POST', 'hook_events/replay/'],
      ['POST', 'hook_events/1/retry/'],
    ] as const) {
      const response = await call(method, path, { as: 'admin', body: '{"event_type": "order-created",' })
      expectError(response, 400, 'invalid_json')
    }
    const form = await call('POST', 'hooks/', {
      body: 'event_type=order-created',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    })
    expectError(form, 415, 'unsupported_media_type')
    expect((await call('GET', `hooks/${created.id}/`)).body.target_url).toBe(hook.target_url)
  })

  test('a body over maxBodyBytes is 413', async () => {
    call = caller(whisperer.api({ authenticate, rateLimit: false, maxBodyBytes: 1024 }))
    const big = { ...hook, config: { padding: 'x'.repeat(2000) } }
    expectError(await call('POST', 'hooks/', { json: big }), 413, 'payload_too_large')
    expectError(
      await call('POST', 'events/', { as: 'publisher', json: { event_type: 'order-created', data: big } }),
      413,
      'payload_too_large',
    )
    expect((await call('GET', 'hooks/')).body.results).toEqual([])
    expect((await call('POST', 'hooks/', { json: hook })).status).toBe(201)
  })

  test('a caller over its rate limit is 429 with Retry-After; others are not held back', async () => {
    call = caller(whisperer.api({ authenticate, rateLimit: { requestsPerSecond: 0.5, burst: 2 } }))
    expect((await call('GET', 'hooks/')).status).toBe(200)
    expect((await call('GET', 'hooks/')).status).toBe(200)
    const limited = await call('GET', 'hooks/')
    expectError(limited, 429, 'rate_limited')
    expect(limited.headers.get('retry-after')).toBe('2')
    expectError(await call('POST', 'hooks/', { json: hook }), 429, 'rate_limited')
    expect((await call('GET', 'hooks/', { as: 'bob' })).status).toBe(200)
    expect(await whisperer.webhooks.list({ owner: '', admin: true })).toEqual([])
  })

  test('the apiRateLimit option sets the limit of whisperer.api() (a burst of twice it); 0 lifts it', async () => {
    const limited = await db.whisperer({ apiRateLimit: 1 })
    call = caller(limited.api({ authenticate }))
    expect((await call('GET', 'hooks/')).status).toBe(200)
    expect((await call('GET', 'hooks/')).status).toBe(200)
    expectError(await call('GET', 'hooks/'), 429, 'rate_limited')
    const unlimited = await db.whisperer({ apiRateLimit: 0 })
    call = caller(unlimited.api({ authenticate }))
    // Bounded: 150 requests, three times the default limit's burst.
    for (let i = 0; i < 150; i += 1) expect((await call('GET', 'hooks/')).status).toBe(200)
  })

  test('an unknown route is 404; a trailing slash is optional', async () => {
    expectError(await call('GET', 'nothing-here/'), 404, 'not_found')
    expectError(await call('DELETE', 'hook_events/'), 404, 'not_found')
    expect((await call('GET', 'hooks')).status).toBe(200)
    expect((await call('GET', 'hooks/registry')).body).toEqual(['order-created', ...builtIn])
    expect((await call('POST', 'hooks', { json: hook })).status).toBe(201)
  })

  test('the API mounts under any prefix', async () => {
    const handler = whisperer.api({ authenticate, prefix: '/api/webhooks/' })
    const mounted = caller(handler, '/api/webhooks')
    expect((await mounted('POST', 'hooks/', { json: hook })).status).toBe(201)
    expect((await mounted('GET', 'openapi.json', { as: null })).status).toBe(200)
    expectError(await caller(handler)('GET', 'hooks/'), 404, 'not_found')
  })

  test('input PostgreSQL could not take is refused as 400 or 404, never a 500', async () => {
    const huge = '99999999999999999999'
    for (const path of [`hook_events/${huge}/`, `hook_events/${huge}/attempts/`, 'hook_events/not-a-uuid/']) {
      expectError(await call('GET', path), 404, 'not_found')
    }
    expectError(await call('POST', `hook_events/${huge}/retry/`), 404, 'not_found')
    for (const [query, field] of [
      ['response_http_status=99999999999', 'response_http_status'],
      ['created_date__gte=99999-01-01', 'created_date__gte'],
      ['created_date=0000-01-01', 'created_date'],
      ['event_type=%00', 'event_type'],
      ['owner=a%00', 'owner'],
    ]) {
      const response = await call('GET', `hook_events/?${query}`, { as: 'admin' })
      expectError(response, 400, 'validation_error')
      expect(Object.keys(response.body.errors)).toEqual([field])
    }
    for (const path of ['hooks/?target_url=%00', 'hooks/?event_type=%00', 'event_queues/?event_type=%00']) {
      expectError(await call('GET', path), 400, 'validation_error')
    }
    const replay = await call('POST', 'hook_events/replay/', {
      json: { created_date__gte: '0000-01-01T00:00:00Z', event_type: 'a\u0000' },
    })
    expectError(replay, 400, 'validation_error')
    expect(Object.keys(replay.body.errors).sort()).toEqual(['created_date__gte', 'event_type'])
    const declared = await call('POST', 'event_types/', {
      as: 'admin',
      json: { type: 'invoice-paid', description: 'a\u0000', fields: ['id\u0000'] },
    })
    expectError(declared, 400, 'validation_error')
    expect(Object.keys(declared.body.errors).sort()).toEqual(['description', 'fields.0'])
    expectError(await call('DELETE', 'event_types/%00/', { as: 'admin' }), 404, 'not_found')
  })

  // Bug outside the API (src/core/webhook-input.ts, webhookInputSchema): a NUL character in
  // target_url, secret_key or any string inside config passes validation, and PostgreSQL then
  // refuses it (text and jsonb cannot hold one): the caller gets a 500 instead of a 400 naming the field.
  test('a webhook field with a NUL character is a 400 naming it', async () => {
    const response = await call('POST', 'hooks/', {
      json: {
        ...hook,
        target_url: 'https://example.com/\u0000',
        secret_key: 'a\u0000',
        config: { x: '\u0000' },
      },
    })
    expectError(response, 400, 'validation_error')
    expect(Object.keys(response.body.errors).sort()).toEqual(['config.x', 'secret_key', 'target_url'])
  })

  // An unpaired surrogate (`"\ud800"` in the JSON text) is a string jsonb refuses, and a config
  // nested some thousands of levels deep overflowed the stack of the NUL check: both were 500s.
  test('JSON PostgreSQL could not store (an unpaired surrogate, deep nesting) is a 400 naming the field', async () => {
    const webhook = (fields: string) =>
      call('POST', 'hooks/', {
        body: `{"event_type":"order-created","target_url":"${hook.target_url}",${fields}}`,
      })
    const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`
    const surrogate = await webhook('"config":{"\\ud800":1},"additional_headers":{"X-A":"\\udfff"}')
    expectError(surrogate, 400, 'validation_error')
    expect(Object.keys(surrogate.body.errors).sort()).toEqual(['additional_headers.X-A', 'config.\ud800'])
    for (const depth of [64, 10_000, 100_000]) {
      const deep = await webhook(`"config":{"x":${nested(depth)}}`)
      expectError(deep, 400, 'validation_error')
      expect(Object.values(deep.body.errors)).toEqual([['Must not nest more than 64 levels deep.']])
    }
    const published = await call('POST', 'events/', {
      as: 'publisher',
      body: '{"event_type":"order-created","data":{},"config_filter":{"\\ud800":1}}',
    })
    expectError(published, 400, 'validation_error')
    expect(Object.keys(published.body.errors)).toEqual(['config_filter.\ud800'])
    const declared = await call('POST', 'event_types/', {
      as: 'admin',
      body: '{"type":"invoice-paid","json_schema":{"description":"\\ud800"}}',
    })
    expectError(declared, 400, 'validation_error')
    expect(Object.keys(declared.body.errors)).toEqual(['json_schema.description'])
    expect((await call('GET', 'hooks/registry/')).body).toEqual(['order-created', ...builtIn])
    expect(await whisperer.webhooks.list({ owner: '', admin: true })).toEqual([])
    // Nesting within the limit is stored.
    expect((await webhook(`"config":{"x":${nested(63)}}`)).status).toBe(201)
  })

  test('the owner an admin creates a webhook for cannot hold a NUL character: a 400 naming it', async () => {
    const response = await call('POST', 'hooks/?owner=a%00', { as: 'admin', json: hook })
    expectError(response, 400, 'validation_error')
    expect(Object.keys(response.body.errors)).toEqual(['owner'])
    expect((await call('POST', 'hooks/?owner=carol', { as: 'admin', json: hook })).body.owner).toBe('carol')
  })

  // Bug outside the API (src/service/deliveries.ts, deliveryKey): a number is checked to be a safe
  // integer, but a string of digits is not, so `deliveries.get(actor, '99999999999999999999')` fails
  // in PostgreSQL (bigint out of range) instead of answering delivery_not_found. The API guards its
  // path parameter; a library caller still gets the database error.
  test('a delivery ref too large for an id is delivery_not_found in the library', async () => {
    await expect(whisperer.deliveries.get('alice', '99999999999999999999')).rejects.toMatchObject({
      code: 'delivery_not_found',
    })
  })

  test('an unexpected error is a logged 500 that leaks nothing', async () => {
    const logged: unknown[] = []
    const logger: Logger = {
      debug() {},
      info() {},
      warn() {},
      error: (...args: unknown[]) => logged.push(args),
    }
    const failing = await db.whisperer({ logger })
    const broken = caller(
      failing.api({
        authenticate: () => {
          throw new Error('connection string postgres://admin:hunter2@db/prod')
        },
      }),
    )
    const response = await broken('GET', 'hooks/')
    expect(response.status).toBe(500)
    expect(response.body).toEqual({ code: 'internal_error', message: 'Internal server error' })
    expect(response.text).not.toMatch(/hunter2/)
    expect(logged).toHaveLength(1)
  })
})
