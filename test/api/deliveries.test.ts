import { afterEach, beforeEach, expect, test } from 'vitest'
import type { WhispererOptions } from '../../src/config.ts'
import type { Whisperer } from '../../src/whisperer.ts'
import { ManualClock } from '../support/clock.ts'
import { forEachDatabase } from '../support/databases.ts'
import { type Receiver, startReceiver } from '../support/receiver.ts'
import { apiOf, type Call, expectError, signature } from './support.ts'

/** The webhooks, deliveries and attempts through the REST API, delivered to a real receiver. */
forEachDatabase((db) => {
  let receiver: Receiver
  let clock: ManualClock
  let whisperer: Whisperer
  let call: Call
  beforeEach(async () => {
    receiver = await startReceiver(() => ({ status: 200, body: 'thanks' }))
    clock = new ManualClock()
  })
  afterEach(() => receiver.close())

  async function setup(options: WhispererOptions = {}): Promise<void> {
    whisperer = await db.whisperer({ clock: clock.now, ...options })
    whisperer.eventTypes.register({ type: 'order-created' })
    whisperer.eventTypes.register({ type: 'order-paid' })
    call = apiOf(whisperer)
  }

  async function subscribe(fields: Record<string, unknown> = {}): Promise<number> {
    const json = { event_type: 'order-created', target_url: receiver.url, ...fields }
    const response = await call('POST', 'hooks/', { json })
    expect(response.status).toBe(201)
    return response.body.id
  }

  /** Publishes through `POST events/` as a publisher; returns the delivery uuids. */
  async function publish(event_type: string, data: unknown): Promise<string[]> {
    const response = await call('POST', 'events/', { as: 'publisher', json: { event_type, data } })
    expect(response.status).toBe(202)
    return response.body.deliveries.map((d: { uuid: string }) => d.uuid)
  }

  test('a published event is delivered; hook_events, attempts and event_queues show it', async () => {
    await setup()
    const hook = await subscribe({
      secret_key: 'k3y',
      config: { tenant: 'acme', auth: { auth_type: 'basic', username: 'user', password: 'pa55' } },
    })
    const published = await call('POST', 'events/', {
      as: 'publisher',
      json: { event_type: 'order-created', data: { id: 61, order_number: '248398923123' } },
    })
    expect(published.status).toBe(202)
    expect(published.body).toEqual({
      event_uuid: expect.any(String),
      deliveries: [{ uuid: expect.any(String), webhook: hook }],
      idempotent_replay: false,
    })
    const uuid = published.body.deliveries[0].uuid as string

    const queued = await call('GET', 'event_queues/')
    expect(queued.body.results).toEqual([
      expect.objectContaining({ uuid, hook_id: hook, event_type: 'order-created' }),
    ])
    const waiting = (await call('GET', 'hook_events/')).body.results[0]
    expect(waiting).toMatchObject({ uuid, status: 'pending', delivered: false, request_datetimes: [] })

    expect(await whisperer.processDue()).toBe(1)
    const [request] = await receiver.waitFor(1)
    expect(request!.headers['x-whisperer-signature']).toBe(signature('k3y', request!.body))

    const list = await call('GET', 'hook_events/')
    expect(list.status).toBe(200)
    expect(list.body.next).toBeNull()
    const event = list.body.results[0]
    expect(event).toMatchObject({
      uuid,
      event_uuid: published.body.event_uuid,
      event_type: 'order-created',
      status: 'delivered',
      delivered: true,
      retry_count: 1,
      response_http_status: 200,
      response_content: 'thanks',
      request_payload: JSON.parse(request!.body),
      request_datetimes: [expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/)],
      response_time: expect.stringMatching(/^\d\d:\d\d:\d\d\.\d{6}$/),
      webhook: {
        id: hook,
        secret_key: '********',
        config: { tenant: 'acme', auth: { auth_type: 'basic', username: 'user', password: '********' } },
      },
    })
    expect(list.text).not.toMatch(/k3y|pa55/)
    expect(event.request_payload).toEqual({
      event: { type: 'order-created', uuid: uuid.replaceAll('-', '') },
      data: { id: 61, order_number: '248398923123' },
    })
    expect((await call('GET', `hook_events/${event.id}/`)).body).toEqual(event)
    expect((await call('GET', `hook_events/${uuid}/`)).body).toEqual(event)
    expect((await call('GET', `hook_events/${uuid.replaceAll('-', '')}`)).body).toEqual(event)
    expect((await call('GET', 'event_queues/')).body.results).toEqual([])

    const attempts = await call('GET', `hook_events/${event.id}/attempts/`)
    expect(attempts.status).toBe(200)
    expect(attempts.body).toEqual({
      results: [
        expect.objectContaining({
          attempt: 1,
          response_http_status: 200,
          response_content: 'thanks',
          error_kind: null,
          response_truncated: false,
          created_date: event.request_datetimes[0],
        }),
      ],
      next: null,
    })
    const sent = attempts.body.results[0].request_headers
    expect(sent['x-whisperer-signature']).toBe(request!.headers['x-whisperer-signature'])
    // The credentials sent are not shown.
    expect(request!.headers.authorization).toMatch(/^Basic /)
    expect(sent.authorization).toBe('Basic ********')
    expect(attempts.text).not.toMatch(/k3y|pa55|dXNlcjpwYTU1/)

    // A delivered delivery is not sent again, forced or not.
    expectError(await call('POST', `hook_events/${event.id}/retry/`), 409, 'event_already_delivered')
    expectError(
      await call('POST', `hook_events/${uuid}/retry/`, { json: { force: true } }),
      409,
      'event_already_delivered',
    )
    expect(receiver.requests).toHaveLength(1)
  })

  test('retry: a still-retrying delivery needs force; a failing one answers 406, a delivered one 200', async () => {
    receiver.respond(() => ({ status: 500, body: 'broken' }))
    await setup({ maxAttempts: 2 })
    await subscribe({ retry_countdown_config: { choice: 'fixed', kwargs: { seconds: 60 } } })
    const [uuid] = await publish('order-created', { id: 1 })
    await whisperer.processDue()
    const retrying = (await call('GET', `hook_events/${uuid}/`)).body
    expect(retrying).toMatchObject({ status: 'pending', retry_count: 1, response_http_status: 500 })

    expectError(await call('POST', `hook_events/${uuid}/retry/`), 409, 'event_still_in_progress')
    expectError(
      await call('POST', `hook_events/${uuid}/retry/`, { json: { force: false } }),
      409,
      'event_still_in_progress',
    )
    expect(receiver.requests).toHaveLength(1)

    // Forced (and without the trailing slash): one attempt now, which fails and so ends the schedule.
    const forced = await call('POST', `hook_events/${retrying.id}/retry`, { json: { force: true } })
    expect(forced.status).toBe(406)
    expect(forced.body).toEqual({
      detail: 'Webhook event delivery failed',
      delivered: false,
      status: 'failed',
      response_status: 500,
      response_content: 'broken',
      response_time: expect.stringMatching(/^\d+\.\d{6}$/),
      error: null,
    })
    expect(receiver.requests).toHaveLength(2)

    // A failed one is retried without force.
    const failing = await call('POST', `hook_events/${uuid}/retry/`)
    expect(failing.status).toBe(406)
    expect(failing.body.detail).toBe('Webhook event delivery failed')

    receiver.respond(() => ({ status: 200, body: 'fixed' }))
    const delivered = await call('POST', `hook_events/${uuid}/retry/`)
    expect(delivered.status).toBe(200)
    expect(delivered.body).toMatchObject({
      detail: 'Webhook event delivered successfully',
      delivered: true,
      status: 'delivered',
      response_status: 200,
      response_content: 'fixed',
    })
    expectError(await call('POST', `hook_events/${uuid}/retry/`), 409, 'event_already_delivered')

    const attempts = (await call('GET', `hook_events/${uuid}/attempts/`)).body.results
    expect(
      attempts.map((a: { attempt: number; response_http_status: number }) => a.response_http_status),
    ).toEqual([500, 500, 500, 200])
    const event = (await call('GET', `hook_events/${uuid}/`)).body
    expect(event).toMatchObject({ status: 'delivered', retry_count: 4, response_content: 'fixed' })
    expect(event.request_datetimes).toHaveLength(4)
    expect(event.request_datetimes).toEqual([...event.request_datetimes].sort().reverse())
    // The same body, byte for byte, on every attempt.
    expect(new Set(receiver.requests.map((r) => r.body)).size).toBe(1)
  })

  /** What the receiver got for each attempt of a delivery, and the attempts' numbers. */
  async function sent(uuid: string) {
    const attempts = (await call('GET', `hook_events/${uuid}/attempts/`)).body.results
    return {
      attempts: attempts.map((a: { attempt: number }) => a.attempt),
      ids: receiver.requests.map((r) => r.headers['webhook-id']),
      bodies: new Set(receiver.requests.map((r) => r.body)).size,
    }
  }

  test('resend sends a delivered, a failed and a cancelled delivery again: same body and webhook-id, next attempt', async () => {
    await setup({ maxAttempts: 1 })
    const hook = await subscribe({ secret_key: 'k3y' })
    const [uuid] = await publish('order-created', { id: 7 })
    await whisperer.processDue()
    const id = uuid!.replaceAll('-', '')

    // Delivered: sent again without force (retry/ still refuses it).
    expectError(await call('POST', `hook_events/${uuid}/retry/`), 409, 'event_already_delivered')
    const again = await call('POST', `hook_events/${uuid}/resend/`)
    expect(again.status).toBe(200)
    expect(again.body).toEqual({
      detail: 'Webhook event delivered successfully',
      delivered: true,
      status: 'delivered',
      response_status: 200,
      response_content: 'thanks',
      response_time: expect.stringMatching(/^\d+\.\d{6}$/),
      error: null,
    })
    expect(await sent(uuid!)).toEqual({ attempts: [1, 2], ids: [id, id], bodies: 1 })
    expect(receiver.requests[1]!.headers['x-whisperer-signature']).toBe(
      signature('k3y', receiver.requests[1]!.body),
    )

    // Failed: a resend that fails answers 406 and is recorded as attempt 3.
    receiver.respond(() => ({ status: 500, body: 'broken' }))
    const failing = await call('POST', `hook_events/${uuid}/resend`)
    expect(failing.status).toBe(406)
    expect(failing.body).toMatchObject({ delivered: false, status: 'failed', response_status: 500 })
    receiver.respond(() => ({ status: 200, body: 'back' }))
    const fixed = await call('POST', `hook_events/${uuid}/resend/`)
    expect(fixed.body).toMatchObject({ delivered: true, status: 'delivered', response_content: 'back' })
    expect(await sent(uuid!)).toEqual({ attempts: [1, 2, 3, 4], ids: [id, id, id, id], bodies: 1 })
    expect((await call('GET', `hook_events/${uuid}/`)).body).toMatchObject({
      status: 'delivered',
      retry_count: 4,
      response_content: 'back',
    })

    // Cancelled: its webhook deactivated while it waited, then active again.
    const [waiting] = await publish('order-created', { id: 8 })
    expect((await call('PATCH', `hooks/${hook}/`, { json: { is_active: false } })).status).toBe(200)
    expect((await call('GET', `hook_events/${waiting}/`)).body.status).toBe('cancelled')
    expect((await call('PATCH', `hooks/${hook}/`, { json: { is_active: true } })).status).toBe(200)
    const cancelled = await call('POST', `hook_events/${waiting}/resend/`)
    expect(cancelled.status).toBe(200)
    const last = receiver.requests.at(-1)!
    expect(last.headers['webhook-id']).toBe(waiting!.replaceAll('-', ''))
    expect(JSON.parse(last.body).data).toEqual({ id: 8 })
    expect((await call('GET', `hook_events/${waiting}/attempts/`)).body.results).toHaveLength(1)
  })

  test('resend of a pending delivery sends it now; async queues it for the worker and answers 202', async () => {
    receiver.respond(() => ({ status: 500, body: 'broken' }))
    await setup({ maxAttempts: 5 })
    await subscribe({ retry_countdown_config: { choice: 'fixed', kwargs: { seconds: 3600 } } })
    const [uuid] = await publish('order-created', { id: 1 })
    await whisperer.processDue()
    expect((await call('GET', `hook_events/${uuid}/`)).body).toMatchObject({
      status: 'pending',
      retry_count: 1,
    })

    // Still in its retry schedule: no force needed, it is sent now.
    receiver.respond(() => ({ status: 200, body: 'thanks' }))
    const now = await call('POST', `hook_events/${uuid}/resend/`)
    expect(now.status).toBe(200)
    expect(now.body).toMatchObject({ delivered: true, status: 'delivered' })
    expect(receiver.requests).toHaveLength(2)

    const queued = await call('POST', `hook_events/${uuid}/resend/`, { json: { async: true } })
    expect(queued.status).toBe(202)
    expect(queued.body).toMatchObject({ uuid, status: 'pending', retry_count: 2 })
    expect(receiver.requests).toHaveLength(2)
    expect(await whisperer.processDue()).toBe(1)
    expect(receiver.requests).toHaveLength(3)

    const byQuery = await call('POST', `hook_events/${uuid}/resend/?async=true`)
    expect(byQuery.status).toBe(202)
    expect(await whisperer.processDue()).toBe(1)
    expect(await sent(uuid!)).toMatchObject({ attempts: [1, 2, 3, 4], bodies: 1 })
    expect((await call('GET', `hook_events/${uuid}/`)).body).toMatchObject({
      status: 'delivered',
      retry_count: 4,
    })
  })

  test('resend is refused while the delivery is being attempted, and for an inactive or deleted webhook', async () => {
    let release = () => {}
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    receiver.respond(async (_request, index) => {
      if (index === 1) await held
      return { status: index === 2 ? 410 : 200 }
    })
    await setup({ maxAttempts: 1 })
    const hook = await subscribe()
    const [uuid] = await publish('order-created', { id: 1 })
    await whisperer.processDue()

    // The second request is held by the receiver: the delivery is being attempted meanwhile.
    const first = call('POST', `hook_events/${uuid}/resend/`)
    await receiver.waitFor(2)
    expectError(await call('POST', `hook_events/${uuid}/resend/`), 409, 'delivery_in_flight')
    expectError(
      await call('POST', `hook_events/${uuid}/resend/`, { json: { async: true } }),
      409,
      'delivery_in_flight',
    )
    release()
    expect((await first).status).toBe(200)
    expect(receiver.requests).toHaveLength(2)

    // A 410 Gone disables the webhook: a resend names why it is refused.
    expect((await call('POST', `hook_events/${uuid}/resend/`)).status).toBe(406)
    const gone = await call('POST', `hook_events/${uuid}/resend/`)
    expectError(gone, 409, 'webhook_inactive')
    expect(gone.body.message).toMatch(/disabled by Whisperer \(gone\)/)
    expect(await whisperer.deliveries.retry('alice', uuid!)).toMatchObject({ delivered: true })
    expect(receiver.requests).toHaveLength(4)

    // Deactivated by its owner.
    await call('PATCH', `hooks/${hook}/`, { json: { is_active: true } })
    await call('PATCH', `hooks/${hook}/`, { json: { is_active: false } })
    const inactive = await call('POST', `hook_events/${uuid}/resend/?async=true`)
    expectError(inactive, 409, 'webhook_inactive')
    expect(inactive.body.message).toMatch(/deactivated/)

    expect((await call('DELETE', `hooks/${hook}/`)).status).toBe(204)
    expectError(await call('POST', `hook_events/${uuid}/resend/`), 404, 'webhook_not_found')
    expect(receiver.requests).toHaveLength(4)
    expect((await call('GET', `hook_events/${uuid}/`)).body.status).toBe('delivered')
  })

  test("resend: another owner's delivery is 404 by id and by uuid; the library's deliveries.resend", async () => {
    await setup()
    await subscribe()
    const bobs = await call('POST', 'hooks/', {
      as: 'bob',
      json: { event_type: 'order-created', target_url: receiver.url },
    })
    const { deliveries } = await whisperer.deliverEvent({ id: 1 }, 'order-created')
    expect(await whisperer.processDue()).toBe(2)
    const bob = deliveries.find((d) => d.webhookId === bobs.body.id)!
    const alice = deliveries.find((d) => d.webhookId !== bobs.body.id)!
    const bobId = (await whisperer.deliveries.get('bob', bob.uuid)).id
    for (const ref of [bobId, bob.uuid]) {
      expectError(await call('POST', `hook_events/${ref}/resend/`), 404, 'delivery_not_found')
      expectError(
        await call('POST', `hook_events/${ref}/resend/`, { json: { async: true } }),
        404,
        'delivery_not_found',
      )
    }
    await expect(whisperer.deliveries.resend('alice', bob.uuid)).rejects.toMatchObject({
      code: 'delivery_not_found',
    })
    expect(receiver.requests).toHaveLength(2)
    expect((await call('POST', `hook_events/${bobId}/resend/`, { as: 'bob' })).status).toBe(200)
    expect((await call('POST', `hook_events/${bobId}/resend/`, { as: 'admin' })).status).toBe(200)

    const outcome = await whisperer.deliveries.resend('alice', alice.uuid)
    expect(outcome).toMatchObject({
      uuid: alice.uuid,
      delivered: true,
      status: 'delivered',
      responseStatus: 200,
    })
    expect(await whisperer.deliveries.resend('alice', alice.uuid, { async: true })).toBeNull()
    expect((await whisperer.deliveries.get('alice', alice.uuid)).status).toBe('pending')
    expect(await whisperer.processDue()).toBe(1)
    const attempts = await whisperer.deliveries.attempts('alice', alice.uuid)
    expect(attempts.map((a) => a.attempt)).toEqual([1, 2, 3])
    const toAlice = receiver.requests.filter(
      (r) => r.headers['webhook-id'] === alice.uuid.replaceAll('-', ''),
    )
    expect(toAlice).toHaveLength(3)
    expect(new Set(toAlice.map((r) => r.body)).size).toBe(1)
  })

  test('replay sends failed deliveries again by webhook, event type and time range', async () => {
    receiver.respond(() => ({ status: 503 }))
    await setup({ maxAttempts: 1 })
    const created = await subscribe()
    const paid = await subscribe({ event_type: 'order-paid' })
    const start = clock.now()
    const [first] = await publish('order-created', { id: 1 })
    const [second] = await publish('order-paid', { id: 1 })
    clock.advance(3600_000)
    const [third] = await publish('order-created', { id: 2 })
    expect(await whisperer.processDue()).toBe(3)
    const status = async (uuid: string) => (await call('GET', `hook_events/${uuid}/`)).body.status
    expect([await status(first!), await status(second!), await status(third!)]).toEqual([
      'failed',
      'failed',
      'failed',
    ])
    receiver.respond(() => ({ status: 200 }))

    const byWebhook = await call('POST', 'hook_events/replay/', { json: { webhook: paid } })
    expect(byWebhook.status).toBe(200)
    expect(byWebhook.body).toEqual({ replayed: 1, more: false })
    expect(await status(second!)).toBe('pending')
    expect(await whisperer.processDue()).toBe(1)
    expect(await status(second!)).toBe('delivered')

    const halfway = new Date(start.getTime() + 1800_000).toISOString()
    const early = await call('POST', 'hook_events/replay/', {
      json: { event_type: 'order-created', created_date__lt: halfway },
    })
    expect(early.body).toEqual({ replayed: 1, more: false })
    expect(await whisperer.processDue()).toBe(1)
    expect([await status(first!), await status(third!)]).toEqual(['delivered', 'failed'])

    const late = await call('POST', 'hook_events/replay/', {
      json: { webhook: created, created_date__gte: halfway, limit: 1 },
    })
    expect(late.body).toEqual({ replayed: 1, more: true })
    // The 503s limited the webhook to the rate observed, halved (0.25/s): its next send is paced
    // 4 s after the one just made, whose success alone does not lift the limit yet.
    expect(await whisperer.processDue()).toBe(0)
    clock.advance(4_000)
    expect(await whisperer.processDue()).toBe(1)
    expect(await status(third!)).toBe('delivered')
    expect((await call('POST', 'hook_events/replay/', { json: {} })).body).toEqual({
      replayed: 0,
      more: false,
    })
    // Delivered ones only when asked for.
    const again = await call('POST', 'hook_events/replay/', {
      json: { status: ['delivered'], webhook: paid },
    })
    expect(again.body).toEqual({ replayed: 1, more: false })

    const invalid = await call('POST', 'hook_events/replay/', {
      json: { created_date__gte: 'yesterday', limit: 0 },
    })
    expectError(invalid, 400, 'validation_error')
    expect(Object.keys(invalid.body.errors).sort()).toEqual(['created_date__gte', 'limit'])
  })

  test('hook_events filters: event_type, uuid, response_http_status, delivered, webhook, created_date ranges', async () => {
    receiver.respond((request) => ({ status: request.path.endsWith('/fail') ? 500 : 200 }))
    await setup({ maxAttempts: 1 })
    const ok = await subscribe({ target_url: `${receiver.url}/ok` })
    const failing = await subscribe({ event_type: 'order-paid', target_url: `${receiver.url}/fail` })
    clock.set(new Date('2026-01-01T00:00:00Z'))
    const [d1] = await publish('order-created', { id: 1 })
    clock.set(new Date('2026-01-02T00:00:00Z'))
    const [d2] = await publish('order-paid', { id: 2 })
    clock.set(new Date('2026-01-02T12:00:00Z'))
    const [d3] = await publish('order-created', { id: 3 })
    expect(await whisperer.processDue()).toBe(3)

    const uuids = async (query: string) => {
      const response = await call('GET', `hook_events/?${query}`)
      expect(response.status).toBe(200)
      return response.body.results.map((d: { uuid: string }) => d.uuid)
    }
    expect(await uuids('')).toEqual([d3, d2, d1])
    expect(await uuids('event_type=ORDER-created')).toEqual([d3, d1])
    expect(await uuids(`uuid=${d2}`)).toEqual([d2])
    expect(await uuids(`uuid=${d2!.replaceAll('-', '')}`)).toEqual([d2])
    expect(await uuids('uuid=not-a-uuid')).toEqual([])
    expect(await uuids('response_http_status=500')).toEqual([d2])
    expect(await uuids('response_http_status=200')).toEqual([d3, d1])
    expect(await uuids('delivered=true')).toEqual([d3, d1])
    expect(await uuids('delivered=False')).toEqual([d2])
    expect(await uuids('status=failed')).toEqual([d2])
    expect(await uuids(`webhook=${failing}`)).toEqual([d2])
    expect(await uuids(`webhook=${ok}&delivered=1`)).toEqual([d3, d1])
    // A bare date is that whole day; a date-time is that instant.
    expect(await uuids('created_date=2026-01-02')).toEqual([d3, d2])
    expect(await uuids('created_date=2026-01-02T12:00:00Z')).toEqual([d3])
    expect(await uuids('created_date__gt=2026-01-02T00:00:00Z')).toEqual([d3])
    expect(await uuids('created_date__gte=2026-01-02T00:00:00Z')).toEqual([d3, d2])
    expect(await uuids('created_date__lt=2026-01-02T00:00:00Z')).toEqual([d1])
    expect(await uuids('created_date__lte=2026-01-02T00:00:00Z')).toEqual([d2, d1])
    expect(await uuids('created_date__gte=2026-01-02')).toEqual([d3, d2])
    expect(
      await uuids('created_date__gte=2026-01-01T12:00:00Z&created_date__lt=2026-01-02T06:00:00Z'),
    ).toEqual([d2])
    expect(await uuids('created_date__gte=2026-01-01T00:00:00%2B01:00')).toEqual([d3, d2, d1])

    const page = await call('GET', 'hook_events/?limit=2')
    expect(page.body.results.map((d: { uuid: string }) => d.uuid)).toEqual([d3, d2])
    const rest = await call('GET', `hook_events/${new URL(page.body.next).search}`)
    expect(rest.body).toEqual({ results: [expect.objectContaining({ uuid: d1 })], next: null })

    const invalid = await call('GET', 'hook_events/?created_date__gte=soon')
    expectError(invalid, 400, 'validation_error')
    expect(invalid.body.errors).toEqual({ created_date__gte: [expect.any(String)] })
    const flag = await call('GET', 'hook_events/?delivered=maybe&response_http_status=ok')
    expectError(flag, 400, 'validation_error')
    expect(Object.keys(flag.body.errors).sort()).toEqual(['delivered', 'response_http_status'])
  })

  test('a retry whose target cannot be reached answers 406 with the error', async () => {
    await setup({ maxAttempts: 1 })
    const closed = await startReceiver()
    const url = closed.url
    await closed.close()
    await subscribe({ target_url: url })
    const [uuid] = await publish('order-created', { id: 1 })
    await whisperer.processDue()
    expect((await call('GET', `hook_events/${uuid}/`)).body).toMatchObject({
      status: 'failed',
      response_http_status: null,
      response_content: null,
      last_error_kind: 'connect',
    })
    const retried = await call('POST', `hook_events/${uuid}/retry/`)
    expect(retried.status).toBe(406)
    expect(retried.body).toMatchObject({
      detail: 'Webhook event delivery failed',
      delivered: false,
      status: 'failed',
      response_status: null,
      response_content: null,
      error: expect.any(String),
    })
  })

  test('deleting a webhook cancels its waiting deliveries; their history stays', async () => {
    await setup()
    const hook = await subscribe({ secret_key: 'k' })
    const [delivered] = await publish('order-created', { id: 1 })
    await whisperer.processDue()
    const [waiting] = await publish('order-created', { id: 2 })
    expect((await call('DELETE', `hooks/${hook}/`)).status).toBe(204)

    const events = (await call('GET', 'hook_events/')).body.results
    expect(events.map((e: { uuid: string; status: string }) => [e.uuid, e.status])).toEqual([
      [waiting, 'cancelled'],
      [delivered, 'delivered'],
    ])
    expect(events[0].webhook).toMatchObject({ id: hook, is_active: false, secret_key: '********' })
    expect((await call('GET', 'event_queues/')).body.results).toEqual([])
    expectError(await call('POST', `hook_events/${waiting}/retry/`), 404, 'webhook_not_found')
    expect(
      (await call('POST', 'hook_events/replay/', { json: { status: ['cancelled'] } })).body.replayed,
    ).toBe(0)
    expect(await whisperer.processDue()).toBe(0)
    expect(receiver.requests).toHaveLength(1)
  })

  test('ping sends a signed whisperer.ping to the webhook and stores nothing', async () => {
    await setup()
    const hook = await subscribe({ secret_key: 'p1ng', additional_headers: { 'X-Tenant': 'acme' } })
    const ping = await call('POST', `hooks/${hook}/ping/`)
    expect(ping.status).toBe(200)
    expect(ping.body).toEqual({
      delivered: true,
      response_status: 200,
      response_content: 'thanks',
      duration_ms: expect.any(Number),
      error_kind: null,
      error: null,
    })
    const [request] = await receiver.waitFor(1)
    expect(request!.headers['x-whisperer-event']).toBe('whisperer.ping')
    expect(request!.headers['x-tenant']).toBe('acme')
    expect(request!.headers['x-whisperer-signature']).toBe(signature('p1ng', request!.body))
    expect(JSON.parse(request!.body)).toMatchObject({
      event: { type: 'whisperer.ping' },
      data: { webhook_id: hook, event_type: 'order-created' },
    })
    expect((await call('GET', 'hook_events/')).body.results).toEqual([])

    receiver.respond(() => ({ status: 404, body: 'no such hook' }))
    const refused = await call('POST', `hooks/${hook}/ping`)
    expect(refused.body).toMatchObject({
      delivered: false,
      response_status: 404,
      response_content: 'no such hook',
      error_kind: 'http',
    })
  })

  test('ordering_key: delivered in order with its headers; an over-long one is 400 naming it', async () => {
    await setup()
    const hook = await subscribe({ ordering_on_failure: 'block' })
    expect((await call('GET', `hooks/${hook}/`)).body.ordering_on_failure).toBe('block')
    const tooLong = await call('POST', 'events/', {
      as: 'publisher',
      json: { event_type: 'order-created', data: { id: 1 }, ordering_key: 'k'.repeat(256) },
    })
    expectError(tooLong, 400, 'validation_error')
    expect(Object.keys(tooLong.body.errors)).toEqual(['ordering_key'])
    const badPolicy = await call('PATCH', `hooks/${hook}/`, { json: { ordering_on_failure: 'wait' } })
    expectError(badPolicy, 400, 'validation_error')
    expect(Object.keys(badPolicy.body.errors)).toEqual(['ordering_on_failure'])
    for (const id of [1, 2]) {
      const published = await call('POST', 'events/', {
        as: 'publisher',
        json: { event_type: 'order-created', data: { id }, ordering_key: 'order:7' },
      })
      expect(published.status).toBe(202)
    }
    const listed = (await call('GET', 'hook_events/')).body.results
    expect(
      listed.map((d: { ordering_key: string; sequence: number }) => [d.ordering_key, d.sequence]),
    ).toEqual([
      ['order:7', 2],
      ['order:7', 1],
    ])
    // The second waits for the first: it has no due time yet.
    expect(listed[0].next_attempt_at).toBeNull()
    await whisperer.processDue()
    expect(receiver.requests.map((r) => r.headers['x-whisperer-sequence'])).toEqual(['1', '2'])
    expect(receiver.requests.map((r) => r.headers['x-whisperer-ordering-key'])).toEqual([
      'order:7',
      'order:7',
    ])
  })
})
