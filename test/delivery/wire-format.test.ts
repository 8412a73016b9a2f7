import { createHmac } from 'node:crypto'
import { Webhook as StandardWebhook } from 'standardwebhooks'
import { afterEach, beforeEach, expect, test } from 'vitest'
import { version } from '../../src/whisperer.ts'
import { forEachDatabase } from '../support/databases.ts'
import { flatHeaders, type Receiver, startReceiver } from '../support/receiver.ts'

forEachDatabase((db) => {
  let receiver: Receiver
  beforeEach(async () => {
    receiver = await startReceiver()
  })
  afterEach(() => receiver.close())

  test('the request carries the exact body, both signatures and the Whisperer headers', async () => {
    const whisperer = await db.whisperer()
    whisperer.eventTypes.register({
      type: 'package-created',
      serialize: (p: { id: number; name: string }) => p,
    })
    // A plain secret, with characters a base64 key would not have: its UTF-8 bytes key both signatures.
    const secret = 'not-a-whsec-key: s3cr3t!'
    await whisperer.webhooks.create('acme', {
      eventType: 'package-created',
      targetUrl: receiver.url,
      secretKey: secret,
      additionalHeaders: { 'X-Tenant': 'acme' },
    })
    const before = Math.floor(Date.now() / 1000)
    const { deliveries } = await whisperer.deliverEvent(
      { id: 61, name: 'Ünïcode "quoted"' },
      'package-created',
    )
    await whisperer.processDue()
    const [request] = await receiver.waitFor(1)
    const uuid = deliveries[0]!.uuid.replaceAll('-', '')

    expect(request!.method).toBe('POST')
    expect(request!.path).toBe('/hook')
    expect(request!.body).toBe(
      `{"event":{"type":"package-created","uuid":"${uuid}"},"data":{"id":61,"name":"Ünïcode \\"quoted\\""}}`,
    )
    const headers = request!.headers
    expect(headers['content-type']).toBe('application/json')
    expect(headers['x-whisperer-event']).toBe('package-created')
    expect(headers['user-agent']).toBe(`Whisperer/${version}`)
    expect(headers['x-tenant']).toBe('acme')
    expect(headers['webhook-id']).toBe(uuid)
    expect(Number(headers['webhook-timestamp'])).toBeGreaterThanOrEqual(before)
    const expected = createHmac('sha256', Buffer.from(secret, 'utf8')).update(request!.body).digest('hex')
    expect(headers['x-whisperer-signature']).toBe(`sha256=${expected}`)
    // The official Standard Webhooks library verifies it with the base64 of the secret's bytes.
    const verifier = new StandardWebhook(Buffer.from(secret, 'utf8').toString('base64'))
    expect(verifier.verify(request!.body, flatHeaders(headers))).toEqual(JSON.parse(request!.body))
    expect(() =>
      new StandardWebhook(Buffer.from('other').toString('base64')).verify(
        request!.body,
        flatHeaders(headers),
      ),
    ).toThrow()
  })

  test('without a secret no signature is sent, but the id and timestamp are', async () => {
    const whisperer = await db.whisperer({ payloadKey: 'payload' })
    whisperer.eventTypes.register({ type: 'order-created' })
    await whisperer.webhooks.create('acme', {
      eventType: 'order-created',
      targetUrl: receiver.url,
      secretKey: null,
    })
    await whisperer.deliverEvent({ n: 1 }, 'order-created')
    await whisperer.processDue()
    const [request] = await receiver.waitFor(1)
    expect(request!.headers['x-whisperer-signature']).toBeUndefined()
    expect(request!.headers['webhook-signature']).toBeUndefined()
    expect(request!.headers['webhook-id']).toMatch(/^[0-9a-f]{32}$/)
    expect(request!.headers['webhook-timestamp']).toMatch(/^\d+$/)
    // The payloadKey setting names the data key as late dj-whisperer versions do.
    expect(JSON.parse(request!.body)).toEqual({
      event: { type: 'order-created', uuid: request!.headers['webhook-id'] },
      payload: { n: 1 },
    })
  })

  test('basic and bearer auth set Authorization', async () => {
    const whisperer = await db.whisperer()
    whisperer.eventTypes.register({ type: 'order-created' })
    await whisperer.webhooks.create('acme', {
      eventType: 'order-created',
      targetUrl: `${receiver.url}?basic`,
      config: { auth: { auth_type: 'basic', username: 'username', password: 'pässword' } },
    })
    await whisperer.webhooks.create('acme', {
      eventType: 'order-created',
      targetUrl: `${receiver.url}?bearer`,
      config: { auth: { auth_type: 'bearer', token: 'tok-123' } },
    })
    await whisperer.deliverEvent({}, 'order-created')
    await whisperer.processDue()
    const requests = await receiver.waitFor(2)
    const byPath = Object.fromEntries(requests.map((r) => [r.path, r.headers.authorization]))
    expect(byPath['/hook?basic']).toBe(`Basic ${Buffer.from('username:pässword').toString('base64')}`)
    expect(byPath['/hook?bearer']).toBe('Bearer tok-123')
    const [delivery] = await whisperer.deliveries.list('acme', { limit: 1 })
    const [attempt] = await whisperer.deliveries.attempts('acme', delivery!.id)
    expect(attempt!.requestHeaders.authorization).toMatch(/^(Basic|Bearer) \*+$/)
  })

  test('token auth logs in first and sends the token it got', async () => {
    receiver.respond((request) =>
      request.path === '/login'
        ? { status: 200, headers: { 'content-type': 'application/json' }, body: '{"access":"t0k"}' }
        : { status: 200 },
    )
    const whisperer = await db.whisperer()
    whisperer.eventTypes.register({ type: 'order-created' })
    await whisperer.webhooks.create('acme', {
      eventType: 'order-created',
      targetUrl: receiver.url,
      config: {
        auth: {
          auth_type: 'token',
          url: receiver.url.replace('/hook', '/login'),
          username: 'svc',
          password: 'pw',
          username_field: 'email',
          token_key: 'access',
          header_format: 'JWT {}',
        },
      },
    })
    await whisperer.deliverEvent({ n: 1 }, 'order-created')
    await whisperer.deliverEvent({ n: 2 }, 'order-created')
    await whisperer.processDue()
    const requests = await receiver.waitFor(3)
    const logins = requests.filter((r) => r.path === '/login')
    expect(logins).toHaveLength(1)
    expect(logins[0]!.headers['content-type']).toBe('application/x-www-form-urlencoded')
    expect(new URLSearchParams(logins[0]!.body).get('email')).toBe('svc')
    expect(new URLSearchParams(logins[0]!.body).get('password')).toBe('pw')
    const hooks = requests.filter((r) => r.path === '/hook')
    expect(hooks.map((r) => r.headers.authorization)).toEqual(['JWT t0k', 'JWT t0k'])
  })

  test('every attempt sends the same body, with a fresh timestamp and signature', async () => {
    receiver.respond((_request, index) => ({ status: index === 0 ? 500 : 200 }))
    const whisperer = await db.whisperer()
    whisperer.eventTypes.register({ type: 'order-created' })
    await whisperer.webhooks.create('acme', {
      eventType: 'order-created',
      targetUrl: receiver.url,
      secretKey: 's',
      retryCountdownConfig: { choice: 'fixed', kwargs: { seconds: 1 } },
    })
    await whisperer.deliverEvent({ amount: 1.1, at: new Date('2026-01-01T00:00:00Z') }, 'order-created')
    await whisperer.processDue()
    await new Promise((resolve) => setTimeout(resolve, 1100))
    await whisperer.processDue()
    const [first, second] = await receiver.waitFor(2)
    expect(second!.body).toBe(first!.body)
    expect(JSON.parse(first!.body).data).toEqual({ amount: 1.1, at: '2026-01-01T00:00:00.000Z' })
    expect(second!.headers['webhook-id']).toBe(first!.headers['webhook-id'])
    expect(Number(second!.headers['webhook-timestamp'])).toBeGreaterThan(
      Number(first!.headers['webhook-timestamp']),
    )
  })
})
