import { afterEach, beforeEach, expect, test } from 'vitest'
import type { WhispererOptions } from '../../src/config.ts'
import type { Whisperer } from '../../src/whisperer.ts'
import { ManualClock } from '../support/clock.ts'
import { forEachDatabase } from '../support/databases.ts'
import { type Receiver, startReceiver } from '../support/receiver.ts'

forEachDatabase((db) => {
  let receiver: Receiver
  let clock: ManualClock
  beforeEach(async () => {
    receiver = await startReceiver()
    clock = new ManualClock()
  })
  afterEach(() => receiver.close())

  async function subscribed(targetUrl: string, options: WhispererOptions = {}): Promise<Whisperer> {
    const whisperer = await db.whisperer({ clock: clock.now, ...options })
    whisperer.eventTypes.register({ type: 'order-created' })
    await whisperer.webhooks.create('acme', {
      eventType: 'order-created',
      targetUrl,
      retryCountdownConfig: { choice: 'fixed', kwargs: { seconds: 30 } },
    })
    return whisperer
  }

  async function onlyAttempt(whisperer: Whisperer, uuid: string) {
    const attempts = await whisperer.deliveries.attempts('acme', uuid)
    expect(attempts).toHaveLength(1)
    return attempts[0]!
  }

  test('a receiver slower than the read timeout is a timeout, retried on schedule', async () => {
    receiver.respond(() => ({ status: 200, delayMs: 1500 }))
    const whisperer = await subscribed(receiver.url, { requestTimeout: [1, 0.3] })
    const { deliveries } = await whisperer.deliverEvent({}, 'order-created')
    await whisperer.processDue()
    const attempt = await onlyAttempt(whisperer, deliveries[0]!.uuid)
    expect(attempt).toMatchObject({ status: null, errorKind: 'timeout' })
    expect(attempt.durationMs).toBeGreaterThanOrEqual(250)
    expect(attempt.durationMs).toBeLessThan(1500)
    const delivery = await whisperer.deliveries.get('acme', deliveries[0]!.uuid)
    expect(delivery).toMatchObject({ status: 'pending', retryCount: 1, lastErrorKind: 'timeout' })
    expect(delivery.nextAttemptAt!.getTime() - clock.now().getTime()).toBe(30_000)
  })

  test('a refused connection is a connect error, retried', async () => {
    const closed = await startReceiver()
    await closed.close()
    const whisperer = await subscribed(closed.url)
    const { deliveries } = await whisperer.deliverEvent({}, 'order-created')
    await whisperer.processDue()
    const attempt = await onlyAttempt(whisperer, deliveries[0]!.uuid)
    expect(attempt).toMatchObject({ status: null, errorKind: 'connect' })
    expect(attempt.error).toContain('ECONNREFUSED')
    expect((await whisperer.deliveries.get('acme', deliveries[0]!.uuid)).status).toBe('pending')
  })

  test('a dropped connection is a connect error', async () => {
    receiver.respond(() => ({ destroy: true }))
    const whisperer = await subscribed(receiver.url)
    const { deliveries } = await whisperer.deliverEvent({}, 'order-created')
    await whisperer.processDue()
    expect((await onlyAttempt(whisperer, deliveries[0]!.uuid)).errorKind).toBe('connect')
  })

  test('410 Gone fails the delivery, disables the webhook and cancels its other pending deliveries', async () => {
    receiver.respond(() => ({ status: 410 }))
    const whisperer = await subscribed(receiver.url, { concurrency: 1 })
    const first = await whisperer.deliverEvent({ n: 1 }, 'order-created')
    const second = await whisperer.deliverEvent({ n: 2 }, 'order-created')
    await whisperer.processDue()
    expect(receiver.requests).toHaveLength(1)
    const statuses = await Promise.all(
      [first, second].map(
        async (r) => (await whisperer.deliveries.get('acme', r.deliveries[0]!.uuid)).status,
      ),
    )
    expect(statuses.sort()).toEqual(['cancelled', 'failed'])
    const [webhook] = await whisperer.webhooks.list('acme')
    expect(webhook).toMatchObject({ isActive: false, disabledReason: 'gone' })
    expect((await whisperer.deliverEvent({ n: 3 }, 'order-created')).deliveries).toEqual([])
    // Reactivating clears the reason.
    expect(await whisperer.webhooks.update('acme', webhook!.id, { isActive: true })).toMatchObject({
      isActive: true,
      disabledReason: null,
    })
  })

  test('redirects are not followed: a 302 is a failed attempt', async () => {
    const elsewhere = await startReceiver()
    receiver.respond(() => ({ status: 302, headers: { location: elsewhere.url } }))
    const whisperer = await subscribed(receiver.url)
    const { deliveries } = await whisperer.deliverEvent({}, 'order-created')
    await whisperer.processDue()
    expect(elsewhere.requests).toHaveLength(0)
    await elsewhere.close()
    const attempt = await onlyAttempt(whisperer, deliveries[0]!.uuid)
    expect(attempt).toMatchObject({ status: 302, errorKind: 'http' })
    expect(attempt.responseHeaders!.location).toBe(elsewhere.url)
    expect((await whisperer.deliveries.get('acme', deliveries[0]!.uuid)).status).toBe('pending')
  })

  test('the response body is kept up to the configured cap', async () => {
    receiver.respond(() => ({ status: 200, body: `${'x'.repeat(100)}\u0000${'y'.repeat(5000)}` }))
    const whisperer = await subscribed(receiver.url, { responseBodyLimit: 128 })
    const { deliveries } = await whisperer.deliverEvent({}, 'order-created')
    await whisperer.processDue()
    const attempt = await onlyAttempt(whisperer, deliveries[0]!.uuid)
    expect(attempt.responseTruncated).toBe(true)
    expect(attempt.responseBody).toHaveLength(128)
    // A NUL byte cannot be stored in PostgreSQL text; it is replaced, and the record kept.
    expect(attempt.responseBody).toBe(`${'x'.repeat(100)}\uFFFD${'y'.repeat(27)}`)
  })

  test('a target that is not allowed at send time is blocked and given up, nothing sent', async () => {
    const creator = await subscribed(receiver.url)
    await creator.webhooks.create('acme', {
      eventType: 'order-created',
      targetUrl: `http://localhost:${receiver.port}/x`,
    })
    const { deliveries } = await creator.deliverEvent({}, 'order-created')
    // A second process with the default policy: loopback is refused, by literal and after DNS.
    const strict = await db.whisperer({ clock: clock.now, schema: creator.config.schema, allowedTargets: [] })
    await strict.processDue()
    expect(receiver.requests).toHaveLength(0)
    for (const { uuid } of deliveries) {
      const attempt = await onlyAttempt(strict, uuid)
      expect(attempt.errorKind).toBe('blocked')
      expect((await strict.deliveries.get('acme', uuid)).status).toBe('failed')
    }
    const messages = await Promise.all(deliveries.map(async (d) => (await onlyAttempt(strict, d.uuid)).error))
    expect(messages.some((m) => m?.includes('localhost resolves to'))).toBe(true)
  })

  test('private targets are refused when a webhook is created, unless allowed', async () => {
    const whisperer = await db.whisperer({ allowedTargets: [] })
    whisperer.eventTypes.register({ type: 'order-created' })
    for (const targetUrl of [
      'http://127.0.0.1/',
      'http://localhost:8080/',
      'http://169.254.169.254/latest',
      'http://[::1]/',
    ]) {
      await expect(
        whisperer.webhooks.create('acme', { eventType: 'order-created', targetUrl }),
      ).rejects.toMatchObject({
        code: 'validation_error',
        issues: [{ path: 'targetUrl' }],
      })
    }
    const open = await db.whisperer({ allowPrivateTargets: true })
    open.eventTypes.register({ type: 'order-created' })
    await open.webhooks.create('acme', { eventType: 'order-created', targetUrl: 'http://10.0.0.1/' })
  })
})
