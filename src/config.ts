import { z } from 'zod'
import { type OptionRow, optionTable } from './config-options.ts'
import { WhispererError } from './core/errors.ts'
import { KeyRing } from './core/key-ring.ts'
import type { PayloadKey } from './core/payload.ts'
import type { Logger } from './logger.ts'
import type { Database } from './storage/database.ts'

/** Everything `createWhisperer` accepts. Each option may also come from the environment, named below. */
export interface WhispererOptions {
  /**
   * Where data lives: a `postgres://` URL, a PGlite directory, `memory://`, or an open `pg.Pool`,
   * `PGlite` or {@link Database}. Env: `DATABASE_URL`.
   * @default './.whisperer' (embedded PGlite)
   */
  database?: string | Database | object
  /**
   * PostgreSQL: run the hot statements as named prepared statements. Turn off behind a pooler in
   * transaction mode that does not keep them (PgBouncer before 1.21).
   * Env: `WHISPERER_PREPARED_STATEMENTS`. @default true
   */
  preparedStatements?: boolean
  /**
   * PostgreSQL: a URL straight to the server for the connection a worker LISTENs on, when
   * `database` goes through a pooler in transaction mode (which loses LISTEN).
   * Env: `WHISPERER_LISTEN_URL`. @default none (LISTEN through `database`)
   */
  listenUrl?: string
  /** The PostgreSQL schema holding Whisperer's tables. Env: `WHISPERER_SCHEMA`. @default 'whisperer' */
  schema?: string
  /** Run migrations on start. @default true */
  migrate?: boolean
  /** The body key of the serialized data: `data` (the seeds) or `payload`. Env: `WHISPERER_PAYLOAD_KEY`. @default 'data' */
  payloadKey?: PayloadKey
  /**
   * Seconds to connect and to read, or `[connect, read]`. Env: `WHISPERER_REQUEST_TIMEOUT` (`10` or `5,10`).
   * @default 10
   */
  requestTimeout?: number | [number, number]
  /** Attempts a delivery gets before it is `failed`. Env: `WHISPERER_MAX_ATTEMPTS`. @default 19 */
  maxAttempts?: number
  /** Bytes of each response body kept on its attempt. @default 65536 */
  responseBodyLimit?: number
  /** The longest wait a `Retry-After` header can impose, in seconds. @default 3600 */
  retryAfterMax?: number
  /** Allow private, loopback and link-local targets. Env: `WHISPERER_ALLOW_PRIVATE_TARGETS`. @default false */
  allowPrivateTargets?: boolean
  /** Hosts, addresses or CIDR ranges allowed although private. Env: `WHISPERER_ALLOWED_TARGETS` (comma-separated). @default [] */
  allowedTargets?: string[]
  /**
   * Deliveries a worker holds at once: attempts in flight, deliveries waiting for a host slot, and
   * outcomes not yet stored. Env: `WHISPERER_CONCURRENCY`. @default 64
   */
  concurrency?: number
  /** Attempts in flight per target host. Env: `WHISPERER_PER_HOST_CONCURRENCY`. @default 16 */
  perHostConcurrency?: number
  /** Deliveries taken per claim at most. @default 100 */
  claimBatch?: number
  /** The longest a worker waits before looking for due deliveries without being woken, in ms. Env: `WHISPERER_POLL_INTERVAL`. @default 2000 */
  pollInterval?: number
  /**
   * How long a claim holds a delivery, in seconds; longer than any attempt (a token login and the
   * request, each bounded by connect + 2 × read) so a live attempt is never claimed twice.
   * Env: `WHISPERER_LEASE_SECONDS`.
   * @default 2 × (connect + 2 × read) + 10
   */
  leaseSeconds?: number
  /**
   * Finished deliveries and their events are deleted after this many days; attempts go a whole
   * week at a time once their week is older than that. @default 84 (12 weeks)
   */
  retentionDays?: number
  /**
   * The owner whose webhooks receive the operational events of every owner (`whisperer.*` event
   * types); each owner's webhooks receive those about its own. Env: `WHISPERER_OPERATIONS_OWNER`.
   * @default 'admin'
   */
  operationsOwner?: string
  /**
   * The origins that may show the dashboard (the subscriber portal) in a frame, as CSP
   * `frame-ancestors` sources (`https://app.example.com`, `'self'`); none by default, so it may not
   * be framed. Env: `WHISPERER_PORTAL_FRAME_ANCESTORS`. @default []
   */
  portalFrameAncestors?: string[]
  /**
   * A webhook whose attempts have all failed for this many days is disabled (`disabledReason:
   * 'failing'`) and its pending deliveries cancelled; 0 never disables. @default 5
   */
  disableAfterFailingDays?: number
  /**
   * How long a publish's idempotency key lives, in seconds: a repeat within it returns the first
   * publish's result. Env: `WHISPERER_IDEMPOTENCY_TTL`. @default 86400 (24 h)
   */
  idempotencyTtl?: number
  /**
   * Requests per second each owner may make to the REST API that `whisperer.api()` builds (with a
   * burst of twice that), unless its `rateLimit` option says otherwise; 0 for no limit.
   * Env: `WHISPERER_API_RATE_LIMIT`. @default 50
   */
  apiRateLimit?: number
  /**
   * Keys that encrypt webhook secrets and `config.auth` credentials at rest (AES-256-GCM): each
   * `id:base64key` of 32 bytes. The first encrypts; all decrypt. Without keys, secrets are stored
   * in clear (and a warning says so). Env: `WHISPERER_ENCRYPTION_KEYS`, comma-separated. @default []
   */
  encryptionKeys?: string[]
  /** Time between maintenance runs, in ms. @default 60000 */
  maintenanceInterval?: number
  /** How long a token from `token` auth is reused, in seconds. @default 300 */
  tokenTtl?: number
  /** Collect Prometheus metrics; false turns all instrumentation off. Env: `WHISPERER_METRICS`. @default true */
  metrics?: boolean
  /** Distinct `event_type` label values of the metrics; the rest are counted as `other`. @default 100 */
  metricsEventTypeLimit?: number
  /** The longest the queue and webhook gauges are reused between scrapes, in ms. @default 5000 */
  metricsInterval?: number
  /** @default 'Whisperer/<version>' */
  userAgent?: string
  /** Env: `WHISPERER_LOG_LEVEL` for the default pino logger. @default a pino logger at 'info' */
  logger?: Logger
  /** The clock every timestamp comes from; inject one in tests. @default () => new Date() */
  clock?: () => Date
  /** Randomness for the `random` countdown. @default Math.random */
  random?: () => number
  /** The environment to read defaults from. @default process.env */
  env?: Record<string, string | undefined>
}

