import { afterEach, beforeEach, expect, test } from 'vitest'
import type { CallbackContext } from '../../src/core/callbacks.ts'
import { forEachDatabase } from '../support/databases.ts'
import { type Receiver, startReceiver } from '../support/receiver.ts'

forEachDatabase((db) => {
  let receiver: Receiver
  beforeEach(async () => {
    receiver = await startReceiver(() => ({ status: 202, headers: { 'x-reply': 'yes' }, body: 'accepted' }))
  })
  afterEach(() => receiver.close())

  test('a callback runs after the outcome is stored, with response, type, instance and payload', async () => {
    const whisperer = await db.whisperer()
    const seen: { context: CallbackContext; storedStatus: string }[] = []
    whisperer.callbacks.register('audit', async (context) => {
      const stored = await whisperer.deliveries.get('acme', context.delivery.uuid)
      seen.push({ context, storedStatus: stored.status })
    })
    whisperer.eventTypes.register({
      type: 'package-created',
      serialize: (p: { id: number }) => ({ id: p.id }),
    })
    await whisperer.webhooks.create('acme', {
      eventType: 'package-created',
      targetUrl: receiver.url,
      callback: 'audit',
    })
    const instance = { id: 61, internal: true }
    const { deliveries } = await whisperer.deliverEvent(instance, 'package-created', { async: false })
    expect(seen).toHaveLength(1)
    const { context, storedStatus } = seen[0]!
    expect(storedStatus).toBe('delivered')
    expect(context.response).toMatchObject({ status: 202, body: 'accepted', headers: { 'x-reply': 'yes' } })
    expect(context.error).toBeNull()
    expect(context.eventType).toBe('package-created')
    expect(context.instance).toBe(instance)
    expect(context.payload).toEqual({
      event: { type: 'package-created', uuid: deliveries[0]!.uuid.replaceAll('-', '') },
      data: { id: 61 },
    })
    expect(context.delivery).toMatchObject({ uuid: deliveries[0]!.uuid, status: 'delivered', retryCount: 1 })
  })

  test('queued deliveries give callbacks the instance that load returns', async () => {
    const whisperer = await db.whisperer()
    const instances: unknown[] = []
    whisperer.callbacks.register('audit', ({ instance }) => {
      instances.push(instance)
    })
    whisperer.eventTypes.register({
      type: 'package-created',
      subject: (p: { id: number }) => ({ type: 'package', id: String(p.id) }),
      load: (id) => ({ id: Number(id), reloaded: true }),
    })
    await whisperer.webhooks.create('acme', {
      eventType: 'package-created',
      targetUrl: receiver.url,
      callback: 'audit',
    })
    const { deliveries } = await whisperer.deliverEvent({ id: 7 }, 'package-created')
    await whisperer.processDue()
    expect(instances).toEqual([{ id: 7, reloaded: true }])
    expect((await whisperer.deliveries.get('acme', deliveries[0]!.uuid)).subject).toEqual({
      type: 'package',
      id: '7',
    })
  })

  test('a callback that throws is logged and noted on the attempt; the record stays', async () => {
    const errors: unknown[] = []
    const whisperer = await db.whisperer({
      logger: { debug() {}, info() {}, warn() {}, error: (object) => errors.push(object) },
    })
    whisperer.callbacks.register('broken', () => {
      throw new Error('callback exploded')
    })
    whisperer.eventTypes.register({ type: 'package-created' })
    await whisperer.webhooks.create('acme', {
      eventType: 'package-created',
      targetUrl: receiver.url,
      callback: 'broken',
    })
    const { deliveries } = await whisperer.deliverEvent({}, 'package-created', { async: false })
    const delivery = await whisperer.deliveries.get('acme', deliveries[0]!.uuid)
    expect(delivery.status).toBe('delivered')
    const [attempt] = await whisperer.deliveries.attempts('acme', delivery.id)
    expect(attempt).toMatchObject({ status: 202, callbackError: 'callback exploded' })
    expect(errors).toHaveLength(1)
  })

  test('a webhook can name only a registered callback', async () => {
    const whisperer = await db.whisperer()
    whisperer.eventTypes.register({ type: 'package-created' })
    await expect(
      whisperer.webhooks.create('acme', {
        eventType: 'package-created',
        targetUrl: receiver.url,
        callback: 'foo.bar.app.callback',
      }),
    ).rejects.toMatchObject({
      code: 'validation_error',
      issues: [{ path: 'callback', message: '"foo.bar.app.callback" is not a registered callback.' }],
    })
  })
})
