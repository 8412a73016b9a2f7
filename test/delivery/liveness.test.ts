import fc from 'fast-check'
import { afterEach, beforeEach, expect, test } from 'vitest'
import type { WhispererOptions } from '../../src/config.ts'
import { openDatabase } from '../../src/storage/open-database.ts'
import { Store } from '../../src/storage/store.ts'
import type { Whisperer } from '../../src/whisperer.ts'
import { ManualClock } from '../support/clock.ts'
import { forEachDatabase, type TestDatabase } from '../support/databases.ts'
import { type Receiver, startReceiver } from '../support/receiver.ts'

const leaseMs = 20_000
/** Long enough that a worker which waits for its poll is seen stalling: nothing here waits for it. */
const pollIntervalMs = 60_000

/** What happens to the deliveries of one host between two looks. */
type Step =
  | { kind: 'publish'; count: number }
  | { kind: 'kill'; claims: number }
  | { kind: 'restart' }
  | { kind: 'advance'; ms: number }

const steps: fc.Arbitrary<Step[]> = fc.array(
  fc.oneof(
    fc.record({ kind: fc.constant('publish' as const), count: fc.integer({ min: 1, max: 6 }) }),
    fc.record({ kind: fc.constant('kill' as const), claims: fc.integer({ min: 1, max: 10 }) }),
    fc.record({ kind: fc.constant('restart' as const) }),
    fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: leaseMs }) }),
  ),
  { minLength: 1, maxLength: 8 },
)

/**
 * What a worker process killed with SIGKILL leaves behind: the deliveries it had claimed, leased
 * until `leaseUntil`, that nobody will attempt or give back. Its claim is the real one, from a store
 * of its own; then the "process" is gone.
 */
async function killedProcessClaims(
  db: TestDatabase,
  whisperer: Whisperer,
  params: { limit: number; now: Date },
): Promise<number> {
  const source = await db.raw()
  const store = new Store(await openDatabase(source), whisperer.config.schema)
  const claimed = await store.deliveryClaim({
    limit: params.limit,
    now: params.now,
    leaseUntil: new Date(params.now.getTime() + leaseMs),
  })
  return claimed.length
}