export interface ResolvedConfig {
  database: string | Database | object
  preparedStatements: boolean
  listenUrl: string | null
  schema: string
  migrate: boolean
  payloadKey: PayloadKey
  connectTimeoutMs: number
  readTimeoutMs: number
  maxAttempts: number
  responseBodyLimit: number
  retryAfterMaxSeconds: number
  allowPrivateTargets: boolean
  allowedTargets: string[]
  concurrency: number
  perHostConcurrency: number
  claimBatch: number
  pollIntervalMs: number
  /** The longest one attempt can take, token login included. */
  attemptMaxMs: number
  leaseMs: number
  retentionMs: number
  disableFailingAfterMs: number
  operationsOwner: string
  portalFrameAncestors: string[]
  idempotencyTtlMs: number
  apiRateLimit: number
  /** Seals and opens secrets at rest; its `current` is null without keys. */
  keys: KeyRing
  maintenanceIntervalMs: number
  tokenTtlMs: number
  metrics: boolean
  metricsEventTypeLimit: number
  metricsIntervalMs: number
  userAgent: string
  logLevel: string
  logger: Logger | undefined
  clock: () => Date
  random: () => number
}

/** Where the REST API is mounted unless told otherwise: the handler, the adapters, the server and the CLI. */
export const defaultPrefix = '/whisperer'

type Merged = { [K in keyof WhispererOptions]-?: unknown }

/** Each option from `options`, else from its environment variable, else its default. */
function mergeOptions(options: WhispererOptions, env: Record<string, string | undefined>): Merged {
  const merged: Record<string, unknown> = {}
  for (const [key, row] of Object.entries(optionTable) as [keyof WhispererOptions, OptionRow][]) {
    const variable = row.env?.read ? env[row.env.name] : undefined
    merged[key] =
      options[key] ?? (variable === undefined ? undefined : row.env!.read!(variable)) ?? row.default
  }
  return merged as Merged
}

const optionsSchema = z.object(
  Object.fromEntries(
    (Object.entries(optionTable) as [string, OptionRow][]).flatMap(([key, row]) =>
      row.schema ? [[key, row.schema]] : [],
    ),
  ),
)

/** Applies defaults and the environment to options, validates them, and returns one resolved config. */
export function resolveConfig(options: WhispererOptions, version: string): ResolvedConfig {
  const env = options.env ?? process.env
  const merged = mergeOptions(options, env)
  const parsed = optionsSchema.safeParse(merged)
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`)
    throw new WhispererError('invalid_options', `Invalid Whisperer options: ${problems.join('; ')}`)
  }
  const o = { ...merged, ...parsed.data } as Required<WhispererOptions>
  const [connect, read] = Array.isArray(o.requestTimeout)
    ? o.requestTimeout
    : [o.requestTimeout, o.requestTimeout]
  const attemptMaxMs = 2 * (connect + 2 * read) * 1000
  return {
    database: o.database,
    preparedStatements: o.preparedStatements,
    listenUrl: o.listenUrl ?? null,
    schema: o.schema,
    migrate: o.migrate,
    payloadKey: o.payloadKey,
    connectTimeoutMs: connect * 1000,
    readTimeoutMs: read * 1000,
    maxAttempts: o.maxAttempts,
    responseBodyLimit: o.responseBodyLimit,
    retryAfterMaxSeconds: o.retryAfterMax,
    allowPrivateTargets: o.allowPrivateTargets,
    allowedTargets: o.allowedTargets,
    concurrency: o.concurrency,
    perHostConcurrency: Math.min(o.perHostConcurrency, o.concurrency),
    claimBatch: o.claimBatch,
    pollIntervalMs: o.pollInterval,
    attemptMaxMs,
    leaseMs: o.leaseSeconds ? o.leaseSeconds * 1000 : attemptMaxMs + 10_000,
    retentionMs: o.retentionDays * 24 * 3600 * 1000,
    disableFailingAfterMs: o.disableAfterFailingDays * 24 * 3600 * 1000,
    operationsOwner: o.operationsOwner,
    portalFrameAncestors: o.portalFrameAncestors,
    idempotencyTtlMs: o.idempotencyTtl * 1000,
    apiRateLimit: o.apiRateLimit,
    keys: KeyRing.parse(o.encryptionKeys),
    maintenanceIntervalMs: o.maintenanceInterval,
    tokenTtlMs: o.tokenTtl * 1000,
    metrics: o.metrics,
    metricsEventTypeLimit: o.metricsEventTypeLimit,
    metricsIntervalMs: o.metricsInterval,
    userAgent: o.userAgent ?? `Whisperer/${version}`,
    logLevel: env[optionTable.logger.env!.name] ?? 'info',
    logger: o.logger,
    clock: o.clock,
    random: o.random,
  }
}
