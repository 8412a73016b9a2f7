import fc from 'fast-check'
import { afterEach, beforeEach, expect, test } from 'vitest'
import { RetryResult } from '../../src/api/schemas.ts'
import { errorCodes } from '../../src/core/errors.ts'
import type { Whisperer } from '../../src/whisperer.ts'
import { forEachDatabase, type TestDatabase } from '../support/databases.ts'
import { type Receiver, startReceiver } from '../support/receiver.ts'
import {
  type Fixtures,
  HostileRequest,
  hostileRequest,
  type Route,
  refusals,
  routes,
  strayRequest,
} from './hostile-requests.ts'
import { type ApiResponse, apiOf, type Call, type Caller } from './support.ts'

/** Requests per route and database: some four thousand in all for each database. */
const runsPerRoute = 150

/** The tables every migration of Whisperer's schema creates; the digest covers any added later too. */
const knownTables = ['api_tokens', 'attempts', 'deliveries', 'event_types', 'events', 'webhooks']

/**
 * A digest of every table of a schema: its row count and an MD5 of all its rows, so that any
 * insert, update or delete shows.
 */
async function tableDigester(
  db: TestDatabase,
  schema: string,
): Promise<() => Promise<Record<string, string>>> {
  const tables = await db.sql<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1`,
    [schema],
  )
  const names = tables.map((table) => table.name)
  expect(names).toEqual(expect.arrayContaining(knownTables))
  const query = names
    .map(
      (name) =>
        `SELECT '${name}' AS name, count(*) || ' ' || md5(coalesce(string_agg(r::text, '|' ORDER BY r::text), '')) AS digest
         FROM "${schema}"."${name}" r`,
    )
    .join(' UNION ALL ')
  return async () => {
    const rows = await db.sql<{ name: string; digest: string }>(query)
    return Object.fromEntries(rows.map((row) => [row.name, row.digest]))
  }
}

/** A manual retry that was attempted and not delivered: a 406 that reports the attempt it stored. */
function attemptedNotDelivered(response: ApiResponse): boolean {
  return response.status === 406 && RetryResult.safeParse(response.body).success && !response.body.delivered
}

forEachDatabase((db) => {
  let receiver: Receiver
  let whisperer: Whisperer
  let call: Call
  let fixtures: Fixtures
  let digest: () => Promise<Record<string, string>>

  beforeEach(async () => {
    // A target whose URL says `fail` answers 500: with one attempt allowed, its deliveries fail.
    receiver = await startReceiver((request) => ({ status: request.path.includes('fail') ? 500 : 200 }))
    whisperer = await db.whisperer({ maxAttempts: 1 })
    whisperer.eventTypes.register({ type: 'order-created' })
    whisperer.eventTypes.register({ type: 'order-paid' })
    call = apiOf(whisperer)
    fixtures = await seed()
    digest = await tableDigester(db, whisperer.config.schema)
  })
  afterEach(() => receiver.close())

  /**
   * Alice's webhooks and Bob's, a declared event type, deliveries delivered, failed and pending
   * (with attempts), and an API token: so that the ids the requests use exist.
   */
  async function seed(): Promise<Fixtures> {
    const post = async (as: Caller, path: string, json: unknown) => {
      const response = await call('POST', path, { as, json })
      expect(response.status).toBeLessThan(300)
      return response.body
    }
    const hook = (event_type: string, target_url = receiver.url) => ({ event_type, target_url })
    const hooks = [
      await post('alice', 'hooks/', hook('order-created')),
      await post('alice', 'hooks/', hook('order-created', `${receiver.url}?fail=1`)),
      await post('bob', 'hooks/', hook('order-created')),
    ]
    await post('admin', 'event_types/', { type: 'invoice-paid', json_schema: { type: 'object' } })
    await post('publisher', 'events/', { event_type: 'order-created', data: { id: 1 } })
    expect(await whisperer.processDue()).toBe(3)
    hooks.push(await post('alice', 'hooks/', hook('order-paid')))
    await post('publisher', 'events/', { event_type: 'order-paid', data: { id: 2 } })
    const { record } = await whisperer.tokens.create({ owner: 'carol', scopes: ['subscriber'] })
    const portal = await whisperer.portal.createSession({ owner: 'carol' })
    const deliveries = (await call('GET', 'hook_events/', { as: 'admin' })).body.results
    expect(deliveries.map((d: { status: string }) => d.status).sort()).toEqual([
      'delivered',
      'delivered',
      'failed',
      'pending',
    ])
    return {
      hooks: hooks.map((h) => h.id),
      deliveries: deliveries.flatMap((d: { id: number; uuid: string }) => [String(d.id), d.uuid]),
      tokens: [record.id],
      portalSessions: [portal.session.id],
      eventTypes: ['order-created', 'order-paid', 'invoice-paid'],
      targetUrl: receiver.url,
    }
  }

  /**
   * Sends every request the arbitrary makes and checks each answer: never a 5xx; a 4xx is JSON
   * with a known code and a message, and leaves every table as it was. Returns the codes seen.
   */
  async function sendHostile(
    requests: fc.Arbitrary<HostileRequest>,
    examples: HostileRequest[],
  ): Promise<Set<string>> {
    const codes = new Set<string>()
    const prototypeNames = Object.getOwnPropertyNames(Object.prototype)
    let before = await digest()
    await fc.assert(
      fc.asyncProperty(requests, async (request) => {
        const response = await call(request.method, request.path, {
          as: null,
          headers: { ...request.headers },
          ...(request.body !== undefined ? { body: request.body } : {}),
        })
        const [unchanged, after] = [before, await digest()]
        before = after
        if (response.status >= 500) throw new Error(`Answered ${response.status}: ${response.text}`)
        expect(Object.getOwnPropertyNames(Object.prototype)).toEqual(prototypeNames)
        if (response.status < 400 || attemptedNotDelivered(response)) return
        expect(response.headers.get('content-type')).toMatch(/^application\/json/)
        if (request.method !== 'HEAD') {
          expect(Object.keys(errorCodes)).toContain(response.body?.code)
          expect(typeof response.body.message).toBe('string')
          codes.add(response.body.code)
        }
        expect(after, 'a rejected request wrote').toEqual(unchanged)
      }),
      { numRuns: runsPerRoute, examples: examples.map((request) => [request]) },
    )
    return codes
  }

  /** The codes a route's hostile requests must have met, so that they reached its checks. */
  function expectedCodes(route: Route): string[] {
    return [
      'unauthenticated',
      ...(route.body ? ['invalid_json', 'unsupported_media_type', 'validation_error'] : []),
      ...(route.query ? ['validation_error'] : []),
    ]
  }

  for (const route of routes) {
    test(`${route.method} ${route.path}: hostile requests are refused with a code, never a 5xx, and write nothing`, async () => {
      const codes = await sendHostile(hostileRequest(route, fixtures), refusals(route, fixtures))
      // A route open to all (no token) never answers unauthenticated; a path under it, not_found.
      const open = ['openapi.json', 'health/', 'health/ready/'].includes(route.path)
      expect([...codes]).toEqual(expect.arrayContaining(open ? ['not_found'] : expectedCodes(route)))
      if (route.path.includes('{')) expect([...codes].some((code) => code.endsWith('not_found'))).toBe(true)
      // 150 requests, each followed by a digest of every table: on PGlite, beside another test
      // file on a 2-core machine, a route can take longer than the default 30 s.
    }, 120_000)
  }

  test('odd methods and paths anywhere are refused with a code, never a 5xx, and write nothing', async () => {
    const codes = await sendHostile(strayRequest(), [
      new HostileRequest('GET', 'nothing-here/', {}, undefined),
      new HostileRequest('GET', 'nothing-here/', { authorization: 'Token alice-token' }, undefined),
    ])
    expect([...codes]).toEqual(expect.arrayContaining(['not_found', 'unauthenticated']))
  })

  test('the hostile requests cover every route of the OpenAPI document', async () => {
    const document = (await call('GET', 'openapi.json', { as: null })).body
    const documented = Object.entries(document.paths as Record<string, Record<string, unknown>>).flatMap(
      ([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
    )
    expect(routes.map((route) => `${route.method} /whisperer/${route.path}`).sort()).toEqual(
      documented.sort(),
    )
  })
})
