import { PGlite } from '@electric-sql/pglite'
import type pg from 'pg'
import { afterEach, beforeEach, expect, test } from 'vitest'
import { z } from 'zod'
import type { Queryable } from '../../src/storage/database.ts'
import { openDatabase } from '../../src/storage/open-database.ts'
import type { Whisperer } from '../../src/whisperer.ts'
import { countingDatabase } from '../support/counting-database.ts'
import { forEachDatabase } from '../support/databases.ts'
import { type Receiver, startReceiver } from '../support/receiver.ts'

forEachDatabase((db) => {
  let receiver: Receiver
  beforeEach(async () => {
    receiver = await startReceiver()
  })
  afterEach(() => receiver.close())

  async function subscribed(count = 1): Promise<Whisperer> {
    const whisperer = await db.whisperer()
    whisperer.eventTypes.register({ type: 'order-created' })
    for (let i = 0; i < count; i += 1) {
      await whisperer.webhooks.create('acme', {
        eventType: 'order-created',
        targetUrl: `${receiver.url}?n=${i}`,
      })
    }
    return whisperer
  }

  /** Runs `fn` in a caller's transaction on this database, rolling back when asked. */
  async function inTransaction(fn: (tx: Queryable) => Promise<void>, rollback: boolean): Promise<void> {
    const raw = await db.raw()
    if (raw instanceof PGlite) {
      await raw
        .transaction(async (tx) => {
          await fn(tx)
          if (rollback) throw new Error('roll back')
        })
        .catch((error: Error) => {
          if (error.message !== 'roll back') throw error
        })
      return
    }
    const client = await (raw as pg.Pool).connect()
    try {
      await client.query('BEGIN')
      await fn(client)
      await client.query(rollback ? 'ROLLBACK' : 'COMMIT')
    } finally {
      client.release()
    }
  }

  test('an unregistered type is refused with its name; serialize and schema shape the data', async () => {
    const whisperer = await subscribed()
    await expect(whisperer.deliverEvent({}, 'order-deleted')).rejects.toMatchObject({
      code: 'unknown_event_type',
      message: expect.stringContaining('"order-deleted"'),
    })
    whisperer.eventTypes.register({
      type: 'invoice-paid',
      serialize: (invoice: { id: number; cents: number; secret: string }) => ({
        id: invoice.id,
        amount: invoice.cents / 100,
      }),
      schema: z.object({ id: z.int(), amount: z.number().positive() }),
    })
    await expect(
      whisperer.deliverEvent({ id: 1, cents: -5, secret: 'x' }, 'invoice-paid'),
    ).rejects.toMatchObject({
      code: 'invalid_event_data',
      issues: [{ path: 'data.amount' }],
    })
    expect(() => whisperer.eventTypes.register({ type: 'invoice-paid' })).toThrow(/already registered/)
  })

  test('fan-out to many webhooks is one SQL statement, the same as to one', async () => {
    const counts: number[] = []
    for (const fanOut of [1, 40]) {
      const { database, schema } = await db.source()
      const counting = countingDatabase(await openDatabase(database!))
      const whisperer = await db.whisperer({ database: counting, schema })
      whisperer.eventTypes.register({ type: 'order-created' })
      for (let i = 0; i < fanOut; i += 1) {
        await whisperer.webhooks.create(`owner-${i}`, { eventType: 'order-created', targetUrl: receiver.url })
      }
      counting.statements.length = 0
      const { deliveries } = await whisperer.deliverEvent({ id: 1 }, 'order-created')
      expect(deliveries).toHaveLength(fanOut)
      counts.push(counting.statements.length)
      await whisperer.close()
      await counting.close()
    }
    expect(counts).toEqual([1, 1])
  })

  test('concurrent calls share statements; each gets its own deliveries; a bad one fails alone', async () => {
    const { database, schema } = await db.source()
    const counting = countingDatabase(await openDatabase(database!))
    const whisperer = await db.whisperer({ database: counting, schema })
    whisperer.eventTypes.register({ type: 'order-created' })
    for (let i = 0; i < 3; i += 1) {
      await whisperer.webhooks.create('acme', {
        eventType: 'order-created',
        targetUrl: `${receiver.url}?n=${i}`,
      })
    }
    counting.statements.length = 0
    const calls = Array.from({ length: 20 }, (_, i) => whisperer.deliverEvent({ i }, 'order-created'))
    const results = await Promise.all(calls)
    expect(counting.statements.length).toBeLessThan(calls.length)
    // PostgreSQL cannot hold a NUL character in jsonb: this filter fails inside the statement,
    // and only its own call fails.
    const [good, bad] = await Promise.allSettled([
      whisperer.deliverEvent({ i: 'good' }, 'order-created'),
      whisperer.deliverEvent({ i: 'bad' }, 'order-created', { configFilter: { tenant: '\u0000' } }),
    ])
    expect(good.status).toBe('fulfilled')
    expect(bad.status).toBe('rejected')
    const uuids = new Set<string>()
    for (const [i, result] of results.entries()) {
      expect(result.deliveries).toHaveLength(3)
      for (const delivery of result.deliveries) {
        uuids.add(delivery.uuid)
        const stored = await whisperer.deliveries.get('acme', delivery.uuid)
        expect(stored.eventUuid).toBe(result.eventUuid)
        expect(JSON.parse(stored.body).data).toEqual({ i })
      }
    }
    expect(uuids.size).toBe(60)
    await whisperer.close()
    await counting.close()
  })

  test('a rolled-back caller transaction leaves no event and no delivery; a committed one is delivered', async () => {
    const whisperer = await subscribed()
    const schema = whisperer.config.schema
    await inTransaction(
      (tx) => whisperer.deliverEvent({ id: 1 }, 'order-created', { tx }).then(() => {}),
      true,
    )
    expect(await db.sql(`SELECT * FROM "${schema}".events`)).toEqual([])
    expect(await db.sql(`SELECT * FROM "${schema}".deliveries`)).toEqual([])
    expect(await whisperer.processDue()).toBe(0)

    await inTransaction(async (tx) => {
      await tx.query(`CREATE TABLE "${schema}".orders (id int)`)
      await tx.query(`INSERT INTO "${schema}".orders VALUES (2)`)
      await whisperer.deliverEvent({ id: 2 }, 'order-created', { tx })
    }, false)
    await whisperer.processDue()
    const [request] = await receiver.waitFor(1)
    expect(JSON.parse(request!.body).data).toEqual({ id: 2 })
    expect(receiver.requests).toHaveLength(1)
  })

  test('async: false delivers before returning and returns each outcome', async () => {
    receiver.respond((request) => ({ status: request.path.endsWith('n=1') ? 500 : 201, body: 'thanks' }))
    const whisperer = await subscribed(2)
    const result = await whisperer.deliverEvent({ id: 1 }, 'order-created', { async: false })
    expect(receiver.requests).toHaveLength(2)
    const outcomes = [...result.outcomes!].sort((a, b) => a.webhookId - b.webhookId)
    expect(outcomes.map((o) => [o.status, o.delivered, o.responseStatus, o.responseBody])).toEqual([
      ['delivered', true, 201, 'thanks'],
      ['pending', false, 500, 'thanks'],
    ])
    // The failed one is not dropped: it stays queued on its retry schedule.
    const failed = await whisperer.deliveries.get('acme', outcomes[1]!.uuid)
    expect(failed).toMatchObject({ status: 'pending', retryCount: 1 })
    await expect(
      whisperer.deliverEvent({}, 'order-created', { async: false, tx: {} as Queryable }),
    ).rejects.toMatchObject({
      code: 'invalid_options',
    })
  })

  test('configFilter keeps only webhooks whose config matches, nested keys included', async () => {
    const whisperer = await db.whisperer()
    whisperer.eventTypes.register({ type: 'order-created' })
    const make = (tenant: string, auth?: object) =>
      whisperer.webhooks.create('acme', {
        eventType: 'order-created',
        targetUrl: `${receiver.url}?${tenant}`,
        config: { tenant, ...(auth ? { auth } : {}) },
      })
    const acme = await make('acme', { auth_type: 'basic', username: 'u', password: 'p' })
    await make('globex')
    expect(
      (
        await whisperer.deliverEvent({}, 'order-created', { configFilter: { tenant: 'acme' } })
      ).deliveries.map((d) => d.webhookId),
    ).toEqual([acme.id])
    expect(
      (await whisperer.deliverEvent({}, 'order-created', { configFilter: { auth__auth_type: 'basic' } }))
        .deliveries,
    ).toHaveLength(1)
    expect(
      (await whisperer.deliverEvent({}, 'order-created', { configFilter: { tenant: 'none' } })).deliveries,
    ).toEqual([])
  })

  test('customizePayload rewrites each body once; retries send the stored bytes', async () => {
    receiver.respond((_request, index) => ({ status: index === 0 ? 500 : 200 }))
    const whisperer = await db.whisperer({ requestTimeout: 5 })
    whisperer.eventTypes.register({
      type: 'order-created',
      customizePayload: (body) => ({ ...body, sent: Math.random(), version: 2 }),
    })
    await whisperer.webhooks.create('acme', {
      eventType: 'order-created',
      targetUrl: receiver.url,
      retryCountdownConfig: { choice: 'fixed', kwargs: { seconds: 0 } },
    })
    const { deliveries } = await whisperer.deliverEvent({ id: 1 }, 'order-created')
    await whisperer.processDue()
    const [first, second] = await receiver.waitFor(2)
    expect(second!.body).toBe(first!.body)
    expect(JSON.parse(first!.body)).toMatchObject({
      event: { type: 'order-created', uuid: deliveries[0]!.uuid.replaceAll('-', '') },
      data: { id: 1 },
      version: 2,
    })
  })

  test('eventUuid re-sends the same delivery; a delivered one only when forced', async () => {
    const whisperer = await subscribed()
    const { deliveries } = await whisperer.deliverEvent({ id: 1 }, 'order-created', { async: false })
    const uuid = deliveries[0]!.uuid
    await expect(whisperer.deliverEvent(null, 'order-created', { eventUuid: uuid })).rejects.toMatchObject({
      code: 'event_already_delivered',
    })
    const again = await whisperer.deliverEvent(null, 'order-created', {
      eventUuid: uuid.replaceAll('-', ''),
      force: true,
      async: false,
    })
    expect(again.outcomes![0]).toMatchObject({ uuid, delivered: true })
    expect(receiver.requests).toHaveLength(2)
    expect(receiver.requests[1]!.body).toBe(receiver.requests[0]!.body)
    expect((await whisperer.deliveries.attempts('acme', uuid)).map((a) => a.attempt)).toEqual([1, 2])

    // Queued re-send: the workers send it.
    await whisperer.deliverEvent(null, 'order-created', { eventUuid: uuid, force: true })
    expect((await whisperer.deliveries.get('acme', uuid)).status).toBe('pending')
    await whisperer.processDue()
    expect(receiver.requests).toHaveLength(3)
    await expect(
      whisperer.deliverEvent(null, 'order-created', { eventUuid: '00000000-0000-4000-8000-000000000000' }),
    ).rejects.toMatchObject({ code: 'delivery_not_found' })
  })

  test('manual retry follows dj-whisperer: refused while retrying unless forced, refused once delivered', async () => {
    receiver.respond(() => ({ status: 500 }))
    const whisperer = await db.whisperer({ maxAttempts: 2 })
    whisperer.eventTypes.register({ type: 'order-created' })
    await whisperer.webhooks.create('acme', {
      eventType: 'order-created',
      targetUrl: receiver.url,
      retryCountdownConfig: { choice: 'fixed', kwargs: { seconds: 3600 } },
    })
    const { deliveries } = await whisperer.deliverEvent({}, 'order-created')
    const uuid = deliveries[0]!.uuid
    await whisperer.processDue()
    await expect(whisperer.deliveries.retry('acme', uuid)).rejects.toMatchObject({
      code: 'event_still_in_progress',
    })
    await expect(whisperer.deliveries.retry('globex', uuid)).rejects.toMatchObject({
      code: 'delivery_not_found',
    })
    const forced = await whisperer.deliveries.retry('acme', uuid, { force: true })
    expect(forced).toMatchObject({ delivered: false, status: 'failed', responseStatus: 500 })

    receiver.respond(() => ({ status: 200, body: 'ok' }))
    const retried = await whisperer.deliveries.retry('acme', uuid)
    expect(retried).toMatchObject({
      delivered: true,
      status: 'delivered',
      responseStatus: 200,
      responseBody: 'ok',
    })
    await expect(whisperer.deliveries.retry('acme', uuid, { force: true })).rejects.toMatchObject({
      code: 'event_already_delivered',
    })
    expect((await whisperer.deliveries.attempts('acme', uuid)).map((a) => a.status)).toEqual([500, 500, 200])
  })

  test('a retry of a deactivated webhook is sent once; a failure is cancelled, not rescheduled', async () => {
    receiver.respond(() => ({ status: 500 }))
    const whisperer = await subscribed()
    const [webhook] = await whisperer.webhooks.list('acme')
    const { deliveries } = await whisperer.deliverEvent({}, 'order-created')
    await whisperer.webhooks.update('acme', webhook!.id, { isActive: false })
    const uuid = deliveries[0]!.uuid
    expect((await whisperer.deliveries.get('acme', uuid)).status).toBe('cancelled')
    const outcome = await whisperer.deliveries.retry('acme', uuid)
    expect(outcome).toMatchObject({ status: 'cancelled', delivered: false, responseStatus: 500 })
    expect((await whisperer.deliveries.get('acme', uuid)).status).toBe('cancelled')
    expect(receiver.requests).toHaveLength(1)
  })

  test('deliveries list and filter within the owner scope', async () => {
    const whisperer = await subscribed(2)
    whisperer.eventTypes.register({ type: 'order-deleted' })
    await whisperer.webhooks.create('globex', { eventType: 'order-deleted', targetUrl: receiver.url })
    await whisperer.deliverEvent({ id: 1 }, 'order-created')
    await whisperer.deliverEvent({ id: 2 }, 'order-deleted')
    expect(await whisperer.deliveries.list('acme')).toHaveLength(2)
    expect(await whisperer.deliveries.list('globex')).toHaveLength(1)
    expect(await whisperer.deliveries.list({ owner: 'root', admin: true })).toHaveLength(3)
    expect(
      await whisperer.deliveries.list('acme', { eventType: 'ORDER-CREATED', status: 'pending' }),
    ).toHaveLength(2)
    expect(await whisperer.deliveries.list('acme', { unattempted: true })).toHaveLength(2)
    await whisperer.processDue()
    expect(await whisperer.deliveries.list('acme', { status: 'delivered', lastStatus: 200 })).toHaveLength(2)
    expect(await whisperer.deliveries.list('acme', { unattempted: true })).toEqual([])
    expect(await whisperer.deliveries.list('acme', { uuid: 'not-a-uuid' })).toEqual([])
    const [newest] = await whisperer.deliveries.list('acme', { limit: 1 })
    expect(await whisperer.deliveries.list('acme', { beforeId: newest!.id })).toHaveLength(1)
  })
})
