import { afterEach, beforeEach, expect, test } from 'vitest'
import { forEachDatabase } from '../support/databases.ts'
import { type Receiver, startReceiver } from '../support/receiver.ts'

/** Tracks how many requests a receiver is answering at once. */
function concurrencyProbe(receivers: Receiver[], delayMs: number) {
  const probe = { now: 0, max: 0 }
  for (const receiver of receivers) {
    receiver.respond(async () => {
      probe.now += 1
      probe.max = Math.max(probe.max, probe.now)
      await new Promise((resolve) => setTimeout(resolve, delayMs))
      probe.now -= 1
      return { status: 200 }
    })
  }
  return probe
}

forEachDatabase((db) => {
  let receivers: Receiver[]
  beforeEach(async () => {
    receivers = [await startReceiver(), await startReceiver()]
  })
  afterEach(() => Promise.all(receivers.map((r) => r.close())))

  test('attempts to one host never exceed perHostConcurrency', async () => {
    const probe = concurrencyProbe(receivers, 60)
    const whisperer = await db.whisperer({ concurrency: 20, perHostConcurrency: 3 })
    whisperer.eventTypes.register({ type: 'tick' })
    await whisperer.webhooks.create('acme', { eventType: 'tick', targetUrl: receivers[0]!.url })
    for (let i = 0; i < 15; i += 1) await whisperer.deliverEvent({ i }, 'tick')
    await whisperer.start()
    await receivers[0]!.waitFor(15)
    expect(probe.max).toBe(3)
  })

  test('attempts across hosts never exceed concurrency', async () => {
    const probe = concurrencyProbe(receivers, 60)
    const whisperer = await db.whisperer({ concurrency: 4, perHostConcurrency: 4 })
    whisperer.eventTypes.register({ type: 'tick' })
    for (const receiver of receivers)
      await whisperer.webhooks.create('acme', { eventType: 'tick', targetUrl: receiver.url })
    for (let i = 0; i < 10; i += 1) await whisperer.deliverEvent({ i }, 'tick')
    await whisperer.start()
    await Promise.all(receivers.map((r) => r.waitFor(10)))
    expect(probe.max).toBe(4)
  })

  test('close() finishes what is in flight, records it, and leaves nothing claimed', async () => {
    concurrencyProbe(receivers, 150)
    const whisperer = await db.whisperer({ concurrency: 5 })
    whisperer.eventTypes.register({ type: 'tick' })
    await whisperer.webhooks.create('acme', { eventType: 'tick', targetUrl: receivers[0]!.url })
    for (let i = 0; i < 30; i += 1) await whisperer.deliverEvent({ i }, 'tick')
    await whisperer.start()
    await receivers[0]!.waitFor(3)
    const schema = whisperer.config.schema
    await whisperer.close()
    const sent = receivers[0]!.requests.length
    const rows = await db.sql<{ status: string; n: number }>(
      `SELECT status, count(*)::int AS n FROM "${schema}".deliveries GROUP BY status ORDER BY status`,
    )
    const byStatus = Object.fromEntries(rows.map((r) => [r.status, r.n]))
    expect(byStatus.delivering).toBeUndefined()
    expect(byStatus.delivered).toBe(sent)
    expect(byStatus.pending).toBe(30 - sent)
    const [{ n: attempts }] = (await db.sql<{ n: number }>(
      `SELECT count(*)::int AS n FROM "${schema}".attempts`,
    )) as [{ n: number }]
    expect(attempts).toBe(sent)
  })

  test('a started worker wakes on a notification from another process, not by polling', async () => {
    const worker = await db.whisperer({ pollInterval: 60_000 })
    worker.eventTypes.register({ type: 'tick' })
    await worker.webhooks.create('acme', { eventType: 'tick', targetUrl: receivers[0]!.url })
    await worker.start()
    // Let the worker make its first claim and go to sleep for the long poll interval.
    await new Promise((resolve) => setTimeout(resolve, 300))
    const publisher = await db.whisperer({ schema: worker.config.schema })
    publisher.eventTypes.register({ type: 'tick' })
    await publisher.deliverEvent({ n: 1 }, 'tick')
    const [request] = await receivers[0]!.waitFor(1, 15_000)
    expect(JSON.parse(request!.body).data).toEqual({ n: 1 })
  })

  test('a worker sleeps until the next retry is due, then sends it', async () => {
    receivers[0]!.respond((_request, index) => ({ status: index === 0 ? 500 : 200 }))
    const whisperer = await db.whisperer({ pollInterval: 60_000 })
    whisperer.eventTypes.register({ type: 'tick' })
    await whisperer.webhooks.create('acme', {
      eventType: 'tick',
      targetUrl: receivers[0]!.url,
      retryCountdownConfig: { choice: 'fixed', kwargs: { seconds: 1 } },
    })
    await whisperer.start()
    await whisperer.deliverEvent({}, 'tick')
    const requests = await receivers[0]!.waitFor(2, 15_000)
    expect(requests[1]!.receivedAt - requests[0]!.receivedAt).toBeGreaterThanOrEqual(950)
  })
})
