import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'
import type { AttemptResult } from '../core/outcome.ts'

/** How an attempt ended, as `whisperer_attempts_total{outcome}` counts it. */
export type AttemptOutcomeLabel =
  | 'success'
  | 'http_4xx'
  | 'http_5xx'
  | 'timeout'
  | 'connect'
  | 'dns'
  | 'tls'
  | 'blocked'
  | 'gone'

export const attemptOutcomes: readonly AttemptOutcomeLabel[] = [
  'success',
  'http_4xx',
  'http_5xx',
  'timeout',
  'connect',
  'dns',
  'tls',
  'blocked',
  'gone',
]

/** The statuses a delivery finishes in. */
export type FinishedStatus = 'delivered' | 'failed' | 'cancelled'
const finishedStatuses: readonly FinishedStatus[] = ['delivered', 'failed', 'cancelled']

/** The queue and webhook figures read from the database, once per interval at most. */
export interface QueueSnapshot {
  /** Deliveries due now and not claimed: pending and due, or delivering with an expired lease. */
  due: number
  /** Seconds since the oldest of them became due; 0 when none is due. */
  oldestDueSeconds: number
  webhooks: { active: number; failing: number; disabled: number }
}

export interface MetricsOptions {
  /** Reads the queue and webhook figures (one or two statements). */
  snapshot: () => Promise<QueueSnapshot>
  /** The longest a snapshot is reused, in ms; concurrent scrapes share one read whatever it is. */
  snapshotIntervalMs: number
  /** Distinct `event_type` label values at most; the rest are counted as `other`. */
  eventTypeLimit: number
}

/**
 * The label of an attempt: `success` for a 2xx, `gone` for a 410, `http_5xx` for a 5xx,
 * `http_4xx` for any other status (a 3xx included: redirects are never followed), else the
 * transport error; a malformed answer (an error of kind `http`) counts as `connect`.
 */
export function attemptOutcomeOf(result: AttemptResult): AttemptOutcomeLabel {
  if (result.kind === 'error') return result.error === 'http' ? 'connect' : result.error
  const { status } = result
  if (status >= 200 && status < 300) return 'success'
  if (status === 410) return 'gone'
  return status >= 500 ? 'http_5xx' : 'http_4xx'
}

/**
 * Whisperer's Prometheus metrics, on a registry of its own (never prom-client's global one), so
 * that two Whisperers in a process, or an application's own metrics, never collide. Queue and
 * webhook gauges are read from the database when scraped, at most once per interval, and
 * concurrent scrapes share the read.
 */
export class Metrics {
  readonly registry = new Registry()
  readonly #options: MetricsOptions
  readonly #eventTypes = new Set<string>()
  readonly #published: Counter<'event_type'>
  readonly #enqueued: Counter<'event_type'>
  readonly #attempts: Counter<'outcome'>
  readonly #attemptDuration: Histogram<'outcome'>
  readonly #finished: Counter<'status'>
  readonly #latency: Histogram
  readonly #inFlight: Gauge
  readonly #claimDuration: Histogram
  readonly #dbErrors: Counter<'operation'>
  #snapshot: Promise<QueueSnapshot | null> | null = null
  #snapshotAt = Number.NEGATIVE_INFINITY
  #reading = false
  #last: QueueSnapshot = { due: 0, oldestDueSeconds: 0, webhooks: { active: 0, failing: 0, disabled: 0 } }

