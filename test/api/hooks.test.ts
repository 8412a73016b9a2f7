import { afterEach, beforeEach, expect, test } from 'vitest'
import { operationalEventTypes } from '../../src/core/operational-events.ts'
import type { Whisperer } from '../../src/whisperer.ts'
import { forEachDatabase } from '../support/databases.ts'
import { type Receiver, startReceiver } from '../support/receiver.ts'
import { apiOf, type Call, expectError, signature } from './support.ts'

const masked = '********'

/** Whisperer's operational event types, listed after the application's. */
const builtIn = operationalEventTypes.map((t) => t.type)

forEachDatabase((db) => {
  let receiver: Receiver
  let whisperer: Whisperer
  let call: Call
  beforeEach(async () => {
    receiver = await startReceiver(() => ({ status: 200, body: 'ok' }))
    whisperer = await db.whisperer()
    whisperer.eventTypes.register({ type: 'order-created' })
    whisperer.eventTypes.register({ type: 'order-paid' })
    call = apiOf(whisperer)
  })
  afterEach(() => receiver.close())

  const hook = (fields: Record<string, unknown> = {}) => ({
    event_type: 'order-created',
    target_url: receiver.url,
    ...fields,
  })

  test('create answers 201 with every field in snake_case, the secrets shown this once', async () => {
    const created = await call('POST', 'hooks/', {
      json: hook({
        secret_key: 's3cret',
        retry_countdown_config: { choice: 'fixed', kwargs: { seconds: 30 } },
        additional_headers: { 'X-Tenant': 'acme' },
        config: { auth: { auth_type: 'basic', username: 'user', password: 'pa55' }, tenant: 'acme' },
      }),
    })
    expect(created.status).toBe(201)
    expect(created.body).toEqual({
      id: expect.any(Number),
      owner: 'alice',
      event_type: 'order-created',
      event_types: ['order-created'],
      target_url: receiver.url,
      secret_key: 's3cret',
      signed: true,
      signature_scheme: 'hmac-sha256',
      public_key: null,
      secret_rotated_at: null,
      previous_keys: [],
      is_active: true,
      retry_countdown_config: { choice: 'fixed', kwargs: { seconds: 30 } },
      callback: null,
      additional_headers: { 'X-Tenant': 'acme' },
      config: { auth: { auth_type: 'basic', username: 'user', password: 'pa55' }, tenant: 'acme' },
      filters: {},
      fields: null,
      send_traceparent: false,
      rate_limit: null,
      rate_limit_current: null,
      timeout: null,
      ordering_on_failure: 'skip',
      disabled_reason: null,
      failing_since: null,
      created_date: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      modified_date: created.body.created_date,
    })
    // Optional fields take dj-whisperer's defaults, except the secret: one is generated, shown this once.
    const minimal = await call('POST', 'hooks/', { json: hook({ event_type: 'order-paid' }) })
    expect(minimal.status).toBe(201)
    expect(minimal.body).toMatchObject({
      secret_key: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
      signed: true,
      is_active: true,
      retry_countdown_config: { choice: 'exponential', kwargs: { base: 2 } },
      callback: null,
      additional_headers: {},
      config: {},
    })
  })

  test('every response after the create masks the secret key and the auth password or token', async () => {
    const basic = await call('POST', 'hooks/', {
      json: hook({
        secret_key: 's3cret',
        config: { auth: { auth_type: 'basic', username: 'user', password: 'pa55' } },
      }),
    })
    const bearer = await call('POST', 'hooks/', {
      json: hook({ event_type: 'order-paid', config: { auth: { auth_type: 'bearer', token: 'tok-123' } } }),
    })
    expect(bearer.body.config.auth.token).toBe('tok-123')
    const isMasked = (webhook: { secret_key: unknown; config: { auth: Record<string, unknown> } }) => {
      expect(JSON.stringify(webhook)).not.toMatch(/s3cret|pa55|tok-123/)
      if (webhook.secret_key !== null) expect(webhook.secret_key).toBe(masked)
      const { auth } = webhook.config
      expect(auth.password ?? auth.token).toBe(masked)
    }

    const list = await call('GET', 'hooks/')
    expect(list.body.results).toHaveLength(2)
    for (const webhook of list.body.results) isMasked(webhook)
    expect(list.body.results[0]).toMatchObject({ secret_key: masked, config: { auth: { username: 'user' } } })
    isMasked((await call('GET', `hooks/${basic.body.id}/`)).body)
    isMasked((await call('GET', `hooks/${bearer.body.id}/`)).body)
    const patched = await call('PATCH', `hooks/${basic.body.id}/`, { json: { is_active: false } })
    expect(patched.status).toBe(200)
    isMasked(patched.body)
    const put = await call('PUT', `hooks/${bearer.body.id}/`, { json: { ...bearer.body, is_active: false } })
    expect(put.status).toBe(200)
    isMasked(put.body)
    // A secret changed by an update is masked in its response too.
    const changed = await call('PATCH', `hooks/${basic.body.id}/`, { json: { secret_key: 'n3w' } })
    expect(changed.body.secret_key).toBe(masked)
  })

  test('additional headers carrying credentials are masked after the create, and kept when sent back', async () => {
    const created = await call('POST', 'hooks/', {
      json: hook({
        additional_headers: { 'X-Api-Key': 'k-123', Authorization: 'Bearer b-456', 'X-Tenant': 'acme' },
      }),
    })
    expect(created.body.additional_headers).toEqual({
      'X-Api-Key': 'k-123',
      Authorization: 'Bearer b-456',
      'X-Tenant': 'acme',
    })
    const read = (await call('GET', `hooks/${created.body.id}/`)).body
    expect(read.additional_headers).toEqual({
      'X-Api-Key': masked,
      Authorization: `Bearer ${masked}`,
      'X-Tenant': 'acme',
    })
    expect((await call('PUT', `hooks/${created.body.id}/`, { json: read })).status).toBe(200)
    await whisperer.deliverEvent({ id: 1 }, 'order-created')
    await whisperer.processDue()
    const [request] = await receiver.waitFor(1)
    expect(request!.headers['x-api-key']).toBe('k-123')
    expect(request!.headers.authorization).toBe('Bearer b-456')
  })

  test('a masked secret sent back in PUT or PATCH keeps the stored one, as the receiver sees', async () => {
    const created = await call('POST', 'hooks/', {
      json: hook({
        secret_key: 'original-secret',
        config: { auth: { auth_type: 'basic', username: 'user', password: 'pa55' } },
      }),
    })
    const id = created.body.id
    // A client reads the webhook and sends it back whole, masked values included, with a change.
    const read = (await call('GET', `hooks/${id}/`)).body
    expect(read.secret_key).toBe(masked)
    const put = await call('PUT', `hooks/${id}/`, {
      json: { ...read, additional_headers: { 'X-Step': 'put' } },
    })
    expect(put.status).toBe(200)
    const patch = await call('PATCH', `hooks/${id}/`, {
      json: {
        secret_key: masked,
        config: { auth: { auth_type: 'basic', username: 'user', password: masked } },
        additional_headers: { 'X-Step': 'patch' },
      },
    })
    expect(patch.status).toBe(200)

    await whisperer.deliverEvent({ id: 1 }, 'order-created')
    expect(await whisperer.processDue()).toBe(1)
    const [request] = await receiver.waitFor(1)
    expect(request!.headers['x-step']).toBe('patch')
    expect(request!.headers['x-whisperer-signature']).toBe(signature('original-secret', request!.body))
    expect(request!.headers.authorization).toBe(`Basic ${Buffer.from('user:pa55').toString('base64')}`)

    // A new secret replaces it.
    await call('PATCH', `hooks/${id}/`, { json: { secret_key: 'rotated' } })
    await whisperer.deliverEvent({ id: 2 }, 'order-created')
    await whisperer.processDue()
    const [, second] = await receiver.waitFor(2)
    expect(second!.headers['x-whisperer-signature']).toBe(signature('rotated', second!.body))
  })

  test('list filters by event_type and target_url (case-insensitive) and is_active', async () => {
    const a = (await call('POST', 'hooks/', { json: hook() })).body
    const b = (await call('POST', 'hooks/', { json: hook({ event_type: 'order-paid', is_active: false }) }))
      .body
    const c = (
      await call('POST', 'hooks/', {
        json: hook({ target_url: 'https://example.com/Other', is_active: true }),
      })
    ).body
    const ids = async (query: string) =>
      (await call('GET', `hooks/${query}`)).body.results.map((w: { id: number }) => w.id)
    expect(await ids('')).toEqual([a.id, b.id, c.id])
    expect(await ids('?event_type=ORDER-CREATED')).toEqual([a.id, c.id])
    expect(await ids('?target_url=HTTPS://EXAMPLE.COM/other')).toEqual([c.id])
    expect(await ids('?is_active=false')).toEqual([b.id])
    expect(await ids('?is_active=True&event_type=order-created')).toEqual([a.id, c.id])
    const page = await call('GET', 'hooks/?limit=2')
    expect(page.body.results).toHaveLength(2)
    const next = new URL(page.body.next)
    expect((await call('GET', `hooks/${next.search}`)).body).toEqual({
      results: [expect.objectContaining({ id: c.id })],
      next: null,
    })
  })

  test('PUT replaces every field, PATCH only those given; both answer 200', async () => {
    const created = (
      await call('POST', 'hooks/', {
        json: hook({ secret_key: 'k', additional_headers: { 'X-A': '1' }, config: { tenant: 'acme' } }),
      })
    ).body
    const patched = await call('PATCH', `hooks/${created.id}/`, { json: { config: { tenant: 'globex' } } })
    expect(patched.status).toBe(200)
    expect(patched.body).toMatchObject({
      secret_key: masked,
      additional_headers: { 'X-A': '1' },
      config: { tenant: 'globex' },
    })
    // PUT without a field returns it to its default; the secret stays unless given.
    const put = await call('PUT', `hooks/${created.id}/`, {
      json: { event_type: 'order-paid', target_url: 'https://example.com/paid' },
    })
    expect(put.status).toBe(200)
    expect(put.body).toMatchObject({
      id: created.id,
      event_type: 'order-paid',
      target_url: 'https://example.com/paid',
      secret_key: masked,
      signed: true,
      additional_headers: {},
      config: {},
    })
    // PUT needs the required fields, PATCH does not.
    const incomplete = await call('PUT', `hooks/${created.id}/`, { json: { is_active: false } })
    expectError(incomplete, 400, 'validation_error')
    expect(incomplete.body.errors).toEqual({
      event_type: ['This field is required.'],
      target_url: ['This field is required.'],
    })
    expect((await call('GET', `hooks/${created.id}/`)).body.is_active).toBe(true)
  })

  test('send_traceparent is off by default, set on create, changed by PATCH and reset by PUT', async () => {
    const created = await call('POST', 'hooks/', { json: hook({ send_traceparent: true }) })
    expect(created.body.send_traceparent).toBe(true)
    const id = created.body.id
    expect((await call('GET', `hooks/${id}/`)).body.send_traceparent).toBe(true)
    // A PATCH of another field keeps it.
    await call('PATCH', `hooks/${id}/`, { json: { is_active: true } })
    expect((await call('GET', `hooks/${id}/`)).body.send_traceparent).toBe(true)
    const patched = await call('PATCH', `hooks/${id}/`, { json: { send_traceparent: false } })
    expect(patched.body.send_traceparent).toBe(false)
    await call('PATCH', `hooks/${id}/`, { json: { send_traceparent: true } })
    const put = await call('PUT', `hooks/${id}/`, { json: hook() })
    expect(put.body.send_traceparent).toBe(false)
    const invalid = await call('PATCH', `hooks/${id}/`, { json: { send_traceparent: 'yes' } })
    expectError(invalid, 400, 'validation_error')
    expect(Object.keys(invalid.body.errors)).toEqual(['send_traceparent'])
  })

  test('rate_limit and timeout: set, read back with the rate in force, changed by PATCH, reset by PUT', async () => {
    const created = await call('POST', 'hooks/', { json: hook({ rate_limit: 50, timeout: 5 }) })
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({ rate_limit: 50, rate_limit_current: 50, timeout: 5 })
    const id = created.body.id
    const auto = await call('PATCH', `hooks/${id}/`, { json: { rate_limit: 'auto' } })
    expect(auto.body).toMatchObject({ rate_limit: 'auto', rate_limit_current: 10, timeout: 5 })
    expect((await call('GET', `hooks/${id}/`)).body).toMatchObject({
      rate_limit: 'auto',
      rate_limit_current: 10,
    })
    const put = await call('PUT', `hooks/${id}/`, { json: hook() })
    expect(put.body).toMatchObject({ rate_limit: null, rate_limit_current: null, timeout: null })
    for (const [body, field] of [
      [{ rate_limit: 0 }, 'rate_limit'],
      [{ rate_limit: 'fast' }, 'rate_limit'],
      [{ timeout: 0 }, 'timeout'],
      [{ timeout: 61 }, 'timeout'],
      [{ timeout: 'long' }, 'timeout'],
    ] as const) {
      const refused = await call('PATCH', `hooks/${id}/`, { json: body })
      expectError(refused, 400, 'validation_error')
      expect(Object.keys(refused.body.errors)).toEqual([field])
    }
    const message = (await call('POST', 'hooks/', { json: hook({ timeout: 90 }) })).body.errors.timeout
    expect(message).toEqual(['Must be at most 60 seconds.'])
  })

  test('delete answers 204 with no body; the webhook is gone and its URL may subscribe again', async () => {
    const created = (await call('POST', 'hooks/', { json: hook() })).body
    const deleted = await call('DELETE', `hooks/${created.id}/`)
    expect(deleted.status).toBe(204)
    expect(deleted.text).toBe('')
    expectError(await call('GET', `hooks/${created.id}/`), 404, 'webhook_not_found')
    expectError(await call('DELETE', `hooks/${created.id}/`), 404, 'webhook_not_found')
    expect((await call('GET', 'hooks/')).body.results).toEqual([])
    expect((await call('POST', 'hooks/', { json: hook() })).status).toBe(201)
  })

  test('a validation error is 400 and names every failing field by its snake_case path', async () => {
    const response = await call('POST', 'hooks/', {
      json: {
        event_type: 'no-such-type',
        target_url: 'ftp://example.com/',
        secret_key: 7,
        is_active: 'yes',
        retry_countdown_config: { choice: 'linear', kwargs: { base: -1 } },
        callback: 'os.system',
        additional_headers: { 'X-Whisperer-Signature': 'forged' },
        config: { auth: { auth_type: 'basic', username: 'u' } },
      },
    })
    expectError(response, 400, 'validation_error')
    expect(Object.keys(response.body.errors).sort()).toEqual([
      'additional_headers.X-Whisperer-Signature',
      'callback',
      'config.auth.password',
      'event_type',
      'is_active',
      'retry_countdown_config.kwargs.base',
      'secret_key',
      'target_url',
    ])
    for (const messages of Object.values(response.body.errors)) {
      expect(messages).toEqual([expect.any(String)])
    }
    expect(response.body.errors.event_type).toEqual(['"no-such-type" is not a valid choice.'])
    expect(response.body.errors.callback).toEqual(['"os.system" is not a registered callback.'])
    expect(response.body.message).toMatch(/target_url/)

    const missing = await call('POST', 'hooks/', { json: {} })
    expect(missing.body.errors).toEqual({
      event_type: ['This field is required.'],
      target_url: ['This field is required.'],
    })
    const choice = await call('POST', 'hooks/', {
      json: hook({ retry_countdown_config: { choice: 'fibonacci', kwargs: {} } }),
    })
    expect(choice.body.errors).toEqual({
      'retry_countdown_config.choice': ['"fibonacci" is not a valid choice.'],
    })
    for (const target_url of [
      'https://user:pw@example.com/',
      'http://10.0.0.1/hook',
      'http://169.254.169.254/latest',
      'not a url',
    ]) {
      const refused = await call('POST', 'hooks/', { json: hook({ target_url }) })
      expectError(refused, 400, 'validation_error')
      expect(Object.keys(refused.body.errors)).toEqual(['target_url'])
    }
    const notObject = await call('POST', 'hooks/', { json: ['order-created'] })
    expectError(notObject, 400, 'validation_error')
    expect(notObject.body.errors).toEqual({ non_field_errors: [expect.any(String)] })
    const patch = await call('PATCH', 'hooks/1/', { json: { target_url: 'ftp://x', is_active: 1 } })
    expectError(patch, 400, 'validation_error')
    expect(Object.keys(patch.body.errors).sort()).toEqual(['is_active', 'target_url'])
    expect((await call('GET', 'hooks/')).body.results).toEqual([])
  })

  test('filters and fields travel over the API, are validated per field, and shape what is delivered', async () => {
    whisperer.eventTypes.register({ type: 'user-created', fields: ['name', 'email', 'plan'] })
    const refused = await call('POST', 'hooks/', {
      json: hook({
        event_type: 'user-created',
        filters: { name: { startswith: 1 }, password: 'x', email: { like: '(a|a)*$' } },
        fields: ['plan', 'plan'],
      }),
    })
    expectError(refused, 400, 'validation_error')
    expect(Object.keys(refused.body.errors).sort()).toEqual([
      'fields',
      'filters.email.like',
      'filters.name.startswith',
      'filters.password',
    ])
    expect((await call('GET', 'hooks/')).body.results).toEqual([])

    const created = await call('POST', 'hooks/', {
      json: hook({ event_type: 'user-created', filters: { plan: 'pro' }, fields: ['name'] }),
    })
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({ filters: { plan: 'pro' }, fields: ['name'] })
    const patched = await call('PATCH', `hooks/${created.body.id}/`, {
      json: { filters: { email: { endswith: '@acme.com' } }, fields: null },
    })
    expect(patched.body).toMatchObject({ filters: { email: { endswith: '@acme.com' } }, fields: null })

    for (const email of ['ann@acme.com', 'bob@example.com']) {
      const published = await call('POST', 'events/', {
        as: 'admin',
        json: {
          event_type: 'user-created',
          data: { name: email.split('@')[0], email, plan: 'pro', secret: 's' },
        },
      })
      expect(published.status).toBe(202)
    }
    await whisperer.processDue()
    expect(receiver.requests.map((request) => JSON.parse(request.body).data)).toEqual([
      { name: 'ann', email: 'ann@acme.com', plan: 'pro' },
    ])
    const types = await call('GET', 'event_types/')
    expect(types.body.find((type: { type: string }) => type.type === 'user-created').fields).toEqual([
      'name',
      'email',
      'plan',
    ])
  })

  test('a duplicate (owner, target_url, event_type) is 409 webhook_already_registered on create and update', async () => {
    const first = (await call('POST', 'hooks/', { json: hook() })).body
    const duplicate = await call('POST', 'hooks/', { json: hook({ secret_key: 'other' }) })
    expectError(duplicate, 409, 'webhook_already_registered')

    const second = (await call('POST', 'hooks/', { json: hook({ event_type: 'order-paid' }) })).body
    const patch = await call('PATCH', `hooks/${second.id}/`, { json: { event_type: 'order-created' } })
    expectError(patch, 409, 'webhook_already_registered')
    const put = await call('PUT', `hooks/${second.id}/`, { json: hook() })
    expectError(put, 409, 'webhook_already_registered')
    expect((await call('GET', `hooks/${second.id}/`)).body.event_type).toBe('order-paid')
    // Updating a webhook to its own values is no duplicate.
    expect((await call('PUT', `hooks/${first.id}/`, { json: hook() })).status).toBe(200)
    // Another owner may subscribe the same URL to the same type.
    expect((await call('POST', 'hooks/', { as: 'bob', json: hook() })).status).toBe(201)
  })

  test('event_types: types and patterns, one URL many types, overlaps refused naming the webhook', async () => {
    whisperer.eventTypes.register({ type: 'invoice.paid' })
    whisperer.eventTypes.register({ type: 'invoice.voided' })
    const many = await call('POST', 'hooks/', {
      json: { target_url: receiver.url, event_types: ['invoice.*', 'order-paid'] },
    })
    expect(many.status).toBe(201)
    expect(many.body).toMatchObject({ event_type: 'invoice.*', event_types: ['invoice.*', 'order-paid'] })
    // The same URL for types that do not overlap is another webhook.
    const other = await call('POST', 'hooks/', { json: hook() })
    expect(other.status).toBe(201)
    // Overlapping types are refused, naming the clashing webhook and the entry.
    const clash = await call('POST', 'hooks/', {
      json: { target_url: receiver.url, event_types: ['order-refunded-never', 'invoice.paid'] },
    })
    expectError(clash, 400, 'validation_error')
    expect(clash.body.errors).toEqual({ 'event_types.0': ['"order-refunded-never" is not a valid choice.'] })
    const overlap = await call('POST', 'hooks/', {
      json: { target_url: receiver.url, event_types: ['invoice.paid'] },
    })
    expectError(overlap, 409, 'webhook_already_registered')
    expect(overlap.body.message).toContain(`webhook ${many.body.id}`)
    expect(overlap.body.errors).toEqual({
      'event_types.0': [`Overlaps webhook ${many.body.id}'s "invoice.*".`],
    })
    const all = await call('POST', 'hooks/', { json: { target_url: receiver.url, event_types: ['*'] } })
    expectError(all, 409, 'webhook_already_registered')
    // An update into an overlap is refused; out of one, allowed.
    const patch = await call('PATCH', `hooks/${other.body.id}/`, {
      json: { event_types: ['order-created', '*'] },
    })
    expectError(patch, 409, 'webhook_already_registered')
    expect(
      (await call('PATCH', `hooks/${many.body.id}/`, { json: { event_type: 'invoice.voided' } })).body,
    ).toMatchObject({
      event_types: ['invoice.voided'],
    })
    expect(
      (await call('POST', 'hooks/', { json: { target_url: receiver.url, event_types: ['invoice.paid'] } }))
        .status,
    ).toBe(201)
    // Entries are checked one by one, and named.
    const bad = await call('POST', 'hooks/', {
      json: {
        target_url: `${receiver.url}/x`,
        event_types: ['refund.*', 'order*', 'order-paid', 'order-paid'],
      },
    })
    expectError(bad, 400, 'validation_error')
    expect(bad.body.errors).toEqual({ event_types: ['Event types must not repeat.'] })
    const unknown = await call('POST', 'hooks/', {
      json: { target_url: `${receiver.url}/x`, event_types: ['refund.*', 'order*'] },
    })
    expect(unknown.body.errors).toEqual({
      'event_types.0': ['"refund.*" matches no registered event type.'],
      'event_types.1': ['"order*" is not a valid choice.'],
    })
    const disagree = await call('POST', 'hooks/', {
      json: { target_url: `${receiver.url}/x`, event_type: 'order-paid', event_types: ['invoice.*'] },
    })
    expect(disagree.body.errors).toEqual({
      event_type: ['Must be the first entry of event_types, or be left out.'],
    })
  })

  test('list filters by event_type find the webhooks whose patterns match it', async () => {
    whisperer.eventTypes.register({ type: 'invoice.paid' })
    const exact = (await call('POST', 'hooks/', { json: hook({ event_type: 'invoice.paid' }) })).body
    const prefix = (
      await call('POST', 'hooks/', { json: { target_url: `${receiver.url}/p`, event_types: ['invoice.*'] } })
    ).body
    const all = (
      await call('POST', 'hooks/', { json: { target_url: `${receiver.url}/a`, event_types: ['*'] } })
    ).body
    const ops = (
      await call('POST', 'hooks/', {
        json: { target_url: `${receiver.url}/o`, event_types: ['whisperer.*'] },
      })
    ).body
    const ids = async (query: string) =>
      (await call('GET', `hooks/${query}`)).body.results.map((w: { id: number }) => w.id)
    expect(await ids('?event_type=invoice.paid')).toEqual([exact.id, prefix.id, all.id])
    expect(await ids('?event_type=order-paid')).toEqual([all.id])
    expect(await ids('?event_type=whisperer.webhook.failing')).toEqual([ops.id])
  })

  test('registry lists the event types a webhook may subscribe to', async () => {
    const registry = await call('GET', 'hooks/registry/')
    expect(registry.status).toBe(200)
    expect(registry.body).toEqual(['order-created', 'order-paid', ...builtIn])
  })

  test('an id that is not a number, or no such webhook, is 404', async () => {
    expectError(await call('GET', 'hooks/abc/'), 404, 'not_found')
    expectError(await call('GET', 'hooks/0/'), 404, 'not_found')
    expectError(await call('GET', 'hooks/99999999999999999999/'), 404, 'not_found')
    expectError(await call('GET', 'hooks/42/'), 404, 'webhook_not_found')
    expectError(await call('PATCH', 'hooks/42/', { json: {} }), 404, 'webhook_not_found')
    expectError(await call('POST', 'hooks/42/ping/'), 404, 'webhook_not_found')
  })
})

