import { PGlite } from '@electric-sql/pglite'
import { eq, inArray, sql } from 'drizzle-orm'
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres'
import {
  integer,
  type PgDatabase,
  type PgQueryResultHKT,
  pgSchema,
  serial,
  text,
  timestamp,
} from 'drizzle-orm/pg-core'
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite'
import type pg from 'pg'
import { afterEach, beforeEach, expect, test } from 'vitest'
import { z } from 'zod'
import { drizzleTx, withModelHooks } from '../../src/model-hooks/drizzle.ts'
import type { Whisperer } from '../../src/whisperer.ts'
import { forEachDatabase } from '../support/databases.ts'
import { type Receiver, startReceiver } from '../support/receiver.ts'

/** The application's tables, in the test's own schema. */
function appTables(schema: string) {
  const app = pgSchema(schema)
  return {
    users: app.table('app_users', {
      id: serial('id').primaryKey(),
      email: text('email').notNull().unique(),
      fullName: text('full_name'),
      joinedAt: timestamp('joined_at', { withTimezone: true }).notNull().defaultNow(),
    }),
    notes: app.table('app_notes', { id: serial('id').primaryKey(), userId: integer('user_id') }),
  }
}

forEachDatabase((db) => {
  let receiver: Receiver
  beforeEach(async () => {
    receiver = await startReceiver()
  })
  afterEach(() => receiver.close())

  async function setup() {
    const whisperer = await db.whisperer()
    const schema = whisperer.config.schema
    for (const type of ['user-created', 'user-updated', 'user-deleted']) {
      whisperer.eventTypes.register({ type })
      await whisperer.webhooks.create('acme', { eventType: type, targetUrl: `${receiver.url}?${type}` })
    }
    await db.sql(`CREATE TABLE "${schema}".app_users (id serial PRIMARY KEY, email text NOT NULL UNIQUE,
      full_name text, joined_at timestamptz NOT NULL DEFAULT now())`)
    await db.sql(`CREATE TABLE "${schema}".app_notes (id serial PRIMARY KEY, user_id int)`)
    const tables = appTables(schema)
    const raw = await db.raw()
    const orm: PgDatabase<PgQueryResultHKT> =
      raw instanceof PGlite ? drizzlePglite(raw) : drizzlePg(raw as pg.Pool)
    const hooked = withModelHooks(whisperer, orm, [
      { table: tables.users, insert: 'user-created', update: 'user-updated', delete: 'user-deleted' },
    ])
    return { whisperer, schema, orm, hooked, ...tables }
  }

  /** Sends what is due, and returns each request the receiver got: its event type and data. */
  async function delivered(whisperer: Whisperer): Promise<{ type: string; data: Record<string, unknown> }[]> {
    await whisperer.processDue()
    return receiver.requests.map((request) => ({
      type: String(request.headers['x-whisperer-event']),
      data: JSON.parse(request.body).data,
    }))
  }

  test('a write that rolls back delivers nothing; one that commits delivers its row once', async () => {
    const { whisperer, schema, hooked, users } = await setup()
    await expect(
      hooked.transaction(async (tx) => {
        await tx.insert(users).values({ email: 'ada@example.com' })
        tx.rollback()
      }),
    ).rejects.toThrow(/Rollback/)
    await expect(
      hooked.transaction(async (tx) => {
        await tx.insert(users).values({ email: 'ada@example.com' })
        await tx.execute(sql`SELECT 1 / 0`)
      }),
    ).rejects.toThrow(/SELECT 1 \/ 0/)
    expect(await db.sql(`SELECT * FROM "${schema}".events`)).toEqual([])
    expect(await db.sql(`SELECT * FROM "${schema}".deliveries`)).toEqual([])
    expect(await delivered(whisperer)).toEqual([])

    // Outside a transaction, the write runs in one of its own, and resolves as it would unhooked.
    const result = await hooked.insert(users).values({ email: 'ada@example.com', fullName: 'Ada' })
    expect(result).toMatchObject(db.kind === 'pglite' ? { affectedRows: 1 } : { rowCount: 1 })
    const [row] = await db.sql<{ id: number; joined_at: Date }>(`SELECT * FROM "${schema}".app_users`)
    expect(await delivered(whisperer)).toEqual([
      {
        type: 'user-created',
        data: {
          id: row!.id,
          email: 'ada@example.com',
          fullName: 'Ada',
          joinedAt: new Date(row!.joined_at).toISOString(),
        },
      },
    ])
    expect(await whisperer.processDue()).toBe(0)
    expect(await db.sql(`SELECT * FROM "${schema}".deliveries`)).toHaveLength(1)
  })

  test('updates fire with the rows after, deletes with the rows before, one event per row', async () => {
    const { whisperer, hooked, users } = await setup()
    const created = await hooked
      .insert(users)
      .values([{ email: 'ada@example.com' }, { email: 'alan@example.com' }, { email: 'grace@example.com' }])
      .returning({ id: users.id, email: users.email })
    expect(created.map((row) => Object.keys(row))).toEqual([
      ['id', 'email'],
      ['id', 'email'],
      ['id', 'email'],
    ])
    const [ada, alan, grace] = created
    await hooked.transaction(async (tx) => {
      await tx
        .update(users)
        .set({ fullName: 'Pioneer' })
        .where(inArray(users.id, [ada!.id, alan!.id]))
      const deleted = await tx.delete(users).where(eq(users.id, grace!.id)).returning()
      expect(deleted).toEqual([expect.objectContaining({ id: grace!.id, email: 'grace@example.com' })])
    })
    await hooked.update(users).set({ fullName: 'Nobody' }).where(eq(users.id, -1))
    const requests = await delivered(whisperer)
    expect(requests.map(({ type, data }) => [type, data.email, data.fullName]).sort()).toEqual([
      ['user-created', 'ada@example.com', null],
      ['user-created', 'alan@example.com', null],
      ['user-created', 'grace@example.com', null],
      ['user-deleted', 'grace@example.com', null],
      ['user-updated', 'ada@example.com', 'Pioneer'],
      ['user-updated', 'alan@example.com', 'Pioneer'],
    ])
    expect(requests.every(({ data }) => typeof data.joinedAt === 'string')).toBe(true)
  })

  test('an upsert fires the insert type for rows it inserts and the update type for rows it updates', async () => {
    const { whisperer, hooked, users } = await setup()
    await hooked.insert(users).values({ email: 'ada@example.com', fullName: 'Ada' })
    await hooked.transaction(async (tx) => {
      const rows = await tx
        .insert(users)
        .values([
          { email: 'ada@example.com', fullName: 'Ada Lovelace' },
          { email: 'alan@example.com', fullName: 'Alan' },
        ])
        .onConflictDoUpdate({ target: users.email, set: { fullName: sql`excluded.full_name` } })
        .returning({ email: users.email })
      expect(rows).toEqual([{ email: 'ada@example.com' }, { email: 'alan@example.com' }])
    })
    await hooked.insert(users).values({ email: 'ada@example.com' }).onConflictDoNothing()
    const requests = await delivered(whisperer)
    expect(requests.map(({ type, data }) => [type, data.email, data.fullName]).sort()).toEqual([
      ['user-created', 'ada@example.com', 'Ada'],
      ['user-created', 'alan@example.com', 'Alan'],
      ['user-updated', 'ada@example.com', 'Ada Lovelace'],
    ])
  })

  test('a write whose event is refused fails and is rolled back; other tables and reads are untouched', async () => {
    const { whisperer, schema, hooked, orm, users, notes } = await setup()
    whisperer.eventTypes.register({ type: 'user-renamed', schema: z.object({ fullName: z.string() }) })
    const renames = withModelHooks(whisperer, orm, [{ table: users, update: 'user-renamed' }])
    await hooked.insert(users).values({ email: 'ada@example.com' })
    await expect(renames.update(users).set({ fullName: null })).rejects.toMatchObject({
      code: 'invalid_event_data',
    })
    expect(await db.sql(`SELECT full_name FROM "${schema}".app_users`)).toEqual([{ full_name: null }])

    await hooked.insert(notes).values({ userId: 1 })
    expect(await hooked.select({ email: users.email }).from(users)).toEqual([{ email: 'ada@example.com' }])
    expect(() => hooked.delete(users).prepare('delete_users')).toThrow(/cannot be prepared/)
    expect(() => withModelHooks(whisperer, orm, [{ table: users }, { table: users }])).toThrow(
      /two model hooks/,
    )
    expect(() => withModelHooks(whisperer, hooked, [{ table: notes }])).toThrow(/model hooks already/)
    expect(() => withModelHooks(whisperer, orm, [{ table: notes, insert: 'note-created' }])).toThrow(
      /"note-created"/,
    )
    expect((await delivered(whisperer)).map(({ type }) => type)).toEqual(['user-created'])
  })

  test('writes through db.with(...) fire too', async () => {
    const { whisperer, hooked, users } = await setup()
    await hooked.insert(users).values([{ email: 'ada@example.com' }, { email: 'alan@example.com' }])
    const ada = hooked
      .$with('ada')
      .as(hooked.select({ id: users.id }).from(users).where(eq(users.email, 'ada@example.com')))
    await hooked
      .with(ada)
      .update(users)
      .set({ fullName: 'Ada' })
      .where(inArray(users.id, hooked.select({ id: ada.id }).from(ada)))
    const requests = await delivered(whisperer)
    expect(requests.filter(({ type }) => type === 'user-updated').map(({ data }) => data.email)).toEqual([
      'ada@example.com',
    ])
  })

  test('drizzleTx puts deliverEvent in a Drizzle transaction, customized payloads included', async () => {
    const { whisperer, schema, orm } = await setup()
    whisperer.eventTypes.register({
      type: 'order-created',
      customizePayload: (body) => ({ ...body, source: 'shop' }),
    })
    await whisperer.webhooks.create('acme', { eventType: 'order-created', targetUrl: receiver.url })
    await expect(
      orm.transaction(async (tx) => {
        await whisperer.deliverEvent({ id: 1 }, 'order-created', { tx: drizzleTx(tx) })
        tx.rollback()
      }),
    ).rejects.toThrow(/Rollback/)
    expect(await db.sql(`SELECT * FROM "${schema}".deliveries`)).toEqual([])
    await orm.transaction(async (tx) => {
      await whisperer.deliverEvent({ id: 2 }, 'order-created', { tx: drizzleTx(tx) })
    })
    expect(await whisperer.processDue()).toBe(1)
    expect(JSON.parse(receiver.requests[0]!.body)).toMatchObject({ data: { id: 2 }, source: 'shop' })
  })
})
