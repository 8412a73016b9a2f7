import { EventEmitter } from 'node:events'
import { PGlite } from '@electric-sql/pglite'
import type pg from 'pg'
import { afterEach, beforeEach, expect, test } from 'vitest'
import { z } from 'zod'
import type { Logger } from '../../src/logger.ts'
import { bindEmitter, type EmittedEvent } from '../../src/model-hooks/emitter.ts'
import type { Queryable } from '../../src/storage/database.ts'
import { forEachDatabase, quietLogger } from '../support/databases.ts'
import { type Receiver, startReceiver } from '../support/receiver.ts'

forEachDatabase((db) => {
  let receiver: Receiver
  beforeEach(async () => {
    receiver = await startReceiver()
  })
  afterEach(() => receiver.close())

  async function subscribed(logger: Logger = quietLogger) {
    const whisperer = await db.whisperer({ logger })
    whisperer.eventTypes.register({
      type: 'user-created',
      serialize: (user: { id: number; email: string; password: string }) => ({
        id: user.id,
        email: user.email,
      }),
      schema: z.object({ id: z.int().positive(), email: z.string() }),
    })
    await whisperer.webhooks.create('acme', { eventType: 'user-created', targetUrl: receiver.url })
    return whisperer
  }

  /** Calls every listener of `name` and waits for them, as an emitter whose emit awaits would. */
  function emitAndWait(emitter: EventEmitter, name: string, ...args: unknown[]): Promise<unknown[]> {
    return Promise.all(emitter.listeners(name).map((listener) => listener(...args)))
  }

  test('an emitted event is delivered by the worker; after unbind nothing is listening', async () => {
    const whisperer = await subscribed()
    const users = new EventEmitter()
    const unbind = bindEmitter(whisperer, users, { 'user.created': 'user-created' })
    await whisperer.start()
    expect(users.emit('user.created', { id: 7, email: 'ada@example.com', password: 'hunter2' })).toBe(true)
    const [request] = await receiver.waitFor(1)
    expect(JSON.parse(request!.body).data).toEqual({ id: 7, email: 'ada@example.com' })

    unbind()
    unbind()
    expect(users.listenerCount('user.created')).toBe(0)
    expect(users.emit('user.created', { id: 8, email: 'alan@example.com', password: '' })).toBe(false)
    await whisperer.close()
    expect(receiver.requests).toHaveLength(1)
    expect(await db.sql(`SELECT * FROM "${whisperer.config.schema}".deliveries`)).toHaveLength(1)
  })

  test('the instance and the transaction can come from the emitted arguments', async () => {
    const whisperer = await subscribed()
    const orders = new EventEmitter()
    bindEmitter(
      whisperer,
      orders,
      { 'user.saved': 'user-created' },
      {
        instance: (change) => (change as { after: unknown }).after,
        tx: (_change, context) => (context as { tx?: Queryable } | undefined)?.tx,
      },
    )
    const raw = await db.raw()
    for (const [id, rollback] of [
      [1, true],
      [2, false],
    ] as const) {
      const change = { after: { id, email: `user${id}@example.com`, password: '' } }
      if (raw instanceof PGlite) {
        await raw.transaction(async (tx) => {
          await emitAndWait(orders, 'user.saved', change, { tx })
          if (rollback) await tx.rollback()
        })
      } else {
        const client = await (raw as pg.Pool).connect()
        await client.query('BEGIN')
        await emitAndWait(orders, 'user.saved', change, { tx: client })
        await client.query(rollback ? 'ROLLBACK' : 'COMMIT')
        client.release()
      }
    }
    expect(await whisperer.processDue()).toBe(1)
    expect(receiver.requests.map((request) => JSON.parse(request.body).data.id)).toEqual([2])
  })

  test('a failed delivery goes to onError, else to an error listener, else to the log; never thrown', async () => {
    const logged: unknown[] = []
    const whisperer = await subscribed({ ...quietLogger, error: (object) => logged.push(object) })
    const invalid = { id: -1, email: 'x', password: '' }

    const failures: [unknown, EmittedEvent][] = []
    const first = new EventEmitter()
    bindEmitter(
      whisperer,
      first,
      { created: 'user-created' },
      { onError: (e, event) => failures.push([e, event]) },
    )
    await emitAndWait(first, 'created', invalid)
    expect(failures).toEqual([
      [
        expect.objectContaining({ code: 'invalid_event_data' }),
        { name: 'created', type: 'user-created', args: [invalid] },
      ],
    ])

    const second = new EventEmitter()
    const errors: unknown[] = []
    second.on('error', (error) => errors.push(error))
    bindEmitter(whisperer, second, { created: 'user-created' })
    await emitAndWait(second, 'created', invalid)
    expect(errors).toEqual([expect.objectContaining({ code: 'invalid_event_data' })])

    const third = new EventEmitter()
    bindEmitter(whisperer, third, { created: 'user-created' })
    await emitAndWait(third, 'created', invalid)
    expect(logged).toEqual([expect.objectContaining({ event: 'created', type: 'user-created' })])

    const fourth = new EventEmitter()
    bindEmitter(whisperer, fourth, { created: 'user-created' }, { onError: () => JSON.parse('{') })
    await emitAndWait(fourth, 'created', invalid)
    expect(logged[1]).toMatchObject({ err: expect.any(SyntaxError), cause: { code: 'invalid_event_data' } })

    expect(() => bindEmitter(whisperer, third, { created: 'user-deleted' })).toThrow(/"user-deleted"/)
    expect(() => bindEmitter(whisperer, third, { error: 'user-created' })).toThrow(/'error' event/)
    expect(await db.sql(`SELECT * FROM "${whisperer.config.schema}".deliveries`)).toEqual([])
  })
})
