import fc from 'fast-check'
import { afterEach, beforeEach, expect, test } from 'vitest'
import { compileFilters, conditionsMatch, pickFields } from '../../src/core/filters.ts'
import { verifySignature } from '../../src/core/signature.ts'
import { openDatabase } from '../../src/storage/open-database.ts'
import type { Whisperer } from '../../src/whisperer.ts'
import { countingDatabase } from '../support/counting-database.ts'
import { forEachDatabase } from '../support/databases.ts'
import { type Receiver, startReceiver } from '../support/receiver.ts'

// Data and filters drawn from one small vocabulary, so that they often meet.
const key = fc.constantFrom('a', 'b', 'c')
const text = fc.constantFrom('', 'a', 'ab', 'ba', 'abc', 'A1', '1', 'héllo', 'a.b')
const scalar = fc.oneof(text, fc.constantFrom(0, 1, 1.5, -2, true, false, null))
const value = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('node'), { maxLength: 3 }),
    fc.dictionary(key, tie('node'), { maxKeys: 3 }),
  ),
})).node
const pattern = fc.constantFrom('^a', 'b$', '[0-9]', 'ab|ba', '^$', 'l+o', '\\d')
const operand = fc.oneof(
  scalar,
  fc.record({ is: value }),
  fc.record({ startswith: text }),
  fc.record({ endswith: text }),
  fc.record({ contains: text }),
  fc.record({ like: pattern }),
  fc.record({ any: scalar }),
)
const path = fc.oneof(key, fc.constantFrom('a.b', 'a.0', 'b.-1', 'c.a.b'))
const filters = fc.dictionary(
  path,
  fc.oneof(operand, fc.dictionary(key, operand, { minKeys: 1, maxKeys: 2 })),
  {
    maxKeys: 3,
  },
)

