import { afterEach, beforeEach, expect, test } from 'vitest'
import { ManualClock } from '../support/clock.ts'
import { forEachDatabase } from '../support/databases.ts'
import { type Receiver, startReceiver } from '../support/receiver.ts'

const day = 24 * 3600 * 1000

forEachDatabase((db) => {
  let receiver: Receiver
  beforeEach(async () => {
    receiver = await startReceiver()
  })
  afterEach(() => receiver.close())

  test('retention deletes finished deliveries, their attempts and events; unfinished ones stay', async () => {
    const clock = new ManualClock()
    const whisperer = await db.whisperer({ clock: clock.now, retentionDays: 7 })
    const schema = whisperer.config.schema
    whisperer.eventTypes.register({ type: 'tick' })
    await whisperer.webhooks.create('acme', {
      eventType: 'tick',
      targetUrl: `${receiver.url}?fast`,
      config: { tier: 'fast' },
    })
    await whisperer.webhooks.create('acme', {
      eventType: 'tick',
      targetUrl: `${receiver.url}?slow`,
      retryCountdownConfig: { choice: 'fixed', kwargs: { seconds: 30 * 24 * 3600 } },
    })
    receiver.respond((request) => ({ status: request.path.endsWith('fast') ? 200 : 500 }))
    // Event a: delivered to one webhook, still retrying (monthly) to the other. Event b: delivered.
    await whisperer.deliverEvent({ n: 'a' }, 'tick')
    const b = await whisperer.deliverEvent({ n: 'b' }, 'tick', { configFilter: { tier: 'fast' } })
    await whisperer.processDue()

    clock.advance(8 * day)
    receiver.respond(() => ({ status: 200 }))
    await whisperer.deliverEvent({ n: 'c' }, 'tick')
    await whisperer.processDue()

    expect(await whisperer.runMaintenance()).toBe(2)
    const remaining = await db.sql<{ data: string; status: string }>(
      `SELECT e.data::text AS data, d.status FROM "${schema}".deliveries d
       JOIN "${schema}".events e ON e.id = d.event_id ORDER BY d.id`,
    )
    expect(remaining).toEqual([
      { data: '{"n":"a"}', status: 'pending' },
      { data: '{"n":"c"}', status: 'delivered' },
      { data: '{"n":"c"}', status: 'delivered' },
    ])
    const events = await db.sql<{ type: string; data: string }>(
      `SELECT type, data::text AS data FROM "${schema}".events ORDER BY id`,
    )
    // The slow webhook's operational events, stored though nobody receives them: the old
    // `failing` expired with the history; the recent `recovered` stays.
    expect(events.map((e) => (e.type === 'tick' ? e.data : e.type))).toEqual([
      '{"n":"a"}',
      '{"n":"c"}',
      'whisperer.webhook.recovered',
    ])

    // Attempts go by whole weeks: b's attempt stays until its week's partition is past the cutoff.
    const attemptsOf = (uuid: string) =>
      db.sql(
        `SELECT 1 FROM "${schema}".attempts a JOIN "${schema}".deliveries d ON d.id = a.delivery_id
         WHERE d.uuid = $1`,
        [uuid],
      )
    const partitions = async () =>
      (
        await db.sql<{ name: string }>(
          `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           WHERE i.inhparent = '"${schema}".attempts'::regclass ORDER BY c.relname`,
        )
      ).map((row) => row.name)
    expect(await partitions()).toContain('attempts_20251229')
    const orphan = `SELECT count(*)::int AS n FROM "${schema}".attempts WHERE created_at < '2026-01-05'`
    expect(await db.sql(orphan)).toEqual([{ n: 3 }])

    clock.advance(4 * day)
    expect(await whisperer.runMaintenance()).toBe(0)
    expect(await partitions()).not.toContain('attempts_20251229')
    // Partitions keep being made ahead of the clock.
    expect(await partitions()).toContain('attempts_20260202')
    expect(await db.sql(orphan)).toEqual([{ n: 0 }])
    expect(await attemptsOf(b.deliveries[0]!.uuid)).toEqual([])
    expect(await db.sql(`SELECT 1 FROM "${schema}".attempts`)).toHaveLength(2)
    // Expired attempts do not expire their delivery: the one still retrying stays.
    const statuses = await db.sql<{ status: string }>(`SELECT status FROM "${schema}".deliveries ORDER BY id`)
    expect(statuses.map((row) => row.status)).toEqual(['pending', 'delivered', 'delivered'])
  })

  test('once everything has expired, nothing is left', async () => {
    const clock = new ManualClock()
    const whisperer = await db.whisperer({ clock: clock.now, retentionDays: 1 })
    whisperer.eventTypes.register({ type: 'tick' })
    await whisperer.webhooks.create('acme', { eventType: 'tick', targetUrl: receiver.url })
    for (let i = 0; i < 25; i += 1) await whisperer.deliverEvent({ i }, 'tick')
    await whisperer.processDue()
    clock.advance(2 * day)
    const schema = whisperer.config.schema
    expect(await whisperer.runMaintenance()).toBe(25)
    expect(await db.sql(`SELECT 1 FROM "${schema}".events`)).toEqual([])
    expect(await db.sql(`SELECT 1 FROM "${schema}".deliveries`)).toEqual([])
    clock.advance(7 * day)
    await whisperer.runMaintenance()
    expect(await db.sql(`SELECT 1 FROM "${schema}".attempts`)).toEqual([])
  })

  test('an attempt in a week without a partition yet is still recorded', async () => {
    const clock = new ManualClock()
    const whisperer = await db.whisperer({ clock: clock.now })
    whisperer.eventTypes.register({ type: 'tick' })
    await whisperer.webhooks.create('acme', { eventType: 'tick', targetUrl: receiver.url })
    // Ten weeks on, with no maintenance run in between: no partition exists for this week.
    clock.advance(70 * day)
    const { deliveries } = await whisperer.deliverEvent({}, 'tick')
    await whisperer.processDue()
    const attempts = await whisperer.deliveries.attempts('acme', deliveries[0]!.uuid)
    expect(attempts.map((a) => a.createdAt)).toEqual([clock.now()])
  })
})
