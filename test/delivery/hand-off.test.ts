import { afterEach, beforeEach, expect, test } from 'vitest'
import { openDatabase } from '../../src/storage/open-database.ts'
import { storeStatements } from '../../src/storage/store.ts'
import type { Whisperer } from '../../src/whisperer.ts'
import { countingDatabase } from '../support/counting-database.ts'
import { forEachDatabase, type TestDatabase } from '../support/databases.ts'
import { type Receiver, startReceiver } from '../support/receiver.ts'

async function statuses(db: TestDatabase, whisperer: Whisperer): Promise<Record<string, number>> {
  const rows = await db.sql<{ status: string; n: number }>(
    `SELECT status, count(*)::int AS n FROM "${whisperer.config.schema}".deliveries GROUP BY status`,
  )
  return Object.fromEntries(rows.map((row) => [row.status, row.n]))
}

forEachDatabase((db) => {
  let receiver: Receiver
  beforeEach(async () => {
    receiver = await startReceiver()
    // Slow answers: what the worker holds stays held while the test looks.
    receiver.respond(() => ({ delayMs: 400 }))
  })
  afterEach(() => receiver.close())

  async function setUp(options: { start: boolean }) {
    const { database, schema } = await db.source()
    const counting = countingDatabase(await openDatabase(database!))
    const whisperer = await db.whisperer({
      database: counting,
      schema,
      concurrency: 4,
      perHostConcurrency: 4,
      claimBatch: 4,
    })
    whisperer.eventTypes.register({ type: 'tick' })
    for (let i = 0; i < 10; i += 1)
      await whisperer.webhooks.create('acme', { eventType: 'tick', targetUrl: `${receiver.url}/${i}` })
    if (options.start) await whisperer.start()
    const claimText = storeStatements(schema).get('deliveryClaim')
    const claims = () => counting.statements.filter((text) => text === claimText).length
    return { whisperer, counting, claims }
  }

  test('a publish hands its worker what it has room for, claimed as they are stored; the rest wait for claims; each is sent once', async () => {
    const { whisperer, counting, claims } = await setUp({ start: true })
    const before = claims()
    const { deliveries } = await whisperer.deliverEvent({ n: 1 }, 'tick')
    expect(deliveries).toHaveLength(10)
    // On PGlite, no other process can claim: the first 4 (the worker's room) were stored claimed,
    // without a claim statement, and the worker holds them, so no claim can take the others yet.
    // On PostgreSQL every delivery is stored pending, for whichever worker claims first.
    if (db.kind === 'pglite') {
      expect(await statuses(db, whisperer)).toEqual({ delivering: 4, pending: 6 })
      expect(claims()).toBe(before)
    }
    const received = await receiver.waitFor(10, 20_000)
    await whisperer.close()
    await counting.close()
    expect(new Set(received.map((r) => r.headers['webhook-id'])).size).toBe(10)
    expect(await statuses(db, whisperer)).toEqual({ delivered: 10 })
    expect(receiver.requests).toHaveLength(10)
  })

  test('without a running worker, a publish claims nothing', async () => {
    const { whisperer, counting } = await setUp({ start: false })
    await whisperer.deliverEvent({ n: 1 }, 'tick')
    expect(await statuses(db, whisperer)).toEqual({ pending: 10 })
    expect(await whisperer.processDue()).toBe(10)
    expect(await statuses(db, whisperer)).toEqual({ delivered: 10 })
    await whisperer.close()
    await counting.close()
  })
})
