import { dirname } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import type { Principal } from '../../src/api/auth.ts'
import { RateLimiter } from '../../src/api/rate-limit.ts'
import { errorCodes } from '../../src/core/errors.ts'
import { tokenAuthenticate } from '../../src/server/token-auth.ts'
import { verifiedTokenTtlMs } from '../../src/service/tokens.ts'
import { createWhisperer, type Whisperer } from '../../src/whisperer.ts'
import { ManualClock } from '../support/clock.ts'
import { forEachDatabase, schemaName, testDefaults } from '../support/databases.ts'
import {
  findPostgresBinaries,
  pgCtl,
  startThrowawayCluster,
  type ThrowawayCluster,
} from '../support/postgres-server.ts'
import { caller } from './support.ts'

test('a request is charged when it arrived, though charged late and out of order', () => {
  const limiter = new RateLimiter({ requestsPerSecond: 10, burst: 2 })
  // Forty requests at 5 per second over 8 s, charged all at once after, each pair swapped.
  const arrivals = Array.from({ length: 40 }, (_, i) => 1000 + i * 200)
  const shuffled = arrivals.map((_, i) => arrivals[i % 2 === 0 ? i + 1 : i - 1]!)
  expect(shuffled.map((at) => limiter.take('shop', at))).toEqual(arrivals.map(() => null))
  // Over the rate, arrival times still count: ten requests in the same millisecond exceed the burst.
  const refused = Array.from({ length: 10 }, () => limiter.take('shop', 20_000)).filter(Boolean)
  expect(refused).toHaveLength(8)
})

forEachDatabase((db) => {
  let whisperer: Whisperer
  beforeEach(async () => {
    whisperer = await db.whisperer()
  })

  test('requests held up by authentication are charged as they came: no 429 within the rate', async () => {
    let open!: () => void
    const gate = new Promise<void>((resolve) => {
      open = resolve
    })
    const principal: Principal = { owner: 'shop', scopes: ['subscriber'] }
    const authenticate = async () => {
      await gate
      return principal
    }
    const call = caller(whisperer.api({ authenticate, rateLimit: { requestsPerSecond: 10, burst: 2 } }))
    // Twenty requests at half the rate, all waiting on authentication, which then answers at once.
    const pending = []
    for (let i = 0; i < 20; i++) {
      pending.push(call('GET', 'hooks/'))
      await sleep(200)
    }
    open()
    const statuses = (await Promise.all(pending)).map((response) => response.status)
    expect(statuses).toEqual(statuses.map(() => 200))
  })

  test('a verified token is trusted for a few seconds; a revocation elsewhere takes effect after', async () => {
    const clock = new ManualClock()
    const { schema, database } = whisperer.config
    const serving = await db.whisperer({ clock: clock.now, schema, database })
    const elsewhere = await db.whisperer({ clock: clock.now, schema, database })
    const { token, record } = await serving.tokens.create({ owner: 'shop', scopes: ['publisher'] })
    expect((await serving.tokens.verify(token))?.id).toBe(record.id)
    await elsewhere.tokens.revoke(record.id)
    expect(await elsewhere.tokens.verify(token)).toBeNull()
    // The serving process trusts what it verified until the time is up, then reads it again.
    clock.advance(verifiedTokenTtlMs - 1)
    expect((await serving.tokens.verify(token))?.id).toBe(record.id)
    clock.advance(1)
    expect(await serving.tokens.verify(token)).toBeNull()
    // A revocation in the same process takes effect at once.
    const second = await serving.tokens.create({ owner: 'shop', scopes: ['publisher'] })
    expect(await serving.tokens.verify(second.token)).not.toBeNull()
    await serving.tokens.revoke(second.record.id)
    expect(await serving.tokens.verify(second.token)).toBeNull()
  })
})

const postgresBin = findPostgresBinaries()

describe.runIf(postgresBin)('while PostgreSQL is down', () => {
  let cluster: ThrowawayCluster
  beforeAll(async () => {
    cluster = await startThrowawayCluster(postgresBin!, {
      settings: { fsync: 'off' },
      directoryPrefix: 'whisperer-outage-',
    })
  })
  afterAll(() => cluster?.stop())

  test('requests get 503 database_unavailable with Retry-After; a token verified lately still authenticates', async () => {
    const whisperer = await createWhisperer({ ...testDefaults, database: cluster.url, schema: schemaName() })
    try {
      whisperer.eventTypes.register({ type: 'order-created' })
      const publisher = (await whisperer.tokens.create({ owner: 'shop', scopes: ['publisher'] })).token
      const admin = (await whisperer.tokens.create({ owner: 'ops', scopes: ['admin'] })).token
      const api = whisperer.api({ authenticate: tokenAuthenticate(whisperer) })
      const call = (token: string, method: string, path: string, json?: unknown) =>
        api(
          new Request(`http://api.test/whisperer/${path}`, {
            method,
            headers: { authorization: `Token ${token}`, 'content-type': 'application/json' },
            ...(json === undefined ? {} : { body: JSON.stringify(json) }),
          }),
        )
      const publish = () =>
        call(publisher, 'POST', 'events/', { event_type: 'order-created', data: { id: 1 } })
      expect((await publish()).status).toBe(202)

      pgCtl(cluster, 'stop', '-m', 'immediate')
      for (const response of [await publish(), await call(admin, 'GET', 'hooks/')]) {
        expect(response.status).toBe(503)
        expect(response.headers.get('retry-after')).toBe(
          String(errorCodes.database_unavailable.retryAfterSeconds),
        )
        expect(((await response.json()) as { code: string }).code).toBe('database_unavailable')
      }
      // The publisher's token was verified a moment ago: it still authenticates.
      const me = await call(publisher, 'GET', 'me/')
      expect(me.status).toBe(200)
      expect(((await me.json()) as { owner: string }).owner).toBe('shop')

      const [, port] = /:(\d+)\//.exec(cluster.url)!
      const serverOptions = `-p ${port} -k ${dirname(cluster.data)} -c listen_addresses=127.0.0.1 -c fsync=off`
      pgCtl(cluster, 'start', '-w', '-o', serverOptions)
      // The pool connects again by itself; a bounded number of tries covers the first refusals.
      let status = 0
      for (let i = 0; i < 50 && status !== 202; i++) {
        status = (await publish()).status
        if (status !== 202) await sleep(100)
      }
      expect(status).toBe(202)
    } finally {
      await whisperer.close()
    }
  })
})
