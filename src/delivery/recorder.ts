import { setTimeout as sleep } from 'node:timers/promises'
import { type CallbackRegistry, callbackContextResponse } from '../core/callbacks.ts'
import type { EventTypeRegistry } from '../core/event-types.ts'
import { parseRetryAfter } from '../core/outcome.ts'
import { isThrottle, maxPauseMs } from '../core/rate-limit.ts'
import type { Logger } from '../logger.ts'
import { attemptPartitionSpan } from '../storage/attempt-partitions.ts'
import type { Completed, RateSignal, Store } from '../storage/store.ts'
import type { Metrics } from '../telemetry/metrics.ts'
import type { AttemptReport } from './attempt.ts'
import type { OperationalEvents } from './operational-events.ts'

interface Entry {
  report: AttemptReport
  /** The instance for callbacks; undefined means "load it if the event type can". */
  instance: unknown
  waitForCallback: boolean
  resolve: () => void
  reject: (error: Error) => void
}

export interface RecorderOptions {
  store: Store
  eventTypes: EventTypeRegistry
  callbacks: CallbackRegistry
  logger: Logger
  clock: () => Date
  /** Operational events: how the completion statement stores them, and who hears of them. */
  operations: OperationalEvents
  /** Completions written per statement. @default 500 */
  maxBatch?: number
  /** Told of every retry scheduled, so the local worker can wake for it. */
  onScheduled?: (at: Date) => void
  /** Told after each batch is stored: the worker counts unstored outcomes as held. */
  onStored?: () => void
  /** Counts the attempts stored and the deliveries they finished. @default null */
  metrics?: Metrics | null
}

/**
 * Writes attempt reports to the database in batches (group commit: one statement for whatever
 * finished while the previous write ran), then runs the callbacks. A failed write is retried until it succeeds, so an attempt
 * is never forgotten while the process lives.
 */
export class Recorder {
  readonly #options: RecorderOptions
  readonly #maxBatch: number
  #queue: Entry[] = []
  #flushing: Promise<void> | null = null
  readonly #followUps = new Set<Promise<void>>()

  constructor(options: RecorderOptions) {
    this.#options = options
    this.#maxBatch = options.maxBatch ?? 500
  }

  /** Reports queued or being written. */
  get pending(): number {
    return this.#queue.length
  }

