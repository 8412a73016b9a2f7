import { createServer, type RequestListener, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import express from 'express'
import { afterEach, beforeEach, expect, test } from 'vitest'
import { createApp } from '../../examples/express/app.ts'
import { authenticate } from '../../examples/shared/whisperer.ts'
import { expressMiddleware } from '../../src/api/adapters/express.ts'
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
  const servers: Server[] = []
  beforeEach(async () => {
    receiver = await startReceiver()
  })
  afterEach(async () => {
    for (const server of servers.splice(0)) {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
    await receiver.close()
  })

  /** Serves `app` on a loopback port; returns its origin. */
  async function listen(app: RequestListener): Promise<string> {
    const server = createServer(app)
    servers.push(server)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  }

  test('the example (express.json() before the middleware) creates a webhook and publishes', async () => {
    const whisperer = await exampleWhisperer()
    const origin = await listen(createApp(whisperer))
    await expectEndToEnd(whisperer, overFetch, `${origin}/whisperer`, receiver)
  })

  test('the example frames a portal link for its signed-in user, and serves the portal', async () => {
    const whisperer = await exampleWhisperer()
    const origin = await listen(createApp(whisperer))
    const page = await (await fetch(`${origin}/account/webhooks`)).text()
    const link = /src="([^"]+)"/.exec(page)![1]!
    expect(link).toMatch(/^\/whisperer\/dashboard\/#session=whpl_[a-z0-9]{12}_[\w-]{43}$/)
    const portal = await fetch(`${origin}${link.split('#')[0]}`)
    expect(portal.status).toBe(200)
    expect(portal.headers.get('content-security-policy')).toContain("frame-ancestors 'self'")
    const exchanged = await fetch(`${origin}/whisperer/portal/sessions/exchange/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: link.split('=')[1] }),
    })
    const { token } = (await exchanged.json()) as { token: string }
    const me = await fetch(`${origin}/whisperer/me/`, { headers: { authorization: `Bearer ${token}` } })
    expect(((await me.json()) as { owner: string }).owner).toBe('demo')
  })

  test("the example's own route publishes through the library; other paths pass the middleware", async () => {
    const whisperer = await exampleWhisperer()
    const origin = await listen(createApp(whisperer))
    await subscribe(overFetch, `${origin}/whisperer`, receiver)
    const order = await fetch(`${origin}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 1, total: 42 }),
    })
    expect(order.status).toBe(201)
    await expectDelivered(whisperer, receiver, { id: 1, total: 42 })
    // Not the API's (which would ask for a token first): Express's own 404.
    const elsewhere = await fetch(`${origin}/whisperers`)
    expect(elsewhere.status).toBe(404)
    expect(await elsewhere.text()).toContain('Cannot GET /whisperers')
  })

  test('without express.json(), the raw body is streamed to the API', async () => {
    const whisperer = await exampleWhisperer()
    const app = express().use(expressMiddleware(whisperer.api({ authenticate })))
    await expectEndToEnd(whisperer, overFetch, `${await listen(app)}/whisperer`, receiver)
  })

  test('mounted under its path, the API still sees the full path', async () => {
    const whisperer = await exampleWhisperer()
    const app = express().use('/whisperer', expressMiddleware(whisperer.api({ authenticate })))
    await expectEndToEnd(whisperer, overFetch, `${await listen(app)}/whisperer`, receiver)
  })

  test('with express.json(), the API still refuses what it refuses', async () => {
    const whisperer = await exampleWhisperer()
    const origin = await listen(createApp(whisperer))
    const anonymous = await fetch(`${origin}/whisperer/hooks/`)
    expect(anonymous.status).toBe(401)
    expect(await anonymous.json()).toMatchObject({ code: 'unauthenticated' })
    const invalid = await fetch(apiRequest(`${origin}/whisperer/hooks/`, 'POST', { event_type: 'nope' }))
    expect(invalid.status).toBe(400)
    expect(await invalid.json()).toMatchObject({ code: 'validation_error' })
    // A body express.json() could not parse never reaches the API: Express answers.
    const malformed = await fetch(`${origin}/whisperer/hooks/`, {
      method: 'POST',
      headers: { authorization: 'Token demo-token', 'content-type': 'application/json' },
      body: '{',
    })
    expect(malformed.status).toBe(400)
  })
})
