import { PGlite } from '@electric-sql/pglite'
import type pg from 'pg'
import { afterEach, beforeEach, expect, test } from 'vitest'
import type { Queryable } from '../../src/storage/database.ts'
import type { Whisperer } from '../../src/whisperer.ts'
import { apiOf, expectError } from '../api/support.ts'
import { ManualClock } from '../support/clock.ts'
import { forEachDatabase, onPostgres } from '../support/databases.ts'
import { type Receiver, startReceiver } from '../support/receiver.ts'
import { rejection } from '../support/rejection.ts'

forEachDatabase((db) => {
  let receiver: Receiver
  beforeEach(async () => {
    receiver = await startReceiver()
  })
  afterEach(() => receiver.close())

  async function subscribed(options: Parameters<typeof db.whisperer>[0] = {}): Promise<Whisperer> {
    const whisperer = await db.whisperer(options)
    whisperer.eventTypes.register({ type: 'order.created' })
    for (const path of ['a', 'b']) {
      await whisperer.webhooks.create('acme', {
        eventType: 'order.created',
        targetUrl: `${receiver.url}/${path}`,
      })
    }
    return whisperer
  }

  const count = async (whisperer: Whisperer, table: string) =>
    Number(
      (await db.sql<{ n: string }>(`SELECT count(*) AS n FROM ${whisperer.config.schema}.${table}`))[0]!.n,
    )

  test('a repeat of a key returns the first publish and stores nothing; other data is refused', async () => {
    const whisperer = await subscribed()
    const first = await whisperer.deliverEvent({ id: 1 }, 'order.created', { idempotencyKey: 'order-1' })
    expect(first.deliveries).toHaveLength(2)
    expect(first.idempotentReplay).toBeUndefined()
    const again = await whisperer.deliverEvent({ id: 1 }, 'order.created', { idempotencyKey: 'order-1' })
    expect(again).toEqual({
      eventUuid: first.eventUuid,
      deliveries: first.deliveries,
      idempotentReplay: true,
    })
    expect(await count(whisperer, 'events')).toBe(1)
    expect(await count(whisperer, 'deliveries')).toBe(2)
    // Synchronous repeats too: nothing is sent again.
    const sync = await whisperer.deliverEvent({ id: 1 }, 'order.created', {
      idempotencyKey: 'order-1',
      async: false,
    })
    expect(sync).toMatchObject({ eventUuid: first.eventUuid, idempotentReplay: true })
    expect(sync.outcomes).toBeUndefined()

    const reused = await rejection(
      whisperer.deliverEvent({ id: 2 }, 'order.created', { idempotencyKey: 'order-1' }),
    )
    expect(reused.code).toBe('idempotency_key_reused')
    const filtered = await rejection(
      whisperer.deliverEvent({ id: 1 }, 'order.created', {
        idempotencyKey: 'order-1',
        configFilter: { a: 1 },
      }),
    )
    expect(filtered.code).toBe('idempotency_key_reused')
    // Another owner's key of the same name is another key.
    const other = await whisperer.deliverEvent({ id: 2 }, 'order.created', {
      idempotencyKey: 'order-1',
      idempotencyOwner: 'globex',
    })
    expect(other.eventUuid).not.toBe(first.eventUuid)
    expect(await count(whisperer, 'events')).toBe(2)
    await whisperer.processDue()
    expect(receiver.requests).toHaveLength(4)
  })

  test('a key whose publish matched no webhook still answers repeats, with no event', async () => {
    const whisperer = await db.whisperer()
    whisperer.eventTypes.register({ type: 'nobody.listens' })
    const first = await whisperer.deliverEvent({}, 'nobody.listens', { idempotencyKey: 'k' })
    expect(first).toEqual({ eventUuid: null, deliveries: [] })
    await whisperer.webhooks.create('acme', { eventType: 'nobody.listens', targetUrl: receiver.url })
    // The webhook subscribed since: the repeat still answers as the first, and sends nothing.
    expect(await whisperer.deliverEvent({}, 'nobody.listens', { idempotencyKey: 'k' })).toEqual({
      eventUuid: null,
      deliveries: [],
      idempotentReplay: true,
    })
    expect(await count(whisperer, 'deliveries')).toBe(0)
  })

  test('keys live idempotencyTtl: maintenance deletes them, and an expired one publishes again', async () => {
    const clock = new ManualClock(Date.now())
    const whisperer = await subscribed({ clock: clock.now, idempotencyTtl: 3600 })
    const first = await whisperer.deliverEvent({ id: 1 }, 'order.created', { idempotencyKey: 'k' })
    clock.advance(3_599_000)
    expect(
      (await whisperer.deliverEvent({ id: 1 }, 'order.created', { idempotencyKey: 'k' })).idempotentReplay,
    ).toBe(true)
    clock.advance(2000)
    // Expired, not yet deleted: taken over by a new publish, even of other data.
    const second = await whisperer.deliverEvent({ id: 2 }, 'order.created', { idempotencyKey: 'k' })
    expect(second.eventUuid).not.toBe(first.eventUuid)
    expect(second.idempotentReplay).toBeUndefined()
    await whisperer.deliverEvent({ id: 3 }, 'order.created', { idempotencyKey: 'other' })
    expect(await count(whisperer, 'idempotency_keys')).toBe(2)
    // Deleted an hour past their lifetime, so that a publish that found one live can read it back.
    clock.advance(3_601_000)
    await whisperer.runMaintenance()
    expect(await count(whisperer, 'idempotency_keys')).toBe(2)
    clock.advance(3_600_000)
    await whisperer.runMaintenance()
    expect(await count(whisperer, 'idempotency_keys')).toBe(0)
  })

  test('a key in a caller’s transaction is stored with the event, or not at all', async () => {
    const whisperer = await subscribed()
    const raw = await db.raw()
    const publish = (tx: Queryable) =>
      whisperer.deliverEvent({ id: 1 }, 'order.created', { idempotencyKey: 'tx', tx })
    if (raw instanceof PGlite) {
      await raw
        .transaction(async (tx) => {
          await publish(tx)
          throw new Error('roll back')
        })
        .catch(() => {})
    } else {
      const client = await (raw as pg.Pool).connect()
      try {
        await client.query('BEGIN')
        await publish(client)
        await client.query('ROLLBACK')
      } finally {
        client.release()
      }
    }
    expect(await count(whisperer, 'idempotency_keys')).toBe(0)
    const after = await whisperer.deliverEvent({ id: 2 }, 'order.created', { idempotencyKey: 'tx' })
    expect(after.deliveries).toHaveLength(2)
    expect(after.idempotentReplay).toBeUndefined()
  })

  test('over the API: the header or the field, 200 with idempotent_replay, 409 for other data, per owner', async () => {
    const whisperer = await subscribed()
    const call = apiOf(whisperer)
    const publish = (
      json: object,
      headers: Record<string, string> = {},
      as: 'publisher' | 'admin' = 'publisher',
    ) => call('POST', 'events/', { as, json: { event_type: 'order.created', ...json }, headers })
    const first = await publish({ data: { id: 1 } }, { 'Idempotency-Key': 'abc' })
    expect(first.status).toBe(202)
    expect(first.body).toMatchObject({ idempotent_replay: false })
    expect(first.body.deliveries).toHaveLength(2)
    const again = await publish({ data: { id: 1 }, idempotency_key: 'abc' })
    expect(again.status).toBe(200)
    expect(again.body).toEqual({ ...first.body, idempotent_replay: true })
    expectError(
      await publish({ data: { id: 2 } }, { 'Idempotency-Key': 'abc' }),
      409,
      'idempotency_key_reused',
    )
    // The admin is another owner: its key "abc" is its own.
    expect((await publish({ data: { id: 2 } }, { 'Idempotency-Key': 'abc' }, 'admin')).status).toBe(202)
    const differ = await publish({ data: { id: 1 }, idempotency_key: 'abc' }, { 'Idempotency-Key': 'xyz' })
    expectError(differ, 400, 'validation_error')
    expect(Object.keys(differ.body.errors)).toEqual(['idempotency_key'])
    const long = await publish({ data: { id: 1 }, idempotency_key: 'k'.repeat(256) })
    expectError(long, 400, 'validation_error')
    expect(Object.keys(long.body.errors)).toEqual(['idempotency_key'])
    expectError(
      await publish({ data: { id: 1 } }, { 'Idempotency-Key': 'k'.repeat(256) }),
      400,
      'validation_error',
    )
  })
})