forEachDatabase((db) => {
  let receiver: Receiver
  beforeEach(async () => {
    receiver = await startReceiver()
  })
  afterEach(() => receiver.close())

  async function withType(options: { fields?: string[] } = {}): Promise<Whisperer> {
    const whisperer = await db.whisperer()
    whisperer.eventTypes.register({ type: 'user-created', ...options })
    return whisperer
  }

  test('PostgreSQL decides every filter as the in-memory matcher does', async () => {
    const whisperer = await withType()
    const schema = whisperer.config.schema
    const cases = fc.sample(fc.tuple(filters, fc.dictionary(key, value, { maxKeys: 3 })), { numRuns: 400 })
    const compiled = cases.map(([filter, data]) => {
      const { conditions, issues } = compileFilters(filter)
      expect(issues).toEqual([])
      return { conditions, data }
    })
    const rows = await db.sql<{ matches: boolean }>(
      `SELECT "${schema}".filters_match(c::jsonb, d::jsonb) AS matches
       FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS x(c, d, n) ORDER BY n`,
      [
        compiled.map(({ conditions }) => JSON.stringify(conditions)),
        compiled.map(({ data }) => JSON.stringify(data)),
      ],
    )
    const expected = compiled.map(({ conditions, data }) => conditionsMatch(conditions, data))
    const disagreements = compiled.filter((_, i) => rows[i]!.matches !== expected[i])
    expect(disagreements).toEqual([])
    // Both outcomes occur, so the comparison means something.
    expect(new Set(expected)).toEqual(new Set([true, false]))

    const picked = await db.sql<{ text: string }>(
      `SELECT "${schema}".pick_fields(d::json, ARRAY['a', 'c']) AS text
       FROM unnest($1::text[]) WITH ORDINALITY AS x(d, n) ORDER BY n`,
      [cases.map(([, data]) => JSON.stringify(data))],
    )
    expect(picked.map((row) => JSON.parse(row.text))).toEqual(
      cases.map(([, data]) => pickFields(data, ['a', 'c'])),
    )
  })

  test('an event reaches only the webhooks whose filters match it, in one statement', async () => {
    const { database, schema } = await db.source()
    const counting = countingDatabase(await openDatabase(database!))
    const whisperer = await db.whisperer({ database: counting, schema })
    whisperer.eventTypes.register({ type: 'user-created' })
    const subscribe = (name: string, filters: Record<string, unknown>) =>
      whisperer.webhooks.create('acme', {
        eventType: 'user-created',
        targetUrl: `${receiver.url}/${name}`,
        filters,
      })
    await subscribe('all', {})
    await subscribe('j-names', { name: { startswith: 'J' } })
    await subscribe('acme-staff', { email: { endswith: '@acme.com' }, 'profile.staff': true })
    await subscribe('numbers', { name: { like: '^[0-9]+$' } })
    await subscribe('typed', { age: '42' })

    counting.statements.length = 0
    await whisperer.deliverEvent(
      { name: 'Joe', email: 'joe@acme.com', profile: { staff: true }, age: 42 },
      'user-created',
    )
    await whisperer.deliverEvent({ name: 'ann', email: 'ann@acme.com', profile: {} }, 'user-created')
    await whisperer.deliverEvent({ name: 42, email: null }, 'user-created')
    expect(counting.statements).toHaveLength(3)

    await whisperer.processDue()
    const seen = receiver.requests
      .map((request) => `${request.path.split('/').pop()} ${JSON.parse(request.body).data.name}`)
      .sort()
    expect(seen).toEqual(['acme-staff Joe', 'all 42', 'all Joe', 'all ann', 'j-names Joe'])
  })

  test('a webhook receives only the fields it chose, signed, on every path of deliverEvent', async () => {
    const whisperer = await withType({ fields: ['id', 'email', 'plan'] })
    const webhook = await whisperer.webhooks.create('acme', {
      eventType: 'user-created',
      targetUrl: `${receiver.url}/some`,
      secretKey: 'sekrit',
      fields: ['plan', 'id'],
      filters: { plan: 'pro' },
    })
    await whisperer.webhooks.create('acme', { eventType: 'user-created', targetUrl: `${receiver.url}/all` })
    const user = { id: 7, email: 'joe@acme.com', plan: 'pro', passwordHash: 'never delivered' }

    await whisperer.deliverEvent(user, 'user-created')
    await whisperer.processDue()
    const synchronous = await whisperer.deliverEvent(user, 'user-created', { async: false })
    expect(synchronous.outcomes?.map((outcome) => outcome.delivered)).toEqual([true, true])

    const requests = receiver.requests
    const bodies = (name: string) =>
      requests
        .filter((request) => request.path.endsWith(`/${name}`))
        .map((request) => JSON.parse(request.body).data)
    // The event type exposes id, email and plan: passwordHash never leaves; the webhook chose two.
    expect(bodies('all')).toEqual([
      { id: 7, email: 'joe@acme.com', plan: 'pro' },
      { id: 7, email: 'joe@acme.com', plan: 'pro' },
    ])
    expect(bodies('some')).toEqual([
      { id: 7, plan: 'pro' },
      { id: 7, plan: 'pro' },
    ])
    for (const request of requests.filter((r) => r.path.endsWith('/some'))) {
      expect(
        verifySignature({ secret: 'sekrit', body: request.body, headers: request.headers }),
      ).toMatchObject({
        ok: true,
      })
    }

    // A retry sends the same bytes, even after the webhook changes its fields.
    const [delivery] = await whisperer.deliveries.list({ owner: 'acme' }, { webhookId: webhook.id, limit: 1 })
    await whisperer.webhooks.update('acme', webhook.id, { fields: ['id'] })
    await whisperer.deliverEvent(user, 'user-created', {
      eventUuid: delivery!.uuid,
      force: true,
      async: false,
    })
    const resent = receiver.requests.filter((request) => request.path.endsWith('/some'))
    expect(resent.at(-1)!.body).toBe(
      resent.find((request) => request.body.includes(delivery!.uuid.replaceAll('-', '')))!.body,
    )

    await whisperer.deliverEvent(user, 'user-created')
    await whisperer.processDue()
    expect(bodies('some').at(-1)).toEqual({ id: 7 })
  })

  test('customized payloads see the chosen fields and the filters too', async () => {
    const whisperer = await db.whisperer()
    whisperer.eventTypes.register({
      type: 'user-created',
      customizePayload: (body) => ({ ...body, customized: true }),
    })
    await whisperer.webhooks.create('acme', {
      eventType: 'user-created',
      targetUrl: `${receiver.url}/pro`,
      filters: { plan: 'pro' },
      fields: ['id'],
    })
    await whisperer.deliverEvent({ id: 1, plan: 'free' }, 'user-created')
    await whisperer.deliverEvent({ id: 2, plan: 'pro' }, 'user-created')
    await whisperer.processDue()
    expect(receiver.requests.map((request) => JSON.parse(request.body))).toMatchObject([
      { data: { id: 2 }, customized: true },
    ])
    expect(JSON.parse(receiver.requests[0]!.body).data).toEqual({ id: 2 })
  })

  test('filters and fields are validated per field, against the fields the event type exposes', async () => {
    const whisperer = await withType({ fields: ['email', 'profile'] })
    const create = (input: Record<string, unknown>) =>
      whisperer.webhooks.create('acme', { eventType: 'user-created', targetUrl: receiver.url, ...input })
    await expect(
      create({
        filters: { secret: 'x', email: { like: '(a+)+$' }, profile: { name: { startswith: 3 } } },
        fields: ['email', 'password'],
      }),
    ).rejects.toMatchObject({
      code: 'validation_error',
      issues: [
        { path: 'filters.secret', message: expect.stringContaining('not a field') },
        { path: 'filters.email.like', message: expect.stringContaining('backtrack') },
        { path: 'filters.profile.name.startswith', message: 'Expected a string.' },
        { path: 'fields', message: expect.stringContaining('"password"') },
      ],
    })
    // Valid in JavaScript, but not for PostgreSQL, which evaluates it: refused before it is stored.
    await expect(create({ filters: { email: { like: '[\\d-z]' } } })).rejects.toMatchObject({
      code: 'validation_error',
      issues: [{ path: 'filters.email.like', message: expect.stringContaining('PostgreSQL') }],
    })
    expect(await db.sql(`SELECT id FROM "${whisperer.config.schema}".webhooks`)).toEqual([])

    // An update is checked with the stored values it keeps.
    const webhook = await create({ filters: { email: { endswith: '@acme.com' } } })
    whisperer.eventTypes.register({ type: 'order-paid', fields: ['total'] })
    await expect(
      whisperer.webhooks.update('acme', webhook.id, { eventType: 'order-paid' }),
    ).rejects.toMatchObject({
      issues: [{ path: 'filters.email' }],
    })
    const changed = await whisperer.webhooks.update('acme', webhook.id, {
      eventType: 'order-paid',
      filters: { total: { is: 10 } },
    })
    expect(changed).toMatchObject({ eventType: 'order-paid', filters: { total: { is: 10 } }, fields: null })
    expect((await whisperer.webhooks.get('acme', webhook.id)).filters).toEqual({ total: { is: 10 } })
  })
})
