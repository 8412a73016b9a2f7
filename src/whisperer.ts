import { Registry } from 'prom-client'
import packageJson from '../package.json' with { type: 'json' }
import type { Readiness } from './api/backend.ts'
import { createDashboardHandler, type DashboardHandler, type DashboardOptions } from './api/dashboard.ts'
import { type ApiHandler, type ApiOptions, createApiHandler } from './api/handler.ts'
import { defaultPrefix, type ResolvedConfig, resolveConfig, type WhispererOptions } from './config.ts'
import { compileAddressPolicy } from './core/address-policy.ts'
import { CallbackRegistry } from './core/callbacks.ts'
import { WhispererError } from './core/errors.ts'
import type { OperationalEventName } from './core/operational-events.ts'
import { CountdownRegistry } from './core/retry-countdown.ts'
import type { AttemptContext } from './delivery/attempt.ts'
import { Maintenance } from './delivery/maintenance.ts'
import { OperationalEvents, type OperationalListener } from './delivery/operational-events.ts'
import { sendPing } from './delivery/ping.ts'
import { Recorder } from './delivery/recorder.ts'
import { Sender } from './delivery/sender.ts'
import { TokenAuthenticator } from './delivery/token-auth.ts'
import { Worker } from './delivery/worker.ts'
import { defaultLogger, type Logger } from './logger.ts'
import { DeliveryService } from './service/deliveries.ts'
import { EventTypes } from './service/event-types.ts'
import { PortalService } from './service/portal.ts'
import { type DeliverOptions, type DeliverResult, Publisher } from './service/publish.ts'
import { SecretService } from './service/secrets.ts'
import { TokenService } from './service/tokens.ts'
import { WebhookService } from './service/webhooks.ts'
import { attemptPartitionSpan } from './storage/attempt-partitions.ts'
import type { Database } from './storage/database.ts'
import { latestMigration, migrate } from './storage/migrate.ts'
import { openDatabase } from './storage/open-database.ts'
import { Store } from './storage/store.ts'
import { Metrics } from './telemetry/metrics.ts'
import { whispererTracer } from './telemetry/tracing.ts'

export const version: string = packageJson.version

/** How long readiness waits for the database before it answers `database_unavailable`. */
const readyTimeoutMs = 5000

/**
 * One Whisperer: its registries, its services and, once started, its worker and maintenance.
 * Create it with {@link createWhisperer}.
 */
export class Whisperer {
  /**
   * Event types that `deliverEvent` accepts and subscribers may choose: registered in code, or
   * declared without code and stored for every process.
   */
  readonly eventTypes: EventTypes
  /** Retry countdown patterns: `fixed`, `linear`, `exponential`, `random` and your own. */
  readonly countdowns = new CountdownRegistry()
  /** Callbacks a webhook may name, run after each attempt. */
  readonly callbacks = new CallbackRegistry()
  readonly webhooks: WebhookService
  readonly deliveries: DeliveryService
  /** API tokens of the standalone service. */
  readonly tokens: TokenService
  /**
   * Portal sessions: short-lived, one-time links that open the dashboard for one owner (and
   * optionally some event types, or read-only), to hand to a subscriber.
   */
  readonly portal: PortalService
  /** Secrets at rest: re-encrypting them with the current encryption key. */
  readonly secrets: SecretService
  readonly database: Database
  readonly config: ResolvedConfig
  readonly logger: Logger
  readonly #store: Store
  readonly #sender: Sender
  readonly #recorder: Recorder
  readonly #worker: Worker
  readonly #maintenance: Maintenance
  readonly #publisher: Publisher
  readonly #operations: OperationalEvents
  readonly #metrics: Metrics | null
  #closed = false

