import { webhookAttemptMaxMs } from '../core/rate-limit.ts'
import type { Logger } from '../logger.ts'
import type { ClaimedDelivery, Store } from '../storage/store.ts'
import { type AttemptContext, heldForSecretsMs, holdUnopenable, runAttempt } from './attempt.ts'
import { HostSlots } from './host-slots.ts'
import type { Recorder } from './recorder.ts'

export interface WorkerOptions {
  store: Store
  recorder: Recorder
  attempt: AttemptContext
  logger: Logger
  clock: () => Date
  /** Deliveries held at once (attempts in flight plus those waiting for a host slot). */
  concurrency: number
  /** Attempts in flight at once to one host. */
  perHostConcurrency: number
  /** Deliveries taken per claim at most. */
  claimBatch: number
  /** The longest the worker sleeps without a notification (ms). */
  pollIntervalMs: number
  /** How long a claim holds a delivery; longer than any attempt can take (ms). */
  leaseMs: number
  /** The longest one attempt can take (ms); a waiting delivery starts only with this much lease left. */
  attemptMaxMs: number
  /** The service's read timeout (ms), which a webhook's own `timeout` replaces. */
  readTimeoutMs: number
}

/**
 * Claims due deliveries and attempts them with bounded concurrency, globally and per target host.
 * It wakes on notifications and local signals, and otherwise sleeps until the next delivery is due
 * or the poll interval passes. It never holds a transaction across an HTTP call.
 */
export class Worker {
  readonly #o: WorkerOptions
  readonly #slots: HostSlots
  #running = 0
  /** Room set aside for deliveries this process's publisher is claiming as it inserts them. */
  #reserved = 0
  readonly #inFlight = new Set<Promise<void>>()
  /** Deliveries claimed with a send slot ahead (a rate limit), waiting for it: each one's timer and how to cancel it. */
  readonly #waiting = new Map<ClaimedDelivery, () => void>()
  /** When this process last let a delivery of each rate-limited webhook go (by the clock, ms). */
  readonly #lastSent = new Map<number, number>()
  #state: 'idle' | 'running' | 'closing' | 'closed' = 'idle'
  #loop: Promise<void> | null = null
  #woken = false
  #wake: (() => void) | null = null
  #unlisten: (() => Promise<void>) | null = null
  /**
   * The earliest time this process knows a delivery becomes due that no claim has looked at yet: a
   * retry it scheduled, or a delivery it gave back because its host was full.
   */
  #dueHint: number | null = null
  /**
   * The last claim stopped for lack of room (globally, or in a host's line), not of due
   * deliveries: a freed slot is worth a wake.
   */
  #wantsRoom = false
  /** The claim under way gave deliveries back because their host was full. */
  #hostFull = false
  /** When the next due time was last read, and what it was. */
  #nextDueRead = { at: Number.NEGATIVE_INFINITY, value: null as number | null }

  constructor(options: WorkerOptions) {
    this.#o = options
    // A delivery is never given back for longer than a lease: a pace misjudged (or judged by a
    // process since killed) holds it back no longer than a dead claim would.
    this.#slots = new HostSlots(options.perHostConcurrency, options.leaseMs)
  }

  /**
   * Deliveries claimed and not finished (in flight, waiting for a host slot, or not yet recorded),
   * and the room reserved for those being claimed as they are inserted.
   */
  get held(): number {
    return this.#running + this.#slots.parked + this.#waiting.size + this.#o.recorder.pending + this.#reserved
  }

