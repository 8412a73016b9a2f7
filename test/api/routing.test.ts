import { afterEach, beforeEach, expect, test } from 'vitest'
import { WhispererError } from '../../src/core/errors.ts'
import type { Whisperer } from '../../src/whisperer.ts'
import { ManualClock } from '../support/clock.ts'
import { forEachDatabase } from '../support/databases.ts'
import { type Receiver, startReceiver } from '../support/receiver.ts'
import { apiOf, type Call, expectError } from './support.ts'

/** GET events/{uuid}/routing/ says, for every webhook of the event's type, whether it got the event and why not. */
forEachDatabase((db) => {
  let receiver: Receiver
  let whisperer: Whisperer
  let call: Call
  let clock: ManualClock
  let hooks: Record<string, number>
  let eventUuid: string

  beforeEach(async () => {
    receiver = await startReceiver(() => ({ status: 200, body: 'ok' }))
    clock = new ManualClock()
    whisperer = await db.whisperer({ clock: clock.now })
    whisperer.eventTypes.register({ type: 'order-created' })
    whisperer.eventTypes.register({ type: 'order-paid' })
    call = apiOf(whisperer)
    const subscribe = async (
      name: string,
      fields: Record<string, unknown>,
      as: 'alice' | 'bob' = 'alice',
    ) => {
      const response = await call('POST', 'hooks/', {
        as,
        json: { event_type: 'order-created', target_url: `${receiver.url}${name}`, ...fields },
      })
      expect(response.status).toBe(201)
      return response.body.id as number
    }
    hooks = {
      delivered: await subscribe('delivered', {
        config: { tenant: 'acme' },
        filters: { 'customer.plan': 'pro' },
      }),
      inactive: await subscribe('inactive', { config: { tenant: 'acme' }, is_active: false }),
      deleted: await subscribe('deleted', { config: { tenant: 'acme' } }),
      otherTenant: await subscribe('other-tenant', { config: { tenant: 'globex' } }),
      filtered: await subscribe('filtered', {
        config: { tenant: 'acme' },
        filters: { 'customer.plan': 'pro', email: { endswith: '@acme.com' } },
      }),
      otherType: await subscribe('other-type', { event_type: 'order-paid', config: { tenant: 'acme' } }),
      bob: await subscribe('bob', { config: { tenant: 'acme' } }, 'bob'),
    }
    expect((await call('DELETE', `hooks/${hooks.deleted}/`)).status).toBe(204)
    clock.advance(1000)
    const published = await call('POST', 'events/', {
      as: 'publisher',
      json: {
        event_type: 'order-created',
        data: { id: 7, email: 'pat@globex.com', customer: { plan: 'pro' } },
        config_filter: { tenant: 'acme' },
      },
    })
    expect(published.status).toBe(202)
    eventUuid = published.body.event_uuid
    clock.advance(1000)
    hooks.late = await subscribe('late', { config: { tenant: 'acme' } })
  })
  afterEach(() => receiver.close())

  const routing = async (as: 'alice' | 'bob' | 'admin' | 'publisher' = 'alice') => {
    const response = await call('GET', `events/${eventUuid}/routing/`, { as })
    expect(response.status).toBe(200)
    return response.body
  }
  const of = (body: { webhooks: { webhook: number }[] }, hook: number) =>
    body.webhooks.find((w) => w.webhook === hook)

  test('each webhook of the type: its delivery, or why it has none', async () => {
    const body = await routing()
    expect(body).toMatchObject({
      event_uuid: eventUuid,
      event_type: 'order-created',
      published_at: '2026-01-01T00:00:01.000Z',
      config_filter: { tenant: 'acme' },
    })
    // Every alice webhook of the type, in id order; not the other type's, not bob's.
    expect(body.webhooks.map((w: { webhook: number }) => w.webhook)).toEqual([
      hooks.delivered,
      hooks.inactive,
      hooks.deleted,
      hooks.otherTenant,
      hooks.filtered,
      hooks.late,
    ])
    const [delivery] = await whisperer.deliveries.list('alice', { webhookId: hooks.delivered })
    expect(of(body, hooks.delivered!)).toEqual({
      webhook: hooks.delivered,
      owner: 'alice',
      target_url: `${receiver.url}delivered`,
      delivered: true,
      delivery: { uuid: delivery!.uuid, status: 'pending' },
      reasons: [],
      evaluated: 'now',
      changed_since_publish: false,
    })
    expect(of(body, hooks.inactive!)).toMatchObject({
      delivered: false,
      delivery: null,
      reasons: [{ code: 'inactive', disabled_reason: null }],
    })
    expect(of(body, hooks.deleted!)).toMatchObject({
      delivered: false,
      reasons: [{ code: 'deleted', deleted_at: '2026-01-01T00:00:00.000Z' }],
    })
    expect(of(body, hooks.otherTenant!)).toMatchObject({
      delivered: false,
      reasons: [{ code: 'config_filter', key: 'tenant', expected: 'acme', actual: 'globex' }],
    })
    // Only the failing condition is named: the plan matched.
    expect(of(body, hooks.filtered!)).toMatchObject({
      delivered: false,
      reasons: [
        { code: 'filter', path: ['email'], op: 'endswith', expected: '@acme.com', actual: 'pat@globex.com' },
      ],
    })
    expect(of(body, hooks.late!)).toMatchObject({
      delivered: false,
      reasons: [{ code: 'created_after', created_at: '2026-01-01T00:00:02.000Z' }],
      changed_since_publish: true,
    })
  })

  test('one webhook asked about, whatever its types: not_subscribed when they do not match', async () => {
    const one = await call('GET', `events/${eventUuid}/routing/?webhook=${hooks.otherType}`)
    expect(one.status).toBe(200)
    expect(one.body.webhooks).toEqual([
      expect.objectContaining({
        webhook: hooks.otherType,
        delivered: false,
        reasons: [{ code: 'not_subscribed', event_types: ['order-paid'] }],
      }),
    ])
    // A pattern that matches is a subscription (evaluated as the webhook is now).
    expect((await call('PATCH', `hooks/${hooks.otherType}/`, { json: { event_types: ['*'] } })).status).toBe(
      200,
    )
    const now = await call('GET', `events/${eventUuid}/routing/?webhook=${hooks.otherType}`)
    expect(now.body.webhooks).toEqual([
      expect.objectContaining({ delivered: false, reasons: [], changed_since_publish: true }),
    ])
    const delivered = await call('GET', `events/${eventUuid}/routing/?webhook=${hooks.delivered}`)
    expect(delivered.body.webhooks).toEqual([
      expect.objectContaining({ webhook: hooks.delivered, delivered: true }),
    ])
    // Another owner's webhook is not found among the caller's: an empty list.
    const bob = await call('GET', `events/${eventUuid}/routing/?webhook=${hooks.bob}`)
    expect(bob.body.webhooks).toEqual([])
    expectError(await call('GET', `events/${eventUuid}/routing/?webhook=x`), 400, 'validation_error')
  })

  test('a webhook changed since the publish is evaluated as it is now, and says so', async () => {
    clock.advance(1000)
    const patched = await call('PATCH', `hooks/${hooks.otherTenant}/`, {
      json: { config: { tenant: 'acme' } },
    })
    expect(patched.status).toBe(200)
    expect(of(await routing(), hooks.otherTenant!)).toMatchObject({
      delivered: false,
      reasons: [],
      evaluated: 'now',
      changed_since_publish: true,
    })
  })

  test("a subscriber sees only its own webhooks; an admin every owner's; a publisher its owner's", async () => {
    const bob = await routing('bob')
    expect(bob.webhooks.map((w: { webhook: number }) => w.webhook)).toEqual([hooks.bob])
    expect(bob.webhooks[0]).toMatchObject({ owner: 'bob', delivered: true })
    const admin = await routing('admin')
    expect(admin.webhooks.map((w: { webhook: number }) => w.webhook)).toContain(hooks.bob)
    expect(admin.webhooks).toHaveLength(7)
    // The publisher's owner has no webhook: an empty list, not another owner's.
    expect((await routing('publisher')).webhooks).toEqual([])
  })

  test('an event that is not stored is 404 event_not_found', async () => {
    const unknown = await call('GET', 'events/00000000-0000-4000-8000-000000000000/routing/')
    expectError(unknown, 404, 'event_not_found')
    expect(unknown.body.message).toMatch(/matched no webhook is not stored/)
    expectError(await call('GET', 'events/not-a-uuid/routing/'), 404, 'event_not_found')
    // A publish that matched no webhook answered event_uuid: null; nothing is there to explain.
    const unmatched = await call('POST', 'events/', {
      as: 'publisher',
      json: { event_type: 'order-created', data: { id: 8 }, config_filter: { tenant: 'nobody' } },
    })
    expect(unmatched.body.event_uuid).toBeNull()
  })

  test('the library call gives the same routing, and refuses an unknown uuid', async () => {
    const routed = await whisperer.deliveries.routing('alice', eventUuid.replaceAll('-', ''))
    expect(routed.eventUuid).toBe(eventUuid)
    expect(routed.configFilter).toEqual({ tenant: 'acme' })
    expect(routed.webhooks.find((w) => w.webhookId === hooks.filtered)?.reasons).toEqual([
      { code: 'filter', path: ['email'], op: 'endswith', expected: '@acme.com', actual: 'pat@globex.com' },
    ])
    await expect(
      whisperer.deliveries.routing('alice', '00000000-0000-4000-8000-000000000001'),
    ).rejects.toThrow(WhispererError)
  })

  test('an event with customized payloads keeps its config filter too', async () => {
    whisperer.eventTypes.register({
      type: 'order-shipped',
      customizePayload: (body) => ({ ...body, shipped: true }),
    })
    const hook = await call('POST', 'hooks/', {
      json: { event_type: 'order-shipped', target_url: receiver.url, config: { tenant: 'acme' } },
    })
    const published = await whisperer.deliverEvent({ id: 9 }, 'order-shipped', {
      configFilter: { tenant: 'acme' },
    })
    const routed = await whisperer.deliveries.routing('alice', published.eventUuid!)
    expect(routed.configFilter).toEqual({ tenant: 'acme' })
    expect(routed.webhooks).toMatchObject([
      { webhookId: hook.body.id, delivery: { status: 'pending' }, reasons: [] },
    ])
  })
})