forEachDatabase((db) => {
  let receiver: Receiver
  let clock: ManualClock
  beforeEach(async () => {
    receiver = await startReceiver()
    clock = new ManualClock()
  })
  afterEach(() => receiver.close())

  async function service(options: WhispererOptions = {}): Promise<Whisperer> {
    const whisperer = await db.whisperer({
      clock: clock.now,
      leaseSeconds: leaseMs / 1000,
      pollInterval: pollIntervalMs,
      ...options,
    })
    whisperer.eventTypes.register({ type: 'tick' })
    return whisperer
  }

  /** Distinct deliveries the receiver has seen. */
  const attempted = () => new Set(receiver.requests.map((r) => String(r.headers['webhook-id']))).size

  /**
   * Moves the clock in small steps until `count` deliveries were attempted; after each step the
   * worker must attempt at least one more without waiting for its poll interval. Returns how far
   * the clock moved.
   */
  async function advanceUntilAttempted(count: number, stepMs: number, maxSteps: number): Promise<number> {
    let moved = 0
    for (let step = 0; step < maxSteps && attempted() < count; step += 1) {
      const before = attempted()
      clock.advance(stepMs)
      moved += stepMs
      const progressed = await receiver.waitFor(receiver.requests.length + 1, 15_000).then(
        () => true,
        () => false,
      )
      if (!progressed) throw new Error(`stalled: ${before} of ${count} attempted, none after a clock step`)
    }
    return moved
  }

  /** Waits (bounded) until the deliveries' statuses, counted, are `expected` (due pending ones count apart). */
  async function untilCounts(whisperer: Whisperer, expected: Record<string, number>): Promise<void> {
    let counts: Record<string, number> = {}
    for (let i = 0; i < 1_200; i += 1) {
      const rows = await db.sql<{ status: string; n: number }>(
        `SELECT CASE WHEN status = 'pending' AND next_attempt_at <= $1 THEN 'due' ELSE status END AS status,
           count(*)::int AS n
         FROM "${whisperer.config.schema}".deliveries GROUP BY 1`,
        [clock.now()],
      )
      counts = Object.fromEntries(rows.map((row) => [row.status, row.n]))
      if (Object.entries(expected).every(([status, n]) => (counts[status] ?? 0) === n)) return
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
    throw new Error(`deliveries never reached ${JSON.stringify(expected)}: ${JSON.stringify(counts)}`)
  }

  test('after a killed process’s leases expire, a fresh worker attempts every delivery though one host is saturated', async () => {
    // The interleaving of the stall, step by step:
    // 1. 24 deliveries to one host are queued, and a process claims them all, then is killed.
    // 2. Its leases expire; a fresh worker (2 attempts and 2 waiting per host) claims the backlog:
    //    it starts 2, lines up 2 and gives 20 back, each due when the host should have room.
    // 3. The host answers late: when the 20 come due the worker claims them again, finds the host
    //    still full, and gives them back again, a few milliseconds ahead.
    // 4. The host answers; the 4 it had finish at once, and the host is idle.
    // Before the fix the worker then slept its whole poll interval: nothing woke it for the
    // deliveries it had given back, nor for the host's free slots.
    let answer: () => void = () => {}
    const answered = new Promise<void>((resolve) => {
      answer = resolve
    })
    receiver.respond(async () => {
      await answered
      return { status: 200 }
    })
    const whisperer = await service({ concurrency: 8, claimBatch: 8, perHostConcurrency: 2 })
    await whisperer.webhooks.create('acme', { eventType: 'tick', targetUrl: receiver.url })
    for (let i = 0; i < 24; i += 1) await whisperer.deliverEvent({ i }, 'tick')
    expect(await killedProcessClaims(db, whisperer, { limit: 24, now: clock.now() })).toBe(24)

    clock.advance(leaseMs)
    await whisperer.start()
    // 2 attempts in flight and 2 in line; the other 20 given back, none due yet.
    await untilCounts(whisperer, { delivering: 4, due: 0, pending: 20 })
    clock.advance(1_000)
    await untilCounts(whisperer, { delivering: 4, due: 0, pending: 20 })
    answer()
    await untilCounts(whisperer, { delivered: 4, delivering: 0 })

    const moved = await advanceUntilAttempted(24, 1_000, 24)
    expect(attempted()).toBe(24)
    // Every delivery was attempted within a lease and a poll interval of the kill.
    expect(leaseMs + 1_000 + moved).toBeLessThanOrEqual(leaseMs + pollIntervalMs)
  }, 60_000)

  test('liveness: after any sequence of kills and restarts, every due delivery is attempted within a lease and a poll interval', async () => {
    // Real polling here (the invariant allows it), on the test's clock for everything due.
    const pollMs = 200
    const stepMs = 1_000
    // One schema for every run (a fresh one per run is slow on PGlite); each run sends to a
    // webhook of its own and ends with nothing left to deliver.
    const publisher = await service({ pollInterval: pollMs })
    const options = { schema: publisher.config.schema, pollInterval: pollMs, concurrency: 8, claimBatch: 8 }
    let worker = await service({ ...options, perHostConcurrency: 8 })
    await worker.start()
    let run = 0
    const delivered = async (webhookId: number) =>
      (
        await db.sql<{ n: number }>(
          `SELECT count(*)::int AS n FROM "${publisher.config.schema}".deliveries
           WHERE webhook_id = $1 AND status = 'delivered'`,
          [webhookId],
        )
      )[0]!.n
    const unfinished = async () =>
      (
        await db.sql<{ n: number }>(
          `SELECT count(*)::int AS n FROM "${publisher.config.schema}".deliveries
           WHERE status IN ('pending', 'delivering')`,
        )
      )[0]!.n
    await fc.assert(
      fc.asyncProperty(steps, async (sequence) => {
        run += 1
        const hook = await publisher.webhooks.create('acme', {
          eventType: 'tick',
          targetUrl: `${receiver.url}?run=${run}`,
        })
        let published = 0
        for (const step of sequence) {
          if (step.kind === 'publish') {
            for (let i = 0; i < step.count; i += 1) await publisher.deliverEvent({ i }, 'tick')
            published += step.count
          } else if (step.kind === 'kill') {
            await killedProcessClaims(db, publisher, { limit: step.claims, now: clock.now() })
          } else if (step.kind === 'restart') {
            await worker.close()
            worker = await service({ ...options, perHostConcurrency: 8 })
            await worker.start()
          } else clock.advance(step.ms)
        }
        // From here, within a lease (the last dead claim expires) and a poll interval, on the
        // clock moved step by step, every delivery is attempted.
        for (let moved = 0; moved <= leaseMs + pollMs && (await unfinished()) > 0; moved += stepMs) {
          clock.advance(stepMs)
          await untilCounts(publisher, { due: 0 })
        }
        await untilCounts(publisher, { due: 0, delivering: 0, pending: 0 })
        expect(await delivered(hook.id)).toBe(published)
        await publisher.webhooks.delete('acme', hook.id)
      }),
      { numRuns: 6 },
    )
    await worker.close()
  }, 240_000)
})
