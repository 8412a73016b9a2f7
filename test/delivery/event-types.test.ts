import fc from 'fast-check'
import { afterEach, beforeEach, expect, test } from 'vitest'
import { WhispererError } from '../../src/core/errors.ts'
import { typeCandidates, typesMatch } from '../../src/core/type-patterns.ts'
import { migrate } from '../../src/storage/migrate.ts'
import { openDatabase } from '../../src/storage/open-database.ts'
import { countingDatabase } from '../support/counting-database.ts'
import { forEachDatabase } from '../support/databases.ts'
import { type Receiver, startReceiver } from '../support/receiver.ts'

// Types and patterns drawn from one small vocabulary, so that they often meet.
const segment = fc.constantFrom('a', 'b', 'ab', 'whisperer', 'x-1')
const typeName = fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('.'))

forEachDatabase((db) => {
  let receiver: Receiver
  beforeEach(async () => {
    receiver = await startReceiver()
  })
  afterEach(() => receiver.close())

  test('PostgreSQL lists the entries that match a type as the in-memory matcher does', async () => {
    const whisperer = await db.whisperer()
    const schema = whisperer.config.schema
    const types = fc.sample(typeName, { numRuns: 300 })
    const rows = await db.sql<{ patterns: string[] }>(
      `SELECT "${schema}".type_patterns(t) AS patterns FROM unnest($1::text[]) WITH ORDINALITY AS x(t, n) ORDER BY n`,
      [types],
    )
    expect(rows.map((row) => row.patterns)).toEqual(types.map(typeCandidates))
    // And an entry matches a type exactly when it is among them.
    const entries = fc.sample(
      fc.oneof(
        typeName,
        typeName.map((t) => `${t}.*`),
        fc.constant('*'),
      ),
      { numRuns: 300 },
    )
    const pairs = types.map((type, i) => [entries[i]!, type] as const)
    const decided = pairs.map(([entry, type]) => typeCandidates(type).includes(entry))
    expect(decided).toEqual(pairs.map(([entry, type]) => typesMatch([entry], type)))
    expect(new Set(decided)).toEqual(new Set([true, false]))
  })

  test('an event reaches every webhook whose types or patterns match it, in one statement', async () => {
    const { database, schema } = await db.source()
    const counting = countingDatabase(await openDatabase(database!))
    const whisperer = await db.whisperer({ database: counting, schema })
    for (const type of ['order.created', 'order.paid', 'order.paid.late', 'invoice.paid']) {
      whisperer.eventTypes.register({ type })
    }
    const subscribe = (name: string, eventTypes: string[], filters = {}) =>
      whisperer.webhooks.create('acme', { eventTypes, targetUrl: `${receiver.url}/${name}`, filters })
    await subscribe('exact', ['order.paid'])
    await subscribe('orders', ['order.*'])
    await subscribe('paid', ['order.paid.*', 'invoice.paid'])
    await subscribe('all', ['*'])
    await subscribe('big-orders', ['order.*'], { amount: { is: 100 } })
    await subscribe('ops', ['whisperer.*'])
    const inactive = await subscribe('inactive', ['*'])
    await whisperer.webhooks.update('acme', inactive.id, { isActive: false })

    counting.statements.length = 0
    await whisperer.deliverEvent({ amount: 100 }, 'order.paid')
    await whisperer.deliverEvent({ amount: 5 }, 'order.paid.late')
    await whisperer.deliverEvent({ amount: 7 }, 'invoice.paid')
    await whisperer.deliverEvent({ amount: 1 }, 'order.created')
    expect(counting.statements).toHaveLength(4)

    await whisperer.processDue()
    const seen = receiver.requests
      .map((request) => `${request.path.split('/').pop()} ${JSON.parse(request.body).event.type}`)
      .sort()
    expect(seen).toEqual([
      'all invoice.paid',
      'all order.created',
      'all order.paid',
      'all order.paid.late',
      'big-orders order.paid',
      'exact order.paid',
      'orders order.created',
      'orders order.paid',
      'orders order.paid.late',
      'paid invoice.paid',
      'paid order.paid.late',
    ])
  })

  test('operational events reach webhooks that name them, never through "*"', async () => {
    const whisperer = await db.whisperer()
    whisperer.eventTypes.register({ type: 'order.paid' })
    const failing = await whisperer.webhooks.create('acme', {
      eventType: 'order.paid',
      targetUrl: `${receiver.url}/gone`,
    })
    await whisperer.webhooks.create('acme', { eventTypes: ['*'], targetUrl: `${receiver.url}/all` })
    await whisperer.webhooks.create('acme', {
      eventTypes: ['whisperer.webhook.*'],
      targetUrl: `${receiver.url}/ops`,
    })
    receiver.respond((request) => ({ status: request.path.endsWith('/gone') ? 410 : 200 }))
    await whisperer.deliverEvent({ id: 1 }, 'order.paid')
    await whisperer.processDue()
    await whisperer.processDue()
    const seen = receiver.requests.map(
      (request) => `${request.path.split('/').pop()} ${JSON.parse(request.body).event.type}`,
    )
    expect(seen.sort()).toEqual(['all order.paid', 'gone order.paid', 'ops whisperer.webhook.disabled'])
    const disabled = JSON.parse(receiver.requests.find((r) => r.path.endsWith('/ops'))!.body)
    expect(disabled.data.webhook).toMatchObject({
      id: failing.id,
      event_type: 'order.paid',
      event_types: ['order.paid'],
    })
  })

  test('a webhook for one URL per owner: overlapping types are refused, naming the other', async () => {
    const whisperer = await db.whisperer()
    for (const type of ['order.created', 'order.paid', 'invoice.paid'])
      whisperer.eventTypes.register({ type })
    const targetUrl = `${receiver.url}/hooks`
    const orders = await whisperer.webhooks.create('acme', { eventTypes: ['order.*'], targetUrl })
    const invoices = await whisperer.webhooks.create('acme', { eventTypes: ['invoice.paid'], targetUrl })
    const refused = await whisperer.webhooks
      .create('acme', { eventTypes: ['invoice.*'], targetUrl })
      .catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(WhispererError)
    expect((refused as WhispererError).code).toBe('webhook_already_registered')
    expect((refused as WhispererError).message).toContain(`webhook ${invoices.id}`)
    // Another owner, or a deleted webhook, does not clash.
    await whisperer.webhooks.create('globex', { eventTypes: ['*'], targetUrl })
    await whisperer.webhooks.delete('acme', orders.id)
    await whisperer.webhooks.create('acme', { eventTypes: ['order.paid', 'order.created'], targetUrl })

    // Concurrent creates of overlapping types for one URL (rounds, so that the pool's connections
    // are open and the creates truly overlap): exactly one of each round is stored.
    for (let round = 0; round < 5; round++) {
      const racing = `${receiver.url}/race-${round}`
      const results = await Promise.allSettled(
        ['order.paid', 'order.*', '*', 'order.paid', 'order.*', '*', 'order.paid', 'order.*'].map((entry) =>
          whisperer.webhooks.create('acme', { eventTypes: [entry], targetUrl: racing }),
        ),
      )
      expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1)
      for (const result of results) {
        if (result.status === 'rejected') expect(result.reason.code).toBe('webhook_already_registered')
      }
    }
  })

  test('the one-type spelling still works, and an upgrade keeps every webhook delivering', async () => {
    const { database, schema } = await db.source()
    const opened = await openDatabase(database!)
    await migrate(opened, schema, { through: 8 })
    await opened.query(
      `INSERT INTO "${schema}".webhooks (owner, event_type, target_url, retry_countdown_config, signing_keys)
       VALUES ('acme', 'order.paid', $1, '{"choice":"exponential","kwargs":{"base":2,"factor":1}}', '[]')`,
      [`${receiver.url}/old`],
    )
    await opened.close()
    const whisperer = await db.whisperer({ schema })
    whisperer.eventTypes.register({ type: 'order.paid' })
    const [old] = await whisperer.webhooks.list('acme')
    expect(old).toMatchObject({ eventType: 'order.paid', eventTypes: ['order.paid'] })
    await whisperer.deliverEvent({ id: 1 }, 'order.paid')
    await whisperer.processDue()
    expect(receiver.requests.map((request) => request.path.split('/').pop())).toEqual(['old'])
  })
})