forEachDatabase((db) => {
  test('rotate-secret shows the new secret once and the old key’s expiry; bad input names its field', async () => {
    const whisperer = await db.whisperer()
    whisperer.eventTypes.register({ type: 'order-created' })
    const call = apiOf(whisperer)
    const created = (
      await call('POST', 'hooks/', {
        json: { event_type: 'order-created', target_url: 'https://example.com/h' },
      })
    ).body
    const rotated = await call('POST', `hooks/${created.id}/rotate-secret/`, {
      json: { grace_seconds: 3600 },
    })
    expect(rotated.status).toBe(200)
    expect(rotated.body.secret_key).toMatch(/^whsec_/)
    expect(rotated.body.secret_key).not.toBe(created.secret_key)
    expect(rotated.body.previous_keys).toEqual([
      {
        signature_scheme: 'hmac-sha256',
        public_key: null,
        expires_at: new Date(Date.parse(rotated.body.secret_rotated_at) + 3_600_000).toISOString(),
      },
    ])
    const read = (await call('GET', `hooks/${created.id}/`)).body
    expect(read).toMatchObject({
      secret_key: masked,
      signed: true,
      previous_keys: rotated.body.previous_keys,
    })
    // Without a body, a day's grace and a generated secret.
    expect((await call('POST', `hooks/${created.id}/rotate-secret/`)).body.previous_keys).toHaveLength(2)
    const ed = await call('POST', `hooks/${created.id}/rotate-secret/`, {
      json: { signature_scheme: 'ed25519', grace_seconds: 0 },
    })
    expect(ed.body).toMatchObject({ secret_key: masked, signature_scheme: 'ed25519', previous_keys: [] })
    expect(ed.body.public_key).toMatch(/^whpk_/)

    for (const [json, field] of [
      [{ grace_seconds: 604_801 }, 'grace_seconds'],
      [{ grace_seconds: -1 }, 'grace_seconds'],
      [{ grace_seconds: 1.5 }, 'grace_seconds'],
      [{ signature_scheme: 'rsa' }, 'signature_scheme'],
      [{ secret_key: 'whsec_c2hvcnQ=', signature_scheme: 'hmac-sha256' }, 'secret_key'],
      [{ secret_key: 'whsec_not base64!', signature_scheme: 'hmac-sha256' }, 'secret_key'],
    ] as const) {
      const response = await call('POST', `hooks/${created.id}/rotate-secret/`, { json })
      expectError(response, 400, 'validation_error')
      expect(Object.keys(response.body.errors), JSON.stringify(json)).toEqual([field])
    }
    expectError(
      await call('POST', `hooks/${created.id}/rotate-secret/`, { as: 'bob' }),
      404,
      'webhook_not_found',
    )
    for (const [json, field] of [
      [{ secret_key: 'whsec_c2hvcnQ=' }, 'secret_key'],
      [{ signature_scheme: 'ed25519', secret_key: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }, 'secret_key'],
      [{ signature_scheme: 'dsa' }, 'signature_scheme'],
    ] as const) {
      const response = await call('POST', 'hooks/', {
        json: { event_type: 'order-created', target_url: 'https://example.com/other', ...json },
      })
      expectError(response, 400, 'validation_error')
      expect(Object.keys(response.body.errors), JSON.stringify(json)).toEqual([field])
    }
    const unsigned = await call('POST', 'hooks/', {
      json: { event_type: 'order-created', target_url: 'https://example.com/unsigned', secret_key: null },
    })
    expect(unsigned.body).toMatchObject({ secret_key: null, signed: false, signature_scheme: null })
  })
})
