import { afterEach, beforeEach, expect, test } from 'vitest'
import { POST as createOrder } from '../../examples/next/app/orders/route.ts'
import { DELETE, GET, HEAD, PATCH, POST, PUT } from '../../examples/next/app/whisperer/[...path]/route.ts'
import type { WhispererApp } from '../../examples/next/lib/whisperer.ts'
import { authenticate } from '../../examples/shared/whisperer.ts'
import { forEachDatabase } from '../support/databases.ts'
import { type Receiver, startReceiver } from '../support/receiver.ts'
import { apiRequest, exampleWhisperers, expectDelivered, expectEndToEnd, subscribe } from './support.ts'

/** Where the example keeps the app's Whisperer; set here to one on the test's schema. */
const state = globalThis as typeof globalThis & { whispererApp?: Promise<WhispererApp> }

const routeHandlers = { DELETE, GET, HEAD, PATCH, POST, PUT }

/** What Next.js does with a request to /whisperer/…: call the route's export for its method. */
async function send(request: Request): Promise<Response> {
  const handler = routeHandlers[request.method as keyof typeof routeHandlers]
  return handler(request)
}

forEachDatabase((db) => {
  const exampleWhisperer = exampleWhisperers(db)
  let receiver: Receiver
  beforeEach(async () => {
    receiver = await startReceiver()
    const whisperer = await exampleWhisperer()
    state.whispererApp = Promise.resolve({ whisperer, api: whisperer.api({ authenticate }) })
  })
  afterEach(async () => {
    delete state.whispererApp
    await receiver.close()
  })

  test('the route handler creates a webhook and publishes through the API', async () => {
    const { whisperer } = await state.whispererApp!
    await expectEndToEnd(whisperer, send, 'http://localhost:3000/whisperer', receiver)
  })

  test("every method is exported, and the app's own route publishes through the library", async () => {
    const { whisperer } = await state.whispererApp!
    const id = await subscribe(send, 'http://localhost:3000/whisperer', receiver)
    const patched = await send(
      apiRequest(`http://localhost:3000/whisperer/hooks/${id}/`, 'PATCH', { target_url: receiver.url }),
    )
    expect(patched.status).toBe(200)
    expect((await send(apiRequest(`http://localhost:3000/whisperer/hooks/${id}/`, 'HEAD'))).status).toBe(200)
    const order = await createOrder(
      new Request('http://localhost:3000/orders', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: 1, total: 42 }),
      }),
    )
    expect(order.status).toBe(201)
    await expectDelivered(whisperer, receiver, { id: 1, total: 42 })
    expect((await send(apiRequest(`http://localhost:3000/whisperer/hooks/${id}/`, 'DELETE'))).status).toBe(
      204,
    )
  })
})
