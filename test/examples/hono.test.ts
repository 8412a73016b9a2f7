import type { AddressInfo } from 'node:net'
import { type ServerType, serve } from '@hono/node-server'
import { afterEach, beforeEach, expect, test } from 'vitest'
import { createApp } from '../../examples/hono/app.ts'
import { forEachDatabase } from '../support/databases.ts'
import { type Receiver, startReceiver } from '../support/receiver.ts'
import {
  apiRequest,
  exampleWhisperers,
  expectDelivered,
  expectEndToEnd,
  overFetch,
  subscribe,
} from './support.ts'

forEachDatabase((db) => {
  const exampleWhisperer = exampleWhisperers(db)
  let receiver: Receiver
  const servers: ServerType[] = []
  beforeEach(async () => {
    receiver = await startReceiver()
  })
  afterEach(async () => {
    for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve))
    await receiver.close()
  })

  /** Serves `fetch` on a loopback port, as the example does when run directly; returns its origin. */
  async function listen(fetch: (request: Request) => Response | Promise<Response>): Promise<string> {
    const port = await new Promise<number>((resolve) => {
      servers.push(
        serve({ fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => resolve(info.port)),
      )
    })
    return `http://127.0.0.1:${port}`
  }

  test('the example creates a webhook and publishes through the API, on a real port', async () => {
    const whisperer = await exampleWhisperer()
    const origin = await listen(createApp(whisperer).fetch)
    await expectEndToEnd(whisperer, overFetch, `${origin}/whisperer`, receiver)
  })

  test("the example's own route publishes through the library", async () => {
    const whisperer = await exampleWhisperer()
    const app = createApp(whisperer)
    // In-process too: a Hono app is itself a Web handler.
    const send = async (request: Request) => app.fetch(request)
    await subscribe(send, 'http://app.test/whisperer', receiver)
    const order = await app.request('/orders', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 1, total: 42 }),
    })
    expect(order.status).toBe(201)
    await expectDelivered(whisperer, receiver, { id: 1, total: 42 })
    const listed = await send(apiRequest('http://app.test/whisperer/hooks/'))
    expect(await listed.json()).toMatchObject({ results: [{ target_url: receiver.url }] })
  })
})