  /** @internal Use {@link createWhisperer}. */
  constructor(store: Store, config: ResolvedConfig) {
    const database = store.db
    this.database = database
    this.config = config
    this.logger = config.logger ?? defaultLogger(config.logLevel)
    const { clock } = config
    const addressPolicy = compileAddressPolicy(config)
    this.#store = store
    this.#metrics = config.metrics
      ? new Metrics({
          eventTypeLimit: config.metricsEventTypeLimit,
          snapshotIntervalMs: config.metricsIntervalMs,
          snapshot: async () => {
            const now = clock()
            const { due, oldestDueAt, webhooks } = await store.metricsSnapshot({ now })
            const oldestDueSeconds = oldestDueAt
              ? Math.max(0, now.getTime() - oldestDueAt.getTime()) / 1000
              : 0
            return { due, oldestDueSeconds, webhooks }
          },
        })
      : null
    const metrics = this.#metrics
    if (metrics) {
      store.observe({
        statementFailed: (name) => metrics.dbError(name),
        deliveriesCancelled: (count) => metrics.finished('cancelled', count),
      })
    }
    this.eventTypes = new EventTypes({ store, clock })
    this.#operations = new OperationalEvents({
      payloadKey: config.payloadKey,
      owner: config.operationsOwner,
      logger: this.logger,
      metrics,
      onDeliveries: () => this.#worker.wake(),
    })
    this.#sender = new Sender({
      connectTimeoutMs: config.connectTimeoutMs,
      readTimeoutMs: config.readTimeoutMs,
      responseBodyLimit: config.responseBodyLimit,
      addressPolicy,
    })
    const context: AttemptContext = {
      sender: this.#sender,
      tokens: new TokenAuthenticator({ sender: this.#sender, ttlMs: config.tokenTtlMs, logger: this.logger }),
      countdowns: this.countdowns,
      policy: { maxAttempts: config.maxAttempts, retryAfterMaxSeconds: config.retryAfterMaxSeconds },
      userAgent: config.userAgent,
      clock,
      random: config.random,
      tracer: whispererTracer(version),
      metrics,
      logger: this.logger,
    }
    this.#recorder = new Recorder({
      store: this.#store,
      eventTypes: this.eventTypes.registry,
      callbacks: this.callbacks,
      logger: this.logger,
      clock,
      operations: this.#operations,
      onScheduled: (at) => this.#worker.noteDue(at),
      onStored: () => this.#worker.roomFreed(),
      metrics,
    })
    this.#worker = new Worker({
      store: this.#store,
      recorder: this.#recorder,
      attempt: context,
      logger: this.logger,
      clock,
      concurrency: config.concurrency,
      perHostConcurrency: config.perHostConcurrency,
      claimBatch: config.claimBatch,
      pollIntervalMs: config.pollIntervalMs,
      leaseMs: config.leaseMs,
      attemptMaxMs: config.attemptMaxMs,
      readTimeoutMs: config.readTimeoutMs,
    })
    this.secrets = new SecretService({ store: this.#store, logger: this.logger })
    this.#maintenance = new Maintenance({
      store: this.#store,
      secrets: config.keys.encrypting ? this.secrets : null,
      idempotencyTtlMs: config.idempotencyTtlMs,
      logger: this.logger,
      clock,
      operations: this.#operations,
      retentionMs: config.retentionMs,
      disableFailingAfterMs: config.disableFailingAfterMs,
      batchSize: 1000,
      intervalMs: config.maintenanceIntervalMs,
      vacuum: database.kind === 'pglite',
    })
    this.webhooks = new WebhookService({
      store: this.#store,
      clock,
      ping: async (webhook) => {
        const sending = await store.webhookForSending({ id: webhook.id })
        if (!sending) throw new WhispererError('webhook_not_found', `Webhook ${webhook.id} does not exist`)
        return sendPing({ ...sending, eventType: webhook.eventType }, context, config.payloadKey)
      },
      freshEventType: (type) => this.eventTypes.fresh(type),
      validation: {
        hasEventType: (type) => this.eventTypes.registry.has(type),
        eventTypeNames: () => this.eventTypes.registry.list().map((definition) => definition.type),
        hasCallback: (name) => this.callbacks.has(name),
        fieldsOf: (type) => this.eventTypes.registry.fieldsOf(type),
        countdowns: this.countdowns,
        addressPolicy,
      },
    })
    this.deliveries = new DeliveryService({
      store: this.#store,
      context,
      recorder: this.#recorder,
      leaseMs: config.leaseMs,
      readTimeoutMs: config.readTimeoutMs,
      onRequeued: () => this.#worker.wake(),
    })
    this.tokens = new TokenService({ store: this.#store, clock })
    this.portal = new PortalService({
      store: this.#store,
      clock,
      hasEventType: async (type) => {
        await this.eventTypes.fresh([type])
        return this.eventTypes.registry.has(type)
      },
      logger: this.logger,
    })
    this.#publisher = new Publisher({
      store: this.#store,
      eventTypes: this.eventTypes,
      deliveries: this.deliveries,
      payloadKey: config.payloadKey,
      context,
      recorder: this.#recorder,
      concurrency: config.concurrency,
      leaseMs: config.leaseMs,
      readTimeoutMs: config.readTimeoutMs,
      idempotencyTtlMs: config.idempotencyTtlMs,
      onEnqueued: () => this.#worker.wake(),
      // On PGlite this process is the only one that can claim: what it publishes goes straight to
      // its worker, without a claim statement, while the worker has room.
      ...(store.db.kind === 'pglite'
        ? {
            handOff: {
              reserve: () => this.#worker.reserve(),
              accept: (claimed, reserved) => this.#worker.accept(claimed, reserved),
            },
          }
        : {}),
    })
  }

  /**
   * Delivers an event of `type` to every active webhook subscribed to it. By default it only
   * queues the deliveries (one SQL statement, whatever the fan-out); the workers send them.
   */
  deliverEvent(instance: unknown, type: string, options?: DeliverOptions): Promise<DeliverResult> {
    this.#assertOpen()
    return this.#publisher.deliverEvent(instance, type, options)
  }

  /**
   * Calls `listener` with each operational event this process causes (`webhook.failing`,
   * `webhook.disabled`, `webhook.recovered`, `delivery.exhausted`, `lane.blocked`, or `*` for all), once it is
   * stored. Webhooks subscribed to the `whisperer.*` event types receive them from every process.
   * Returns a function that removes the listener.
   */
  on(name: OperationalEventName | '*', listener: OperationalListener): () => void {
    return this.#operations.on(name, listener)
  }

  /**
   * The prom-client registry of this Whisperer's metrics (its own, not prom-client's global one):
   * merge it into an application's registry with `Registry.merge`. Empty with `metrics: false`.
   */
  get registry(): Registry {
    return this.#metrics?.registry ?? emptyRegistry
  }

  /** Every metric in the Prometheus text format, as `GET /metrics` serves it. */
  metrics(): Promise<string> {
    return this.#metrics?.text() ?? Promise.resolve('')
  }

  /**
   * Readiness: the database answers within a few seconds and every migration of this version is
   * applied. Never throws.
   */
  async ready(): Promise<Readiness> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), readyTimeoutMs)
    })
    try {
      const [applied, latest] = await Promise.race([
        Promise.all([this.#store.schemaVersionGet(), latestMigration()]),
        timeout.then(() => {
          throw new Error('timeout')
        }),
      ])
      return applied !== null && applied >= latest
        ? { ready: true, secrets: this.config.keys.encrypting ? 'encrypted' : 'clear' }
        : { ready: false, reason: 'migrations_pending' }
    } catch {
      return { ready: false, reason: 'database_unavailable' }
    } finally {
      clearTimeout(timer)
    }
  }

  /**
   * The REST API as a Web-standard `(Request) => Promise<Response>` handler, to mount in any
   * framework. `authenticate` tells who sends each request.
   */
  api(options: ApiOptions): ApiHandler {
    const limit = this.config.apiRateLimit
    return createApiHandler(this, {
      rateLimit: limit > 0 ? { requestsPerSecond: limit, burst: 2 * limit } : false,
      ...options,
    })
  }

  /**
   * The dashboard (the subscriber portal) as a Web-standard `(Request) => Promise<Response>`
   * handler serving its files at `<prefix>/dashboard/`, beside the API mounted at `prefix`. It may
   * be framed by `frameAncestors` (by default the `portalFrameAncestors` option), and takes the
   * application's brand name, logo and accent colour as its `theme`.
   */
  dashboard(options: Partial<Omit<DashboardOptions, 'directory'>> = {}): DashboardHandler {
    return createDashboardHandler({
      prefix: options.prefix ?? defaultPrefix,
      frameAncestors: options.frameAncestors ?? this.config.portalFrameAncestors,
      ...(options.theme ? { theme: options.theme } : {}),
    })
  }

  /** Starts the worker (claiming and sending due deliveries) and periodic maintenance. */
  async start(): Promise<void> {
    this.#assertOpen()
    if (!this.config.keys.encrypting) {
      this.logger.warn(
        { secrets: 'clear' },
        'webhook secrets are stored in clear: set WHISPERER_ENCRYPTION_KEYS (encryptionKeys) to encrypt them at rest',
      )
    }
    await this.#worker.start()
    this.#maintenance.start()
  }

  /** Sends everything due now and resolves when it is recorded; for tests and cron-style use. */
  processDue(): Promise<number> {
    this.#assertOpen()
    return this.#worker.processDue()
  }

  /** One maintenance pass now: expired history deleted (and PGlite vacuumed). Returns deliveries deleted. */
  runMaintenance(): Promise<number> {
    this.#assertOpen()
    return this.#maintenance.run()
  }

  /**
   * Stops claiming, finishes what is in flight (or gives it back), records every outcome, and closes
   * the connections Whisperer opened.
   */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#maintenance.stop()
    await this.#worker.close()
    await this.#recorder.drain()
    await this.#sender.close()
    // A Database passed in is the caller's to close; one opened from a URL, pool or PGlite is ours.
    if (this.database !== this.config.database) await this.database.close()
  }

  #assertOpen(): void {
    if (this.#closed) throw new WhispererError('closed')
  }
}

/** The registry of a Whisperer whose metrics are off. */
const emptyRegistry = new Registry()

/**
 * Opens the database (embedded PGlite in `./.whisperer` unless told otherwise), applies migrations,
 * and returns a Whisperer. Call `start()` to run a worker in this process.
 */
export async function createWhisperer(options: WhispererOptions = {}): Promise<Whisperer> {
  const config = resolveConfig(options, version)
  const database = await openDatabase(config.database, {
    prepare: config.preparedStatements,
    listenUrl: config.listenUrl,
  })
  const store = new Store(database, config.schema, { keys: config.keys })
  try {
    if (config.migrate) await migrate(database, config.schema)
    await store.attemptPartitionsEnsure(attemptPartitionSpan(config.clock()))
  } catch (error) {
    if (database !== config.database) await database.close()
    throw error
  }
  return new Whisperer(store, config)
}
