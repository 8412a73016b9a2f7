import { afterEach, beforeEach, expect, test } from 'vitest'
import { z } from 'zod'
import type { WhispererOptions } from '../../src/config.ts'
import type { Whisperer } from '../../src/whisperer.ts'
import { ManualClock } from '../support/clock.ts'
import { forEachDatabase, type TestDatabase } from '../support/databases.ts'
import { type Receiver, startReceiver } from '../support/receiver.ts'

forEachDatabase((db: TestDatabase) => {
  let receiver: Receiver
  let clock: ManualClock
  beforeEach(async () => {
    receiver = await startReceiver()
    clock = new ManualClock()
  })
  afterEach(() => receiver.close())

  async function setup(countdown: object, options: WhispererOptions = {}): Promise<Whisperer> {
    const whisperer = await db.whisperer({ clock: clock.now, ...options })
    whisperer.eventTypes.register({ type: 'order-created' })
    await whisperer.webhooks.create('acme', {
      eventType: 'order-created',
      targetUrl: receiver.url,
      retryCountdownConfig: countdown,
    })
    return whisperer
  }

  test('a receiver failing k times then succeeding gets k+1 attempts on the countdown schedule', async () => {
    receiver.respond((_request, index) => ({ status: index < 2 ? 500 : 200, body: `try ${index}` }))
    const whisperer = await setup({ choice: 'exponential', kwargs: { base: 3, factor: 10 } })
    const start = clock.now().getTime()
    const { deliveries } = await whisperer.deliverEvent({ id: 1 }, 'order-created')
    const uuid = deliveries[0]!.uuid

    expect(await whisperer.processDue()).toBe(1)
    let delivery = await whisperer.deliveries.get('acme', uuid)
    // Retry 0 waits 3^0 × 10 = 10 s after the failed attempt.
    expect(delivery).toMatchObject({
      status: 'pending',
      retryCount: 1,
      lastStatus: 500,
      lastErrorKind: 'http',
    })
    expect(delivery.nextAttemptAt!.getTime()).toBe(start + 10_000)

    clock.advance(9_999)
    expect(await whisperer.processDue()).toBe(0)
    clock.advance(1)
    expect(await whisperer.processDue()).toBe(1)
    delivery = await whisperer.deliveries.get('acme', uuid)
    // Retry 1 waits 3^1 × 10 = 30 s.
    expect(delivery).toMatchObject({ status: 'pending', retryCount: 2 })
    expect(delivery.nextAttemptAt!.getTime()).toBe(start + 40_000)

    clock.advance(30_000)
    expect(await whisperer.processDue()).toBe(1)
    delivery = await whisperer.deliveries.get('acme', uuid)
    expect(delivery).toMatchObject({
      status: 'delivered',
      retryCount: 3,
      lastStatus: 200,
      lastErrorKind: null,
    })
    expect(delivery.nextAttemptAt).toBeNull()

    const attempts = await whisperer.deliveries.attempts('acme', uuid)
    expect(attempts.map((a) => [a.attempt, a.status, a.errorKind, a.responseBody])).toEqual([
      [1, 500, 'http', 'try 0'],
      [2, 500, 'http', 'try 1'],
      [3, 200, null, 'try 2'],
    ])
    expect(attempts.map((a) => a.createdAt.getTime() - start)).toEqual([0, 10_000, 40_000])
    expect(receiver.requests).toHaveLength(3)
  })

  test('after maxAttempts a delivery is failed and no longer attempted', async () => {
    receiver.respond(() => ({ status: 503 }))
    const whisperer = await setup({ choice: 'fixed', kwargs: { seconds: 5 } }, { maxAttempts: 3 })
    const { deliveries } = await whisperer.deliverEvent({}, 'order-created')
    for (let i = 0; i < 5; i += 1) {
      await whisperer.processDue()
      clock.advance(5_000)
    }
    const delivery = await whisperer.deliveries.get('acme', deliveries[0]!.uuid)
    expect(delivery).toMatchObject({ status: 'failed', retryCount: 3, lastStatus: 503 })
    expect(receiver.requests).toHaveLength(3)
  })

  test('a linear countdown retries at once first (0 s), as dj-whisperer does', async () => {
    receiver.respond((_request, index) => ({ status: index === 0 ? 500 : 200 }))
    const whisperer = await setup({ choice: 'linear', kwargs: { base: 60, limit: 600 } })
    await whisperer.deliverEvent({}, 'order-created')
    expect(await whisperer.processDue()).toBe(2)
    expect(receiver.requests).toHaveLength(2)
  })

  test('a custom countdown registered with its kwargs schema drives the schedule', async () => {
    receiver.respond(() => ({ status: 500 }))
    const whisperer = await db.whisperer({ clock: clock.now, maxAttempts: 4 })
    whisperer.countdowns.register('custom', {
      kwargs: z.object({ factor: z.int().min(1) }),
      create:
        ({ factor }) =>
        (n) =>
          n % 2 === 0 ? 2 * factor * n : factor * n,
    })
    whisperer.eventTypes.register({ type: 'order-created' })
    await expect(
      whisperer.webhooks.create('acme', {
        eventType: 'order-created',
        targetUrl: receiver.url,
        retryCountdownConfig: { choice: 'custom', kwargs: { factor: 0 } },
      }),
    ).rejects.toMatchObject({
      code: 'validation_error',
      issues: [{ path: 'retryCountdownConfig.kwargs.factor' }],
    })
    await whisperer.webhooks.create('acme', {
      eventType: 'order-created',
      targetUrl: receiver.url,
      retryCountdownConfig: { choice: 'custom', kwargs: { factor: 5 } },
    })
    const start = clock.now().getTime()
    const { deliveries } = await whisperer.deliverEvent({}, 'order-created')
    for (let i = 0; i < 4; i += 1) {
      await whisperer.processDue()
      const delivery = await whisperer.deliveries.get('acme', deliveries[0]!.uuid)
      if (delivery.nextAttemptAt) clock.set(delivery.nextAttemptAt)
    }
    // Retries n = 0, 1, 2 wait 2·5·0 = 0, 5·1 = 5 and 2·5·2 = 20 s; the 4th attempt fails it.
    const attempts = await whisperer.deliveries.attempts('acme', deliveries[0]!.uuid)
    expect(attempts.map((a) => (a.createdAt.getTime() - start) / 1000)).toEqual([0, 0, 5, 25])
    expect((await whisperer.deliveries.get('acme', deliveries[0]!.uuid)).status).toBe('failed')
  })

  test('Retry-After is honoured when longer than the countdown, within its bound', async () => {
    receiver.respond((_request, index) => ({
      status: 503,
      headers: { 'retry-after': index === 0 ? '120' : '99999' },
    }))
    const whisperer = await setup({ choice: 'fixed', kwargs: { seconds: 10 } }, { retryAfterMax: 600 })
    const { deliveries } = await whisperer.deliverEvent({}, 'order-created')
    await whisperer.processDue()
    let delivery = await whisperer.deliveries.get('acme', deliveries[0]!.uuid)
    expect(delivery.nextAttemptAt!.getTime() - clock.now().getTime()).toBe(120_000)
    clock.advance(120_000)
    await whisperer.processDue()
    delivery = await whisperer.deliveries.get('acme', deliveries[0]!.uuid)
    expect(delivery.nextAttemptAt!.getTime() - clock.now().getTime()).toBe(600_000)
  })
})
