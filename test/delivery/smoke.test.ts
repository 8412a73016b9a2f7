import { afterEach, beforeEach, expect, test } from 'vitest'
import { forEachDatabase } from '../support/databases.ts'
import { type Receiver, startReceiver } from '../support/receiver.ts'

forEachDatabase((db) => {
  let receiver: Receiver
  beforeEach(async () => {
    receiver = await startReceiver()
  })
  afterEach(() => receiver.close())

  test('an event reaches a subscribed receiver', async () => {
    const whisperer = await db.whisperer()
    whisperer.events.register({ type: 'package-created' })
    await whisperer.webhooks.create('acme', {
      eventType: 'package-created',
      targetUrl: receiver.url,
      secretKey: 's',
    })
    await whisperer.start()
    const result = await whisperer.deliverEvent({ id: 61 }, 'package-created')
    expect(result.deliveries).toHaveLength(1)
    const [request] = await receiver.waitFor(1)
    expect(JSON.parse(request!.body)).toEqual({
      event: { type: 'package-created', uuid: result.deliveries[0]!.uuid.replaceAll('-', '') },
      data: { id: 61 },
    })
  })
})