  constructor(options: MetricsOptions) {
    this.#options = options
    const registers = [this.registry]
    collectDefaultMetrics({ register: this.registry })
    this.#published = new Counter({
      name: 'whisperer_events_published_total',
      help: 'Events stored by deliverEvent or the events/ route, by event type',
      labelNames: ['event_type'],
      registers,
    })
    this.#enqueued = new Counter({
      name: 'whisperer_deliveries_enqueued_total',
      help: 'Deliveries created for published events, by event type',
      labelNames: ['event_type'],
      registers,
    })
    this.#attempts = new Counter({
      name: 'whisperer_attempts_total',
      help: 'Delivery attempts recorded, by outcome',
      labelNames: ['outcome'],
      registers,
    })
    this.#attemptDuration = new Histogram({
      name: 'whisperer_attempt_duration_seconds',
      help: 'Duration of delivery attempts (the HTTP request), by outcome',
      labelNames: ['outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    })
    this.#finished = new Counter({
      name: 'whisperer_deliveries_finished_total',
      help: 'Deliveries that reached a final status: delivered, failed or cancelled',
      labelNames: ['status'],
      registers,
    })
    this.#latency = new Histogram({
      name: 'whisperer_delivery_latency_seconds',
      help: 'Time from enqueue to the end of the successful attempt',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 21600, 86400],
      registers,
    })
    this.#inFlight = new Gauge({
      name: 'whisperer_in_flight',
      help: 'Attempts under way in this process',
      registers,
    })
    this.#claimDuration = new Histogram({
      name: 'whisperer_claim_duration_seconds',
      help: 'Duration of the statement that claims due deliveries',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    })
    this.#dbErrors = new Counter({
      name: 'whisperer_db_errors_total',
      help: 'Database statements that failed, by statement name',
      labelNames: ['operation'],
      registers,
    })
    const read = () => this.#read()
    new Gauge({
      name: 'whisperer_queue_due',
      help: 'Deliveries due now and not yet claimed (pending and due, or delivering with an expired lease)',
      registers,
      async collect() {
        this.set((await read()).due)
      },
    })
    new Gauge({
      name: 'whisperer_queue_oldest_due_seconds',
      help: 'Seconds since the oldest due delivery became due; 0 when none is due',
      registers,
      async collect() {
        this.set((await read()).oldestDueSeconds)
      },
    })
    new Gauge({
      name: 'whisperer_webhooks',
      help: 'Webhooks by state: active, failing (active with failures since the last success) or disabled',
      labelNames: ['state'],
      registers,
      async collect() {
        const { webhooks } = await read()
        this.set({ state: 'active' }, webhooks.active)
        this.set({ state: 'failing' }, webhooks.failing)
        this.set({ state: 'disabled' }, webhooks.disabled)
      },
    })
    // Known label sets exist at 0 from the first scrape.
    for (const outcome of attemptOutcomes) {
      this.#attempts.inc({ outcome }, 0)
      this.#attemptDuration.zero({ outcome })
    }
    for (const status of finishedStatuses) this.#finished.inc({ status }, 0)
  }

  /** The exposition text of every metric. */
  text(): Promise<string> {
    return this.registry.metrics()
  }

  /** An event was stored, with `deliveries` deliveries. */
  published(eventType: string, deliveries: number): void {
    const label = { event_type: this.#eventTypeLabel(eventType) }
    this.#published.inc(label)
    if (deliveries > 0) this.#enqueued.inc(label, deliveries)
  }

  /** An attempt was recorded; `latencyMs` is enqueue to finish when it delivered. */
  attempted(result: AttemptResult, latencyMs: number | null): void {
    const outcome = attemptOutcomeOf(result)
    this.#attempts.inc({ outcome })
    this.#attemptDuration.observe({ outcome }, result.durationMs / 1000)
    if (latencyMs !== null) this.#latency.observe(Math.max(0, latencyMs) / 1000)
  }

  /** Deliveries that reached a final status. */
  finished(status: FinishedStatus, count = 1): void {
    if (count > 0) this.#finished.inc({ status }, count)
  }

  /** An attempt started (+1) or ended (-1) in this process. */
  inFlight(delta: 1 | -1): void {
    this.#inFlight.inc(delta)
  }

  claimed(durationMs: number): void {
    this.#claimDuration.observe(durationMs / 1000)
  }

  /** A statement failed on the database. */
  dbError(operation: string): void {
    this.#dbErrors.inc({ operation })
  }

  #eventTypeLabel(type: string): string {
    if (this.#eventTypes.has(type)) return type
    if (this.#eventTypes.size < this.#options.eventTypeLimit) {
      this.#eventTypes.add(type)
      return type
    }
    return 'other'
  }

  /**
   * The snapshot, read at most once per interval; scrapes that arrive while it is read share the
   * read. A failed read serves the last figures (the failure is counted in db errors).
   */
  async #read(): Promise<QueueSnapshot> {
    const now = performance.now()
    const fresh = now - this.#snapshotAt < this.#options.snapshotIntervalMs
    if (!this.#snapshot || (!this.#reading && !fresh)) {
      this.#reading = true
      const reading: Promise<QueueSnapshot | null> = this.#options.snapshot().then(
        (snapshot) => {
          this.#last = snapshot
          // The interval runs from when the read ended: a slow database is read no more often.
          this.#snapshotAt = performance.now()
          this.#reading = false
          return snapshot
        },
        () => {
          this.#reading = false
          if (this.#snapshot === reading) this.#snapshot = null
          return null
        },
      )
      this.#snapshot = reading
    }
    return (await this.#snapshot) ?? this.#last
  }
}
