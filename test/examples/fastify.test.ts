import type { FastifyInstance } from 'fastify'
import { afterEach, beforeEach, expect, test } from 'vitest'
import { createApp } from '../../examples/fastify/app.ts'
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
  const apps: FastifyInstance[] = []
  beforeEach(async () => {
    receiver = await startReceiver()
  })
  afterEach(async () => {
    // A connection still uploading a refused body would otherwise be kept alive for 72 s.
    await Promise.all(
      apps.splice(0).map((app) => {
        const closed = app.close()
        app.server.closeAllConnections()
        return closed
      }),
    )
    await receiver.close()
  })

  async function listen(app: FastifyInstance): Promise<string> {
    apps.push(app)
    return app.listen({ port: 0, host: '127.0.0.1' })
  }

  test('the example creates a webhook and publishes through the API', async () => {
    const whisperer = await exampleWhisperer()
    const origin = await listen(await createApp(whisperer))
    await expectEndToEnd(whisperer, overFetch, `${origin}/whisperer`, receiver)
  })

  test("the example's own route still parses JSON and publishes through the library", async () => {
    const whisperer = await exampleWhisperer()
    const origin = await listen(await createApp(whisperer))
    await subscribe(overFetch, `${origin}/whisperer`, receiver)
    const order = await fetch(`${origin}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 1, total: 42 }),
    })
    expect(order.status).toBe(201)
    expect(await order.json()).toEqual({ id: 1, total: 42 })
    await expectDelivered(whisperer, receiver, { id: 1, total: 42 })
  })

  test('every method and body reaches the API as sent', async () => {
    const whisperer = await exampleWhisperer()
    const origin = await listen(await createApp(whisperer))
    const id = await subscribe(overFetch, `${origin}/whisperer`, receiver)
    const patched = await fetch(apiRequest(`${origin}/whisperer/hooks/${id}/`, 'PATCH', { is_active: false }))
    expect(patched.status).toBe(200)
    expect(await patched.json()).toMatchObject({ id, is_active: false })
    // Malformed JSON and other media types are the API's to refuse, with its own codes.
    const malformed = await fetch(`${origin}/whisperer/hooks/`, {
      method: 'POST',
      headers: { authorization: 'Token demo-token', 'content-type': 'application/json' },
      body: '{',
    })
    expect(malformed.status).toBe(400)
    expect(await malformed.json()).toMatchObject({ code: 'invalid_json' })
    const text = await fetch(`${origin}/whisperer/hooks/`, {
      method: 'POST',
      headers: { authorization: 'Token demo-token', 'content-type': 'text/plain' },
      body: 'hello',
    })
    expect(text.status).toBe(415)
    expect(await text.json()).toMatchObject({ code: 'unsupported_media_type' })
    const deleted = await fetch(apiRequest(`${origin}/whisperer/hooks/${id}/`, 'DELETE'))
    expect(deleted.status).toBe(204)
    expect((await fetch(apiRequest(`${origin}/whisperer/hooks/${id}`))).status).toBe(404)
  })

  test('bodies over the API limit are refused by the API, not by Fastify', async () => {
    const whisperer = await exampleWhisperer()
    const origin = await listen(await createApp(whisperer))
    // Over Fastify's 1 MiB default too, which the plugin's routes leave to the API.
    const big = { event_type: 'order-created', data: { id: 1, total: 1, note: 'x'.repeat(2 * 1024 * 1024) } }
    const response = await fetch(apiRequest(`${origin}/whisperer/events/`, 'POST', big))
    expect(response.status).toBe(413)
    expect(await response.json()).toMatchObject({ code: 'payload_too_large' })
  })
})
