import { afterEach, beforeEach, expect, test } from 'vitest'
import { forEachDatabase } from '../support/databases.ts'
import { type Receiver, startReceiver } from '../support/receiver.ts'
import { apiOf, expectError } from './support.ts'

/** GET operational_events/: what happened to the caller's webhooks, scoped by owner. */
forEachDatabase((db) => {
  let receiver: Receiver
  beforeEach(async () => {
    receiver = await startReceiver(() => ({ status: 410 }))
  })
  afterEach(() => receiver.close())

  test('each owner lists the events about its own webhooks; an admin lists every owner’s', async () => {
    const whisperer = await db.whisperer({ maxAttempts: 1 })
    whisperer.eventTypes.register({ type: 'order.paid' })
    const call = apiOf(whisperer)
    const ids: Record<string, number> = {}
    for (const as of ['alice', 'bob'] as const) {
      const created = await call('POST', 'hooks/', {
        as,
        json: { event_type: 'order.paid', target_url: `${receiver.url}/${as}` },
      })
      expect(created.status).toBe(201)
      ids[as] = (created.body as { id: number }).id
    }
    await whisperer.deliverEvent({ n: 1 }, 'order.paid')
    await whisperer.processDue()

    const alice = await call('GET', 'operational_events/', { as: 'alice' })
    expect(alice.status).toBe(200)
    const events = alice.body as { type: string; webhook_id: number; data: { webhook: { id: number } } }[]
    expect(events.map((e) => e.type).sort()).toEqual([
      'whisperer.delivery.exhausted',
      'whisperer.webhook.disabled',
    ])
    expect(events.every((e) => e.webhook_id === ids.alice && e.data.webhook.id === ids.alice)).toBe(true)

    const disabled = await call('GET', 'operational_events/?type=whisperer.webhook.disabled', { as: 'admin' })
    expect((disabled.body as { webhook_id: number }[]).map((e) => e.webhook_id).sort()).toEqual(
      [ids.alice, ids.bob].sort(),
    )
    const one = await call('GET', 'operational_events/?owner=bob&limit=1', { as: 'admin' })
    expect(one.body).toHaveLength(1)
    expect((one.body as { webhook_id: number }[])[0]!.webhook_id).toBe(ids.bob)

    expectError(
      await call('GET', 'operational_events/?type=order.paid', { as: 'alice' }),
      400,
      'validation_error',
    )
    expectError(await call('GET', 'operational_events/?limit=0', { as: 'alice' }), 400, 'validation_error')
  })
})
