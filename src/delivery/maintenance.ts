import type { Logger } from '../logger.ts'
import { attemptPartitionSpan } from '../storage/attempt-partitions.ts'
import type { Store } from '../storage/store.ts'
import type { OperationalEvents } from './operational-events.ts'

export interface MaintenanceOptions {
  store: Store
  logger: Logger
  clock: () => Date
  /** Operational events: webhooks disabled for failing too long emit `whisperer.webhook.disabled`. */
  operations: OperationalEvents
  /** Finished deliveries and their events are kept this long (ms); attempts, by whole weeks past it. */
  retentionMs: number
  /** Rows deleted per statement. */
  batchSize: number
  /** Time between runs (ms). */
  intervalMs: number
  /** Webhooks failing without a success for this long are disabled (ms); 0 never disables. */
  disableFailingAfterMs: number
  /** Vacuum the queue table each run: PGlite has no autovacuum. */
  vacuum: boolean
  /**
   * With encryption keys: secrets not sealed with the current key (stored in clear before a key
   * was given, or under an older key) are sealed by the first pass of each process.
   */
  secrets: { pending(): Promise<number>; rewrap(): Promise<unknown> } | null
  /** Publishes' idempotency keys live this long (ms); they are deleted an hour later. */
  idempotencyTtlMs: number
}

/**
 * Retention cleanup (dj-whisperer's `delete_outdated_webhook_events`): deliveries and events in
 * small batches, so it never holds long locks, and attempts by dropping whole weekly partitions,
 * which are created weeks ahead here too; disabling webhooks that have failed for days, as Svix and Stripe do;
 * and vacuuming where the database does not do it by itself.
 */
export class Maintenance {
  readonly #o: MaintenanceOptions
  #timer: NodeJS.Timeout | null = null
  #running: Promise<void> | null = null
  #secretsSealed = false

  constructor(options: MaintenanceOptions) {
    this.#o = options
  }

  /** Runs a pass now, then one every interval. */
  start(): void {
    if (this.#timer) return
    const pass = () => {
      this.#running ??= this.run()
        .then(() => {})
        .catch((error) => this.#o.logger.error({ err: error }, 'maintenance failed'))
        .finally(() => {
          this.#running = null
        })
    }
    this.#timer = setInterval(pass, this.#o.intervalMs)
    this.#timer.unref()
    pass()
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = null
    await this.#running
  }

  /** One pass: seals secrets in clear (the first pass), disables long-failing webhooks, removes signing keys past their grace period, deletes expired history (and portal sessions a day past their expiry) batch by batch; returns the deliveries deleted. */
  async run(): Promise<number> {
    if (this.#o.secrets && !this.#secretsSealed) {
      if ((await this.#o.secrets.pending()) > 0) await this.#o.secrets.rewrap()
      this.#secretsSealed = true
    }
    const now = this.#o.clock()
    if (this.#o.disableFailingAfterMs > 0) {
      const { disabled, operational } = await this.#o.store.webhookDisableFailing({
        before: new Date(now.getTime() - this.#o.disableFailingAfterMs),
        now,
        operations: this.#o.operations.options,
      })
      this.#o.operations.emitted(operational)
      if (disabled.length > 0)
        this.#o.logger.warn({ webhooks: disabled }, 'webhooks disabled: failing for too long')
    }
    // A lane whose next delivery was left parked (a process died between a completion and the
    // statement that releases it) moves on here.
    const woken = await this.#o.store.lanesWake({ now })
    if (woken > 0) this.#o.logger.info({ lanes: woken }, 'ordered lanes released')
    const expired = await this.#o.store.webhookKeysExpire({ now })
    if (expired > 0) this.#o.logger.info({ webhooks: expired }, 'previous signing keys expired')
    await this.#o.store.attemptPartitionsEnsure(attemptPartitionSpan(now))
    const before = new Date(now.getTime() - this.#o.retentionMs)
    let total = 0
    for (let batch = 0; batch < 1000; batch += 1) {
      const deleted = await this.#o.store.retentionDelete({ before, limit: this.#o.batchSize })
      total += deleted
      if (deleted < this.#o.batchSize) break
      await new Promise((resolve) => setImmediate(resolve))
    }
    // An hour past their lifetime: a publish that found a key live can still read it back.
    const keysBefore = new Date(now.getTime() - this.#o.idempotencyTtlMs - 3_600_000)
    for (let batch = 0; batch < 1000; batch += 1) {
      if (
        (await this.#o.store.idempotencyKeysExpire({ before: keysBefore, limit: this.#o.batchSize })) <
        this.#o.batchSize
      )
        break
    }
    // A day past their expiry, portal sessions are gone: their 401 was `portal_session_expired` until then.
    const sessionsBefore = new Date(now.getTime() - 86_400_000)
    for (let batch = 0; batch < 1000; batch += 1) {
      if (
        (await this.#o.store.portalSessionsExpire({ before: sessionsBefore, limit: this.#o.batchSize })) <
        this.#o.batchSize
      )
        break
    }
    const dropped = await this.#o.store.attemptPartitionsDrop({ before, lockTimeoutMs: 1000 })
    if (dropped.length > 0) this.#o.logger.info({ partitions: dropped }, 'expired attempt partitions dropped')
    if (this.#o.vacuum) await this.#o.store.vacuum()
    if (total > 0) this.#o.logger.info({ deleted: total, before }, 'expired deliveries deleted')
    return total
  }
}
