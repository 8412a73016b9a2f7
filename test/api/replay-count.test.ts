import { afterEach, beforeEach, expect, test } from 'vitest'
import type { Whisperer } from '../../src/whisperer.ts'
import { forEachDatabase } from '../support/databases.ts'
import { type Receiver, startReceiver } from '../support/receiver.ts'
import { apiOf, type Call, expectError } from './support.ts'

/** GET hook_events/replay/ counts what a bulk replay would send again; an admin replays one owner's. */
forEachDatabase((db) => {
  let receiver: Receiver
  let whisperer: Whisperer
  let call: Call
  let aliceHooks: number[]
  beforeEach(async () => {
    receiver = await startReceiver(() => ({ status: 500, body: 'down' }))
    whisperer = await db.whisperer({ maxAttempts: 1 })
    whisperer.eventTypes.register({ type: 'order-created' })
    whisperer.eventTypes.register({ type: 'order-paid' })
    call = apiOf(whisperer)
    const subscribe = async (as: 'alice' | 'bob', event_type: string) =>
      (await call('POST', 'hooks/', { as, json: { event_type, target_url: receiver.url } })).body.id as number
    aliceHooks = [await subscribe('alice', 'order-created'), await subscribe('alice', 'order-paid')]
    await subscribe('bob', 'order-created')
    await whisperer.deliverEvent({ id: 1 }, 'order-created')
    await whisperer.deliverEvent({ id: 2 }, 'order-created')
    await whisperer.deliverEvent({ id: 3 }, 'order-paid')
    await whisperer.processDue()
  })
  afterEach(() => receiver.close())

  const count = async (query: string, as: 'alice' | 'admin' = 'alice') => {
    const response = await call('GET', `hook_events/replay/${query}`, { as })
    expect(response.status).toBe(200)
    return response.body.count as number
  }

  test('the count follows the filter and the owner, however many batches the replay takes', async () => {
    expect(await count('')).toBe(3)
    expect(await count(`?webhook=${aliceHooks[1]}`)).toBe(1)
    expect(await count('?event_type=ORDER-CREATED')).toBe(2)
    expect(await count('?status=cancelled')).toBe(0)
    expect(await count('?status=failed,cancelled')).toBe(3)
    expect(await count('?created_date__lt=2000-01-01T00:00:00Z')).toBe(0)
    expect(await count('', 'admin')).toBe(5)
    expect(await count('?owner=bob', 'admin')).toBe(2)
    expect(await count('?owner=bob')).toBe(3)

    // Replayed in batches of one, the count says when it is done.
    let replayed = 0
    for (let batch = 0; batch < 5; batch++) {
      const response = await call('POST', 'hook_events/replay/', { json: { limit: 1 } })
      replayed += response.body.replayed
      if (!response.body.more) break
    }
    expect(replayed).toBe(3)
    expect(await count('')).toBe(0)
  })

  test("an admin's replay with owner touches only that owner's deliveries", async () => {
    const response = await call('POST', 'hook_events/replay/', { as: 'admin', json: { owner: 'bob' } })
    expect(response.body).toEqual({ replayed: 2, more: false })
    expect(await count('')).toBe(3)
    expect(await count('?owner=bob', 'admin')).toBe(0)
    // A subscriber's owner is ignored: alice replays her own.
    expect((await call('POST', 'hook_events/replay/', { json: { owner: 'bob' } })).body.replayed).toBe(3)
  })

  test('a bad filter is a 400 naming it', async () => {
    const response = await call('GET', 'hook_events/replay/?status=pending&webhook=x')
    expectError(response, 400, 'validation_error')
    expect(Object.keys(response.body.errors).sort()).toEqual(['status.0', 'webhook'])
  })
})