  /**
   * Queues a report; resolves once it is stored (and, with `waitForCallback`, once its callback has
   * run). `instance` is what callbacks receive.
   */
  record(
    report: AttemptReport,
    options: { instance?: unknown; waitForCallback?: boolean } = {},
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#queue.push({
        report,
        instance: options.instance,
        waitForCallback: options.waitForCallback ?? false,
        resolve,
        reject,
      })
      if (!this.#flushing) this.#flushing = this.#flushLoop()
    })
  }

  /** Resolves when everything queued so far is stored and its callbacks have run. */
  async drain(): Promise<void> {
    while (this.#flushing || this.#followUps.size > 0) {
      await this.#flushing
      await Promise.all([...this.#followUps])
    }
  }

  async #flushLoop(): Promise<void> {
    // Let the attempts that finish in this turn of the event loop join the first batch.
    await new Promise((resolve) => setImmediate(resolve))
    let failures = 0
    while (this.#queue.length > 0) {
      const batch = this.#queue.slice(0, this.#maxBatch)
      let completed: Completed
      try {
        completed = await this.#options.store.deliveryComplete({
          completions: batch.map((entry) => entry.report.completion),
          now: this.#options.clock(),
          operations: this.#options.operations.options,
        })
      } catch (error) {
        if (isMissingPartition(error)) {
          // An attempt from a week with no partition yet (a clock far off, a maintenance that
          // never ran): create it and write again at once.
          const times = batch.map((entry) => entry.report.completion.attempt.createdAt.getTime())
          const oldest = attemptPartitionSpan(new Date(Math.min(...times)))
          const newest = attemptPartitionSpan(new Date(Math.max(...times)))
          const ensured = await this.#options.store
            .attemptPartitionsEnsure({ from: oldest.from, to: newest.to })
            .then(() => true)
            .catch(() => false)
          if (ensured) continue
        }
        failures += 1
        this.#options.logger.error(
          { err: error, completions: batch.length, failures },
          'recording attempts failed; retrying',
        )
        await sleep(Math.min(100 * 2 ** failures, 5000))
        continue
      }
      failures = 0
      this.#queue = this.#queue.slice(batch.length)
      this.#options.onStored?.()
      this.#options.operations.emitted(completed.operational)
      if (this.#options.metrics) count(this.#options.metrics, batch, completed)
      const signals = rateSignals(batch, this.#options.clock())
      if (signals.length > 0) this.#track(this.#adjustRates(signals))
      for (const entry of batch) {
        const followUp = this.#followUp(entry, completed.attemptIds.get(entry.report.delivery.id))
        if (entry.waitForCallback) followUp.then(entry.resolve, entry.reject)
        else {
          entry.resolve()
          this.#track(followUp)
        }
      }
    }
    this.#flushing = null
  }

  /** Feeds the batch's answers to the shared adaptive rates; a failure only loses one adjustment. */
  async #adjustRates(signals: RateSignal[]): Promise<void> {
    await this.#options.store
      .webhookRatesAdjust({ signals, now: this.#options.clock() })
      .catch((error) => this.#options.logger.warn({ err: error }, 'adjusting webhook rates failed'))
  }

  #track(promise: Promise<void>): void {
    this.#followUps.add(promise)
    promise.finally(() => this.#followUps.delete(promise))
  }

  async #followUp(entry: Entry, attemptId: number | undefined): Promise<void> {
    const { report } = entry
    const { delivery, transition } = report
    const { store, logger } = this.#options
    if (transition.status === 'pending') this.#options.onScheduled?.(transition.nextAttemptAt)
    if (transition.disableWebhook) {
      logger.warn({ webhookId: delivery.webhook.id }, 'webhook disabled: its target answered 410 Gone')
    }
    const name = delivery.webhook.callback
    if (!name) return
    const callback = this.#options.callbacks.get(name)
    try {
      if (!callback) throw new Error(`callback "${name}" is not registered in this process`)
      const instance =
        entry.instance !== undefined
          ? entry.instance
          : await this.#load(delivery.eventType, delivery.subjectId)
      await callback({
        response: callbackContextResponse(report.result),
        error:
          report.result.kind === 'error'
            ? { kind: report.result.error, message: report.result.message }
            : null,
        eventType: delivery.eventType,
        instance,
        payload: JSON.parse(delivery.body),
        delivery: {
          uuid: delivery.uuid,
          webhookId: delivery.webhook.id,
          status: transition.status,
          retryCount: transition.retryCount,
        },
      })
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      logger.error({ err: error, callback: name, delivery: delivery.uuid }, 'callback failed')
      if (attemptId !== undefined) {
        await store
          .attemptNoteCallbackError({ attemptId, error: message.replaceAll('\0', '').slice(0, 2000) })
          .catch((noteError) => logger.error({ err: noteError }, 'noting a callback failure failed'))
      }
    }
  }

  async #load(eventType: string, subjectId: string | null): Promise<unknown> {
    const definition = this.#options.eventTypes.has(eventType)
      ? this.#options.eventTypes.get(eventType)
      : undefined
    if (!definition?.load || subjectId === null) return null
    return (await definition.load(subjectId)) ?? null
  }
}

/**
 * What a batch says about its webhooks' rates: successes under a rate limit, and 429 or 503
 * answers (from any attempt, a manual one too), with the latest `Retry-After` among them, capped.
 */
export function rateSignals(batch: readonly { report: AttemptReport }[], now: Date): RateSignal[] {
  const byWebhook = new Map<number, RateSignal>()
  for (const { report } of batch) {
    const { result, delivery } = report
    const status = result.kind === 'response' ? result.status : null
    const throttled = isThrottle(status)
    const success = status !== null && status >= 200 && status < 300 && delivery.rated
    if (!throttled && !success) continue
    const webhookId = delivery.webhook.id
    const signal = byWebhook.get(webhookId) ?? { webhookId, successes: 0, throttles: 0, pauseUntil: null }
    if (success) signal.successes += 1
    if (throttled && result.kind === 'response') {
      signal.throttles += 1
      const seconds = parseRetryAfter(result.headers['retry-after'], now)
      if (seconds !== undefined && seconds > 0) {
        const until = new Date(now.getTime() + Math.min(seconds * 1000, maxPauseMs))
        if (!signal.pauseUntil || until > signal.pauseUntil) signal.pauseUntil = until
      }
    }
    byWebhook.set(webhookId, signal)
  }
  return [...byWebhook.values()]
}

/** Counts a stored batch: its attempts, and the deliveries it finished. */
function count(metrics: Metrics, batch: Entry[], completed: Completed): void {
  for (const { report } of batch) {
    const { id } = report.delivery
    if (!completed.attemptIds.has(id)) continue
    const status = completed.statuses.get(id)
    const { attempt } = report.completion
    const latencyMs =
      status === 'delivered'
        ? attempt.createdAt.getTime() + attempt.durationMs - report.delivery.createdAt.getTime()
        : null
    metrics.attempted(report.result, latencyMs)
    if (status === 'delivered' || status === 'failed' || status === 'cancelled') metrics.finished(status)
  }
}

/** PostgreSQL's error for a row that no partition accepts. */
function isMissingPartition(error: unknown): boolean {
  const { code, message } = error as { code?: string; message?: string }
  return code === '23514' && /no partition/.test(message ?? '')
}
