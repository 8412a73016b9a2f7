import { afterEach, expect } from 'vitest'
import { createExampleWhisperer } from '../../examples/shared/whisperer.ts'
import { verifySignature } from '../../src/index.ts'
import type { Whisperer } from '../../src/whisperer.ts'
import { quietLogger, type TestDatabase } from '../support/databases.ts'
import type { Receiver } from '../support/receiver.ts'

export const token = { authorization: 'Token demo-token' }
export const secret = 'a-long-random-secret'

/**
 * The examples' Whisperer on a fresh schema of `db`, closed after each test (before the schema is
 * dropped: call it inside the `forEachDatabase` block).
 */
export function exampleWhisperers(db: TestDatabase): () => Promise<Whisperer> {
  const opened: Whisperer[] = []
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((whisperer) => whisperer.close()))
  })
  return async () => {
    const whisperer = await createExampleWhisperer({
      ...(await db.source()),
      allowedTargets: ['127.0.0.1'],
      logger: quietLogger,
    })
    opened.push(whisperer)
    return whisperer
  }
}

/** Calls a mounted API: `fetch` against a server, or a route handler called in-process. */
export type Send = (request: Request) => Promise<Response>

export const overFetch: Send = (request) => fetch(request)

/** A JSON request with the demo token. */
export function apiRequest(url: string, method = 'GET', json?: unknown): Request {
  return new Request(url, {
    method,
    headers: { ...token, ...(json === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(json === undefined ? {} : { body: JSON.stringify(json) }),
  })
}

/** Subscribes `receiver` to order-created through the API at `api` (…/whisperer) and returns the webhook's id. */
export async function subscribe(send: Send, api: string, receiver: Receiver): Promise<number> {
  const response = await send(
    apiRequest(`${api}/hooks/`, 'POST', {
      event_type: 'order-created',
      target_url: receiver.url,
      secret_key: secret,
    }),
  )
  expect(response.status).toBe(201)
  const webhook = (await response.json()) as { id: number }
  expect(webhook).toMatchObject({ owner: 'demo', event_type: 'order-created', target_url: receiver.url })
  return webhook.id
}

/** Sends what is due and checks that `receiver` got `data` as order-created, with valid signatures. */
export async function expectDelivered(
  whisperer: Whisperer,
  receiver: Receiver,
  data: unknown,
): Promise<void> {
  expect(await whisperer.processDue()).toBe(1)
  const [request] = await receiver.waitFor(1)
  expect(request!.headers['x-whisperer-event']).toBe('order-created')
  expect(JSON.parse(request!.body)).toMatchObject({ event: { type: 'order-created' }, data })
  expect(verifySignature({ secret, body: request!.body, headers: request!.headers })).toEqual({
    ok: true,
    whisperer: true,
    standard: true,
  })
}

/**
 * The whole flow through an API mounted at `api`: a webhook created over HTTP, an event published
 * with POST events/ (the demo token has the publisher scope), and the delivery verified.
 */
export async function expectEndToEnd(whisperer: Whisperer, send: Send, api: string, receiver: Receiver) {
  await subscribe(send, api, receiver)
  const published = await send(
    apiRequest(`${api}/events/`, 'POST', { event_type: 'order-created', data: { id: 7, total: 99 } }),
  )
  expect(published.status).toBe(202)
  expect(await published.json()).toMatchObject({ deliveries: [{ webhook: expect.any(Number) }] })
  await expectDelivered(whisperer, receiver, { id: 7, total: 99 })
}
