import { afterEach, beforeEach, expect, test } from 'vitest'
import type { Whisperer } from '../../src/whisperer.ts'
import { forEachDatabase } from '../support/databases.ts'
import { type Receiver, startReceiver } from '../support/receiver.ts'
import { apiOf, type Call, expectError } from './support.ts'

forEachDatabase((db) => {
  let receiver: Receiver
  let whisperer: Whisperer
  let call: Call
  /** Alice's and Bob's webhook, and the delivery of one event to each, failed. */
  let alice: { hook: number; delivery: { id: number; uuid: string } }
  let bob: { hook: number; delivery: { id: number; uuid: string } }

  beforeEach(async () => {
    receiver = await startReceiver(() => ({ status: 500, body: 'down' }))
    whisperer = await db.whisperer({ maxAttempts: 1 })
    whisperer.eventTypes.register({ type: 'order-created' })
    call = apiOf(whisperer)
    const json = { event_type: 'order-created', target_url: receiver.url, secret_key: 'k' }
    const hookA = (await call('POST', 'hooks/', { as: 'alice', json })).body.id as number
    const hookB = (await call('POST', 'hooks/', { as: 'bob', json })).body.id as number
    const { deliveries } = await whisperer.deliverEvent({ id: 1 }, 'order-created')
    await whisperer.processDue()
    const of = async (hook: number) => {
      const { uuid } = deliveries.find((d) => d.webhookId === hook)!
      return { uuid, id: (await whisperer.deliveries.get({ owner: '', admin: true }, uuid)).id }
    }
    alice = { hook: hookA, delivery: await of(hookA) }
    bob = { hook: hookB, delivery: await of(hookB) }
  })
  afterEach(() => receiver.close())

  test("an owner can neither read, change, delete nor ping another owner's webhook: each is 404", async () => {
    const before = (await call('GET', `hooks/${bob.hook}/`, { as: 'bob' })).body
    expectError(await call('GET', `hooks/${bob.hook}/`), 404, 'webhook_not_found')
    expectError(
      await call('PUT', `hooks/${bob.hook}/`, {
        json: { event_type: 'order-created', target_url: 'https://example.com/stolen' },
      }),
      404,
      'webhook_not_found',
    )
    expectError(
      await call('PATCH', `hooks/${bob.hook}/`, { json: { target_url: 'https://example.com/stolen' } }),
      404,
      'webhook_not_found',
    )
    expectError(await call('DELETE', `hooks/${bob.hook}/`), 404, 'webhook_not_found')
    expectError(await call('POST', `hooks/${bob.hook}/ping/`), 404, 'webhook_not_found')
    expect(receiver.requests).toHaveLength(2)

    const after = await call('GET', `hooks/${bob.hook}/`, { as: 'bob' })
    expect(after.status).toBe(200)
    expect(after.body).toEqual(before)
    // Fields a client may not set are ignored: nobody gives a webhook away, or takes one.
    const put = await call('PUT', `hooks/${alice.hook}/`, {
      json: { owner: 'bob', id: bob.hook, event_type: 'order-created', target_url: receiver.url },
    })
    expect(put.body).toMatchObject({ id: alice.hook, owner: 'alice' })
    const created = await call('POST', 'hooks/', {
      json: { owner: 'bob', event_type: 'order-created', target_url: 'https://example.com/x' },
    })
    expect(created.body.owner).toBe('alice')
    const own = await call('GET', 'hooks/?owner=bob')
    expect(own.body.results.map((w: { id: number }) => w.id)).toEqual([alice.hook, created.body.id])
  })

  test("an owner can neither see, retry nor read the attempts of another owner's delivery: each is 404", async () => {
    for (const ref of [bob.delivery.id, bob.delivery.uuid]) {
      expectError(await call('GET', `hook_events/${ref}/`), 404, 'delivery_not_found')
      expectError(await call('GET', `hook_events/${ref}/attempts/`), 404, 'delivery_not_found')
      expectError(await call('POST', `hook_events/${ref}/retry/`), 404, 'delivery_not_found')
      expectError(await call('POST', `hook_events/${ref}/resend/`), 404, 'delivery_not_found')
      expectError(
        await call('POST', `hook_events/${ref}/retry/`, { json: { force: true } }),
        404,
        'delivery_not_found',
      )
    }
    expect(receiver.requests).toHaveLength(2)

    const list = await call('GET', 'hook_events/?owner=bob')
    expect(list.body.results.map((d: { uuid: string }) => d.uuid)).toEqual([alice.delivery.uuid])
    expect((await call('GET', `hook_events/?webhook=${bob.hook}`)).body.results).toEqual([])
    expect((await call('GET', `hook_events/?uuid=${bob.delivery.uuid}`)).body.results).toEqual([])

    await whisperer.deliverEvent({ id: 2 }, 'order-created')
    const queue = await call('GET', 'event_queues/')
    expect(queue.body.results.map((d: { hook_id: number }) => d.hook_id)).toEqual([alice.hook])
  })

  test("replay never touches another owner's deliveries", async () => {
    const byWebhook = await call('POST', 'hook_events/replay/', { json: { webhook: bob.hook } })
    expect(byWebhook.status).toBe(200)
    expect(byWebhook.body).toEqual({ replayed: 0, more: false })
    expect((await whisperer.deliveries.get('bob', bob.delivery.uuid)).status).toBe('failed')

    const all = await call('POST', 'hook_events/replay/', { json: {} })
    expect(all.body).toEqual({ replayed: 1, more: false })
    expect((await whisperer.deliveries.get('alice', alice.delivery.uuid)).status).toBe('pending')
    const untouched = await whisperer.deliveries.get('bob', bob.delivery.uuid)
    expect(untouched).toMatchObject({ status: 'failed', retryCount: 1 })
  })

  test('an admin sees every owner, and ?owner= narrows the lists', async () => {
    const ids = (results: { id: number }[]) => results.map((r) => r.id).sort((a, b) => a - b)
    const hooks = await call('GET', 'hooks/', { as: 'admin' })
    expect(ids(hooks.body.results)).toEqual([alice.hook, bob.hook].sort((a, b) => a - b))
    const bobs = await call('GET', 'hooks/?owner=bob', { as: 'admin' })
    expect(bobs.body.results.map((w: { owner: string }) => w.owner)).toEqual(['bob'])
    const events = await call('GET', 'hook_events/', { as: 'admin' })
    expect(ids(events.body.results)).toEqual([alice.delivery.id, bob.delivery.id].sort((a, b) => a - b))
    const alices = await call('GET', 'hook_events/?owner=alice', { as: 'admin' })
    expect(alices.body.results.map((d: { id: number }) => d.id)).toEqual([alice.delivery.id])

    expect((await call('GET', `hooks/${bob.hook}/`, { as: 'admin' })).status).toBe(200)
    const patched = await call('PATCH', `hooks/${bob.hook}/`, { as: 'admin', json: { is_active: true } })
    expect(patched.body).toMatchObject({ owner: 'bob', secret_key: '********' })
    expect((await call('GET', `hook_events/${bob.delivery.uuid}/`, { as: 'admin' })).status).toBe(200)
    expect(
      (await call('GET', `hook_events/${bob.delivery.id}/attempts/`, { as: 'admin' })).body.results,
    ).toHaveLength(1)
    const retried = await call('POST', `hook_events/${bob.delivery.id}/retry/`, { as: 'admin' })
    expect(retried.status).toBe(406)
    expect(receiver.requests).toHaveLength(3)

    // An admin creates for another owner with ?owner=; anyone else creates for themselves.
    const json = { event_type: 'order-created', target_url: 'https://example.com/x' }
    const forCarol = await call('POST', 'hooks/?owner=carol', { as: 'admin', json })
    expect(forCarol.body.owner).toBe('carol')
    const forBob = await call('POST', 'hooks/?owner=bob', { as: 'alice', json })
    expect(forBob.body.owner).toBe('alice')
    expect((await call('GET', 'hooks/?owner=carol', { as: 'admin' })).body.results).toHaveLength(1)
  })

  test("a portal session of one owner can reach nothing of another's, nor create or revoke sessions", async () => {
    const created = await call('POST', 'portal/sessions/', { as: 'publisher', json: { owner: 'alice' } })
    const exchanged = await call('POST', 'portal/sessions/exchange/', {
      as: null,
      json: { token: created.body.token },
    })
    const portal = { as: null, headers: { authorization: `Bearer ${exchanged.body.token}` } }
    for (const ref of [bob.delivery.id, bob.delivery.uuid]) {
      expectError(await call('GET', `hook_events/${ref}/`, portal), 404, 'delivery_not_found')
      expectError(await call('POST', `hook_events/${ref}/resend/`, portal), 404, 'delivery_not_found')
    }
    expectError(await call('GET', `hooks/${bob.hook}/`, portal), 404, 'webhook_not_found')
    expectError(await call('DELETE', `hooks/${bob.hook}/`, portal), 404, 'webhook_not_found')
    const theirs = await call('GET', 'hook_events/?owner=bob', portal)
    expect(theirs.body.results.map((d: { uuid: string }) => d.uuid)).toEqual([alice.delivery.uuid])
    const made = await call('POST', 'hooks/?owner=bob', {
      ...portal,
      json: { event_type: 'order-created', target_url: 'https://example.com/x' },
    })
    expect(made.body.owner).toBe('alice')
    expectError(
      await call('POST', 'portal/sessions/', { ...portal, json: { owner: 'bob' } }),
      403,
      'forbidden',
    )
    expectError(await call('DELETE', `portal/sessions/${created.body.id}/`, portal), 403, 'forbidden')
    expectError(await call('GET', 'tokens/', portal), 403, 'forbidden')
    expect(receiver.requests).toHaveLength(2)
  })
})
