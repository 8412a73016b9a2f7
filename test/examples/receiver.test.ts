import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, beforeEach, expect, test } from 'vitest'
import { createReceiver, type Delivery } from '../../examples/receiver/verify.ts'
import { forEachDatabase } from '../support/databases.ts'
import { type Receiver, startReceiver } from '../support/receiver.ts'
import { exampleWhisperers, secret } from './support.ts'

forEachDatabase((db) => {
  const exampleWhisperer = exampleWhisperers(db)
  let example: Server
  let url: string
  let delivered: Delivery[]
  beforeEach(async () => {
    delivered = []
    example = createReceiver(secret, (delivery) => delivered.push(delivery))
    await new Promise<void>((resolve) => example.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(example.address() as AddressInfo).port}/hooks`
  })
  afterEach(async () => {
    example.closeAllConnections()
    await new Promise((resolve) => example.close(resolve))
  })

  test('accepts a delivery signed with its secret', async () => {
    const whisperer = await exampleWhisperer()
    await whisperer.webhooks.create('demo', { eventType: 'order-created', targetUrl: url, secretKey: secret })
    const { outcomes } = await whisperer.deliverEvent({ id: 1, total: 42 }, 'order-created', { async: false })
    expect(outcomes).toMatchObject([{ status: 'delivered', responseStatus: 204 }])
    expect(delivered).toMatchObject([{ event: { type: 'order-created' }, data: { id: 1, total: 42 } }])
  })

  test('refuses a delivery signed with another secret with 401, so it is retried', async () => {
    const whisperer = await exampleWhisperer()
    await whisperer.webhooks.create('demo', {
      eventType: 'order-created',
      targetUrl: url,
      secretKey: 'not-the-receivers-secret',
    })
    const { outcomes } = await whisperer.deliverEvent({ id: 1, total: 42 }, 'order-created', { async: false })
    expect(outcomes).toMatchObject([{ delivered: false, responseStatus: 401, responseBody: 'bad_signature' }])
    expect(delivered).toEqual([])
  })

  test('refuses a real delivery replayed with a tampered body or without its signatures', async () => {
    // A real signed request, caught on the way to another receiver, replayed to the example.
    const tap: Receiver = await startReceiver()
    try {
      const whisperer = await exampleWhisperer()
      await whisperer.webhooks.create('demo', {
        eventType: 'order-created',
        targetUrl: tap.url,
        secretKey: secret,
      })
      await whisperer.deliverEvent({ id: 1, total: 42 }, 'order-created', { async: false })
      const [original] = await tap.waitFor(1)
      const headers = Object.fromEntries(
        Object.entries(original!.headers).filter(
          ([name]) =>
            name.startsWith('x-whisperer') || name.startsWith('webhook-') || name === 'content-type',
        ),
      ) as Record<string, string>
      const replay = (body: string, sent = headers) => fetch(url, { method: 'POST', headers: sent, body })

      expect((await replay(original!.body)).status).toBe(204)
      const tampered = await replay(original!.body.replace('"total":42', '"total":4200'))
      expect(tampered.status).toBe(401)
      expect(await tampered.text()).toBe('bad_signature')
      const unsigned = await replay(original!.body, { 'content-type': 'application/json' })
      expect(unsigned.status).toBe(401)
      expect(await unsigned.text()).toBe('missing_signature')
      expect(delivered).toHaveLength(1)
    } finally {
      await tap.close()
    }
  })
})