onPostgres((db) => {
  test('concurrent publishes of one key, from two processes’ worth of connections, make exactly one event', async () => {
    const source = await db.source()
    const publishers = await Promise.all([db.whisperer(source), db.whisperer(source)])
    for (const whisperer of publishers) whisperer.eventTypes.register({ type: 'order.created' })
    const receiver = await startReceiver()
    try {
      await publishers[0]!.webhooks.create('acme', { eventType: 'order.created', targetUrl: receiver.url })
      for (let round = 0; round < 10; round += 1) {
        const key = `race-${round}`
        const results = await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            publishers[i % 2]!.deliverEvent({ id: round }, 'order.created', { idempotencyKey: key }),
          ),
        )
        const uuids = new Set(results.map((result) => result.eventUuid))
        expect(uuids.size, key).toBe(1)
        expect(
          results.filter((result) => !result.idempotentReplay),
          key,
        ).toHaveLength(1)
      }
      const [row] = await db.sql<{ events: string; deliveries: string }>(
        `SELECT (SELECT count(*) FROM ${source.schema}.events) AS events,
          (SELECT count(*) FROM ${source.schema}.deliveries) AS deliveries`,
      )
      expect(row).toEqual({ events: '10', deliveries: '10' })
    } finally {
      await receiver.close()
    }
  })
})
