import { setTimeout as sleep } from 'node:timers/promises'
import { beforeEach, expect, test } from 'vitest'
import type { Principal } from '../../src/api/auth.ts'
import { RateLimiter } from '../../src/api/rate-limit.ts'
import { verifiedTokenTtlMs } from '../../src/service/tokens.ts'
import type { Whisperer } from '../../src/whisperer.ts'
import { ManualClock } from '../support/clock.ts'
import { forEachDatabase } from '../support/databases.ts'
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
