/**
 * Whisperer through PgBouncer (1.18, Debian 12's) in transaction mode, in front of the suite's
 * PostgreSQL: each statement (or transaction) may run on another server connection, so named
 * prepared statements and LISTEN do not survive. With `preparedStatements: false`, publishing,
 * claiming and delivering work; with `listenUrl` straight to the server, a worker in another
 * process is woken at once; without it, that worker finds new deliveries by polling.
 * Skipped, and said to be, without PgBouncer's binary or a PostgreSQL server.
 */
import { afterAll, afterEach, beforeAll, beforeEach, expect, inject, test } from 'vitest'
import type { WhispererOptions } from '../../src/config.ts'
import type { Logger } from '../../src/logger.ts'
import type { Database } from '../../src/storage/database.ts'
import { postgresDatabase } from '../../src/storage/postgres-database.ts'
import { createWhisperer, type Whisperer } from '../../src/whisperer.ts'
import { schemaName, testDefaults } from '../support/databases.ts'
import { findPgbouncer, type Pgbouncer, startPgbouncer } from '../support/pgbouncer.ts'
import { type Receiver, startReceiver } from '../support/receiver.ts'

const serverUrl = inject('postgresUrl')
const binary = findPgbouncer()
const skipReason = !binary
  ? 'PgBouncer is not installed (Debian: apt-get install pgbouncer)'
  : !serverUrl
    ? 'no PostgreSQL server'
    : null
if (skipReason && process.env.WHISPERER_REQUIRE_PGBOUNCER === '1' && !binary)
  throw new Error('WHISPERER_REQUIRE_PGBOUNCER=1 but PgBouncer is not installed')
if (skipReason) console.warn(`!! test/storage/pgbouncer.test.ts is SKIPPED: ${skipReason}`)

let bouncer: Pgbouncer | null = null
beforeAll(async () => {
  // One server connection: two clients' statements share it, as a busy pool's do.
  if (!skipReason)
    bouncer = await startPgbouncer(binary!, serverUrl!, { poolMode: 'transaction', poolSize: 1 })
})
afterAll(() => bouncer?.stop())

/** A logger that keeps what was logged as errors. */
function recordingLogger(): Logger & { errors: string[] } {
  const errors: string[] = []
  return {
    errors,
    debug() {},
    info() {},
    warn() {},
    error: (_fields, message) => errors.push(String(message)),
  }
}

const opened: Whisperer[] = []
let receiver: Receiver
let schema: string
beforeEach(async (context) => {
  if (skipReason) context.skip(skipReason)
  receiver = await startReceiver()
  schema = schemaName()
})
afterEach(async () => {
  await Promise.all(opened.splice(0).map((w) => w.close()))
  if (bouncer) {
    const cleaner = await createWhisperer({ ...testDefaults, database: serverUrl!, schema, migrate: false })
    await cleaner.database.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
    await cleaner.close()
  }
  await receiver?.close()
})

async function open(options: WhispererOptions): Promise<Whisperer> {
  const whisperer = await createWhisperer({ ...testDefaults, database: bouncer!.url, schema, ...options })
  opened.push(whisperer)
  whisperer.eventTypes.register({ type: 'order.paid' })
  return whisperer
}

test('named prepared statements break: a second process prepares the same name on the one server connection', async () => {
  const first = await open({})
  const second = await open({})
  await first.webhooks.create('acme', { eventType: 'order.paid', targetUrl: receiver.url })
  await first.deliverEvent({ order: 1 }, 'order.paid')
  await expect(second.deliverEvent({ order: 2 }, 'order.paid')).rejects.toThrow(
    /prepared statement "whisperer_\w+" already exists/,
  )
})

test('with preparedStatements: false, two processes publish through the one server connection', async () => {
  const first = await open({ preparedStatements: false })
  const second = await open({ preparedStatements: false })
  await first.webhooks.create('acme', { eventType: 'order.paid', targetUrl: receiver.url })
  await first.deliverEvent({ order: 1 }, 'order.paid')
  const result = await second.deliverEvent({ order: 2 }, 'order.paid')
  expect(result.deliveries).toHaveLength(1)
})

/** A Database through PgBouncer that counts the notifications its LISTEN receives. */
function countingNotifications(database: Database): Database & { notified: number } {
  const counted = Object.assign(Object.create(null), database, { notified: 0 }) as Database & {
    notified: number
  }
  counted.listen = (channel, onNotify) =>
    database.listen(channel, (payload) => {
      counted.notified += 1
      onNotify(payload)
    })
  return counted
}

test.each([
  {
    listen: 'on its own connection to listenUrl, straight to the server',
    direct: true,
    pollInterval: 60_000,
  },
  { listen: 'through the pooler, where it is lost: the worker polls', direct: false, pollInterval: 200 },
])(
  'publishes, claims and delivers with prepared statements off, the worker listening $listen',
  async ({ direct, pollInterval }) => {
    const publisherLog = recordingLogger()
    const workerLog = recordingLogger()
    const publisher = await open({ preparedStatements: false, logger: publisherLog })
    for (let i = 0; i < 2; i += 1)
      await publisher.webhooks.create('acme', { eventType: 'order.paid', targetUrl: `${receiver.url}/${i}` })
    // Another Whisperer, as in another process: nothing in the publisher wakes it, only LISTEN (or its poll).
    const database = countingNotifications(
      postgresDatabase(bouncer!.url, { prepare: false, ...(direct ? { listenUrl: serverUrl! } : {}) }),
    )
    const worker = await open({ database, pollInterval, logger: workerLog })
    await worker.start()
    const notifiedBefore = database.notified
    const published = await Promise.all(
      Array.from({ length: 10 }, (_, i) => publisher.deliverEvent({ order: i }, 'order.paid')),
    )
    expect(published.map((result) => result.deliveries.length)).toEqual(Array(10).fill(2))
    await receiver.waitFor(20, 20_000)
    // The notification of the publish reached the worker's LISTEN (a poll of a minute did not find them).
    if (direct) expect(database.notified).toBeGreaterThan(notifiedBefore)
    for (let i = 0; i < 100; i += 1) {
      const { rows } = await publisher.database.query<{ n: string }>(
        `SELECT count(*) AS n FROM "${schema}".deliveries WHERE status = 'delivered'`,
      )
      if (Number(rows[0]?.n) === 20) break
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    const { rows } = await publisher.database.query<{ status: string; n: string }>(
      `SELECT status, count(*) AS n FROM "${schema}".deliveries GROUP BY status`,
    )
    expect(rows.map((r) => [r.status, Number(r.n)])).toEqual([['delivered', 20]])
    expect(receiver.requests).toHaveLength(20)
    expect([...publisherLog.errors, ...workerLog.errors]).toEqual([])
    await worker.close()
    await database.close()
  },
)