  /** Starts listening and claiming. */
  async start(): Promise<void> {
    if (this.#state !== 'idle') return
    this.#state = 'running'
    this.#unlisten = await this.#o.store.db
      .listen(this.#o.store.channel, () => this.wake())
      .catch((error) => {
        this.#o.logger.warn({ err: error }, 'LISTEN failed; the worker will poll')
        return null
      })
    this.#loop = this.#run()
  }

  /** Asks the loop to claim now: there are new deliveries. Cheap and coalesced. */
  wake(): void {
    this.#woken = true
    this.#wake?.()
  }

  /** A slot or a held outcome was freed: wakes the loop only if it was waiting for room. */
  roomFreed(): void {
    if (this.#wantsRoom) this.wake()
  }

  /** Notes a retry due at `at`, so the loop sleeps no longer than that. */
  noteDue(at: Date): void {
    if (this.#hint(at.getTime())) this.wake()
  }

  /** Lowers the due hint to `time`; true if it did. */
  #hint(time: number): boolean {
    if (this.#dueHint !== null && this.#dueHint <= time) return false
    this.#dueHint = time
    return true
  }

  /**
   * Stops claiming, gives waiting deliveries back, waits for the attempts in flight and for their
   * records, then resolves.
   */
  async close(): Promise<void> {
    if (this.#state === 'closed') return
    const wasRunning = this.#state === 'running'
    this.#state = 'closing'
    this.wake()
    await this.#loop
    await this.#unlisten?.().catch(() => {})
    // Those waiting for a rate-limit slot go back due at their slot, so the budget is not lost.
    const waiting = [...this.#waiting].map(([delivery, cancel]) => {
      cancel()
      return { delivery, at: delivery.notBefore?.getTime() ?? 0 }
    })
    await this.#release([...waiting, ...this.#slots.takeAllParked().map((delivery) => ({ delivery, at: 0 }))])
    while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight])
    await this.#o.recorder.drain()
    this.#state = wasRunning ? 'closed' : 'idle'
  }

  /**
   * Claims and attempts due deliveries until none is due, then resolves: for tests with an
   * injected clock, and for running delivery from a cron job instead of a long-lived worker.
   */
  async processDue(): Promise<number> {
    let total = 0
    let drained = false
    for (;;) {
      const claimed = await this.#claim(true)
      total += claimed
      if (claimed === 0 && drained && this.held === 0) return total
      drained = false
      if (claimed > 0 && this.#room() > 0) continue
      if (this.#inFlight.size > 0) await Promise.race([...this.#inFlight])
      else {
        // Nothing in flight: store every outcome, then look again, as a retry may be due now.
        await this.#o.recorder.drain()
        drained = true
      }
    }
  }

  async #run(): Promise<void> {
    let failures = 0
    while (this.#state === 'running') {
      this.#woken = false
      let wait = this.#o.pollIntervalMs
      try {
        const limit = this.#room()
        // A hint no later than now is covered by this claim; a later one stays until a claim runs.
        if (limit > 0 && this.#dueHint !== null && this.#dueHint <= this.#o.clock().getTime())
          this.#dueHint = null
        this.#hostFull = false
        const claimed = limit > 0 ? await this.#claim(false) : 0
        failures = 0
        this.#wantsRoom = claimed === limit || this.#hostFull
        if (claimed === limit && limit > 0) {
          // A full batch: more may be waiting. Yield so sockets and timers run, then claim again.
          await new Promise((resolve) => setImmediate(resolve))
          continue
        }
        if (limit > 0) wait = await this.#untilNextDue(claimed)
      } catch (error) {
        failures += 1
        wait = Math.min(250 * 2 ** failures, this.#o.pollIntervalMs * 5)
        this.#o.logger.error({ err: error, failures }, 'claiming deliveries failed')
      }
      await this.#sleep(wait)
    }
  }

  /**
   * How many deliveries the next claim may take: none until a quarter of a batch is free (unless
   * nothing is held), so that a busy worker claims in batches rather than one row per freed slot.
   */
  #room(): number {
    const room = this.#free()
    const lowWater = Math.max(1, Math.floor(Math.min(this.#o.claimBatch, this.#o.concurrency) / 4))
    return room >= lowWater || this.held === 0 ? room : 0
  }

  /** How many more deliveries one claim may take now: at most a batch, within the concurrency. */
  #free(): number {
    return Math.min(this.#o.claimBatch, this.#o.concurrency - this.held)
  }

  /**
   * How long to sleep after a claim that took fewer rows than it asked for: until the next due
   * delivery or expiring lease, read from the database at most four times per poll interval
   * (notifications and this process's own retries wake the loop sooner anyway).
   */
  async #untilNextDue(claimed: number): Promise<number> {
    let next: number | null = null
    const now = this.#o.clock().getTime()
    if (claimed === 0) {
      const fresh = now - this.#nextDueRead.at >= this.#o.pollIntervalMs / 4
      if (fresh) {
        const value = (await this.#o.store.deliveryNextDue())?.getTime() ?? null
        this.#nextDueRead = { at: now, value }
      }
      next = this.#nextDueRead.value
      // Due but not claimable (another worker holds it): look again shortly. A stale past value
      // says nothing any more.
      if (next !== null && next <= now) next = fresh ? now + 50 : null
    }
    if (this.#dueHint !== null && (next === null || this.#dueHint < next)) next = this.#dueHint
    if (next === null) return this.#o.pollIntervalMs
    return Math.max(0, Math.min(this.#o.pollIntervalMs, next - this.#o.clock().getTime()))
  }

  async #sleep(ms: number): Promise<void> {
    if (this.#woken || this.#state !== 'running' || ms <= 0) return
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms)
      function done() {
        clearTimeout(timer)
        resolve()
      }
      this.#wake = done
    })
    this.#wake = null
  }

  /** One claim: starts, parks or gives back what it took, and returns how many it took. */
  async #claim(unlimitedLine: boolean): Promise<number> {
    const limit = this.#room()
    if (limit <= 0) return 0
    const now = this.#o.clock()
    const claimStarted = performance.now()
    const claimed = await this.#o.store.deliveryClaim({
      limit,
      now,
      leaseUntil: new Date(now.getTime() + this.#o.leaseMs),
      readTimeoutMs: this.#o.readTimeoutMs,
    })
    this.#o.attempt.metrics?.claimed(performance.now() - claimStarted)
    // Given back because their host was full: the loop wakes when one of them is due or a slot is
    // freed, rather than after a poll interval while the host sits idle.
    if ((await this.#dispatch(claimed, now, unlimitedLine)) !== null) this.#hostFull = true
    return claimed.length
  }

  /**
   * Reserves the room this worker has now (while it runs) for deliveries that this process's
   * publisher claims in the statement that inserts them, and returns it: the worker's own claims
   * leave it alone until `accept` gives it back.
   */
  reserve(): number {
    if (this.#state !== 'running') return 0
    const room = Math.max(0, this.#free())
    this.#reserved += room
    return room
  }

  /**
   * Takes deliveries that this process claimed as it inserted them (none if the insert failed), as
   * if its own claim had taken them, and frees what `reserve` set aside: one claim statement fewer
   * per publish, and on PGlite's one connection a publish that never waits behind a claim.
   */
  async accept(claimed: ClaimedDelivery[], reserved: number): Promise<void> {
    this.#reserved -= reserved
    if (claimed.length > 0) {
      // Some were given back (their host was full): the loop sleeps until they are due.
      if ((await this.#dispatch(claimed, this.#o.clock(), false)) !== null) this.wake()
    }
    if (claimed.length < reserved) this.roomFreed()
  }

  /**
   * Starts, parks or gives back claimed deliveries; returns when the first of those given back
   * (their host was full) is due again, or null.
   */
  async #dispatch(claimed: ClaimedDelivery[], now: Date, unlimitedLine: boolean): Promise<number | null> {
    const { sendable, held } = holdUnopenable(claimed, this.#o.attempt.logger)
    const giveBack = held.map((delivery) => ({ delivery, at: now.getTime() + heldForSecretsMs }))
    for (const delivery of sendable) {
      if (delivery.notBefore)
        this.#wait(delivery, delivery.notBefore.getTime() - now.getTime(), unlimitedLine)
      else this.#admit(delivery, now.getTime(), unlimitedLine, giveBack)
    }
    const first = giveBack.length > 0 ? Math.min(...giveBack.map(({ at }) => at)) : null
    if (first !== null) this.#hint(first)
    await this.#release(giveBack)
    return first
  }

  /** Gives a claimed delivery a host slot, a place in its host's line, or back to the queue (into `giveBack`). */
  #admit(
    delivery: ClaimedDelivery,
    now: number,
    unlimitedLine: boolean,
    giveBack: { delivery: ClaimedDelivery; at: number }[],
  ): void {
    const host = hostOf(delivery.webhook.targetUrl)
    const admission = this.#slots.admit(host, delivery, now, unlimitedLine)
    if (admission.kind === 'start') this.#start(host, delivery)
    else if (admission.kind === 'release') giveBack.push({ delivery, at: admission.at })
  }

  /**
   * Holds a delivery claimed with a rate-limit slot until the slot (`ms` from now), then admits it;
   * it counts as held meanwhile, and `close` gives it back due at its slot. Sends to one webhook
   * from this process are also kept `spacingMs` apart, so that timers fired late together (a
   * blocked event loop, a claim that took long) do not send in a burst.
   */
  #wait(delivery: ClaimedDelivery, ms: number, unlimitedLine: boolean, respaced = false): void {
    let cancelled = false
    let timer: NodeJS.Timeout | undefined
    const task = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, ms))
      this.#waiting.set(delivery, () => {
        cancelled = true
        clearTimeout(timer)
        resolve()
      })
    }).then(async () => {
      this.#waiting.delete(delivery)
      this.#inFlight.delete(task)
      if (cancelled) return
      const now = this.#o.clock().getTime()
      const webhookId = delivery.webhook.id
      const early =
        (this.#lastSent.get(webhookId) ?? Number.NEGATIVE_INFINITY) + (delivery.spacingMs ?? 0) - now
      // Once at most: an injected clock that stands still must not hold it forever.
      if (early > 1 && !respaced) return this.#wait(delivery, early, unlimitedLine, true)
      if (now - (delivery.notBefore?.getTime() ?? now) > lateSlotMs(delivery.spacingMs ?? 0)) {
        // Too long after its slot (a busy event loop, a slow claim): sent now it could crowd the
        // slots other processes keep. Back to the queue, due now, for a slot of its own.
        await this.#release([{ delivery, at: now }])
        this.wake()
        return
      }
      if (this.#lastSent.size >= 10_000) this.#lastSent.clear()
      this.#lastSent.set(webhookId, now)
      const giveBack: { delivery: ClaimedDelivery; at: number }[] = []
      this.#admit(delivery, this.#o.clock().getTime(), unlimitedLine, giveBack)
      if (giveBack.length > 0) {
        this.#hint(Math.min(...giveBack.map(({ at }) => at)))
        await this.#release(giveBack)
      }
      this.roomFreed()
    })
    this.#inFlight.add(task)
  }

  /**
   * Runs one attempt in a slot `HostSlots` already granted. The slot is freed as soon as the
   * response is in, and goes to the host's line; the outcome is recorded in the background, and
   * counts as held until it is, so a slow database slows claiming instead of piling up outcomes.
   */
  #start(host: string, delivery: ClaimedDelivery): void {
    this.#running += 1
    this.#o.attempt.metrics?.inFlight(1)
    let durationMs = 0
    const task = runAttempt(delivery, this.#o.attempt)
      .then((report) => {
        durationMs = report.result.durationMs
        this.#o.recorder
          .record(report)
          .catch((error) => this.#o.logger.error({ err: error, delivery: delivery.uuid }, 'recording failed'))
      })
      .catch((error) =>
        this.#o.logger.error({ err: error, delivery: delivery.uuid }, 'attempt failed unexpectedly'),
      )
      .finally(() => {
        this.#inFlight.delete(task)
        this.#running -= 1
        this.#o.attempt.metrics?.inFlight(-1)
        this.#slots.finish(host, durationMs)
        // A waiting delivery starts only if its lease outlasts a whole attempt to its webhook (or,
        // with a lease configured shorter than that, half of the lease).
        const { leaseMs, attemptMaxMs, readTimeoutMs } = this.#o
        const needed = (d: ClaimedDelivery) => {
          const attemptMs = webhookAttemptMaxMs(attemptMaxMs, readTimeoutMs, d.webhook.timeout)
          return leaseMs > attemptMaxMs ? attemptMs : leaseMs / 2
        }
        const now = this.#o.clock().getTime()
        const { next, stale } = this.#slots.takeParked(host, (d) => d.lease.getTime() - now > needed(d))
        // Given back due now, with a fresh lease to come: claim them again at once.
        if (stale.length > 0)
          void this.#release(stale.map((d) => ({ delivery: d, at: now }))).then(() => this.wake())
        if (next) this.#start(host, next)
        else this.roomFreed()
      })
    this.#inFlight.add(task)
  }

  /** Gives claimed deliveries back to the queue without an attempt, each due at its `at`. */
  async #release(releases: { delivery: ClaimedDelivery; at: number }[]): Promise<void> {
    if (releases.length === 0) return
    await this.#o.store
      .deliveryRelease({
        releases: releases.map(({ delivery, at }) => ({
          id: delivery.id,
          lease: delivery.lease,
          at: new Date(at),
        })),
      })
      .catch((error) =>
        this.#o.logger.warn(
          { err: error, count: releases.length },
          'giving deliveries back failed; their leases will expire',
        ),
      )
  }
}

/**
 * How late (ms) after its rate-limit slot a delivery may still be sent: half its webhook's spacing,
 * between 50 and 250 ms. A limit of 50/s then sends at most about 53 in any second.
 */
function lateSlotMs(spacingMs: number): number {
  return Math.min(250, Math.max(50, spacingMs / 2))
}

const hosts = new Map<string, string>()

/** The host (and port) of a target URL; kept per URL, as webhooks send many times. */
function hostOf(url: string): string {
  let host = hosts.get(url)
  if (host === undefined) {
    try {
      host = new URL(url).host
    } catch {
      host = url
    }
    if (hosts.size >= 10_000) hosts.clear()
    hosts.set(url, host)
  }
  return host
}
