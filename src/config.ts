import { z } from 'zod'
import { WhispererError } from './core/errors.ts'
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
   * outcomes not yet stored. @default 64
   */
  concurrency?: number
  /** Attempts in flight per target host. @default 16 */
  perHostConcurrency?: number
  /** Deliveries taken per claim at most. @default 100 */
  claimBatch?: number
  /** The longest a worker waits before looking for due deliveries without being woken, in ms. @default 2000 */
  pollInterval?: number
  /**
   * How long a claim holds a delivery, in seconds; longer than any attempt (a token login and the
   * request, each bounded by connect + 2 × read) so a live attempt is never claimed twice.
   * @default 2 × (connect + 2 × read) + 10
   */
  leaseSeconds?: number
  /**
   * Finished deliveries and their events are deleted after this many days; attempts go a whole
   * week at a time once their week is older than that. @default 84 (12 weeks)
   */
  retentionDays?: number
  /**
   * A webhook whose attempts have all failed for this many days is disabled (`disabledReason:
   * 'failing'`) and its pending deliveries cancelled; 0 never disables. @default 5
   */
  disableAfterFailingDays?: number
  /** Time between maintenance runs, in ms. @default 60000 */
  maintenanceInterval?: number
  /** How long a token from `token` auth is reused, in seconds. @default 300 */
  tokenTtl?: number
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
  maintenanceIntervalMs: number
  tokenTtlMs: number
  userAgent: string
  logLevel: string
  logger: Logger | undefined
  clock: () => Date
  random: () => number
}

const positiveInt = z.int().min(1)
const seconds = z.number().positive().max(3600)

const optionsSchema = z.object({
  schema: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be lowercase letters, digits or _'),
  payloadKey: z.enum(['data', 'payload']),
  requestTimeout: z.union([seconds, z.tuple([seconds, seconds])]),
  maxAttempts: positiveInt.max(1000),
  responseBodyLimit: z
    .int()
    .min(0)
    .max(16 * 1024 * 1024),
  retryAfterMax: z.number().min(0),
  allowPrivateTargets: z.boolean(),
  allowedTargets: z.array(z.string().min(1)),
  concurrency: positiveInt.max(10_000),
  perHostConcurrency: positiveInt.max(10_000),
  claimBatch: positiveInt.max(10_000),
  pollInterval: positiveInt,
  leaseSeconds: z.number().positive().optional(),
  retentionDays: z.number().positive(),
  disableAfterFailingDays: z.number().min(0),
  maintenanceInterval: positiveInt,
  tokenTtl: z.number().min(0),
})

/** Applies defaults and the environment to options, validates them, and returns one resolved config. */
export function resolveConfig(options: WhispererOptions, version: string): ResolvedConfig {
  const env = options.env ?? process.env
  const list = (value: string | undefined) =>
    value
      ?.split(',')
      .map((item) => item.trim())
      .filter(Boolean)
  const timeoutFromEnv = list(env.WHISPERER_REQUEST_TIMEOUT)?.map(Number)
  const number = (value: string | undefined) =>
    value === undefined || value === '' ? undefined : Number(value)
  const merged = {
    schema: options.schema ?? env.WHISPERER_SCHEMA ?? 'whisperer',
    payloadKey: options.payloadKey ?? env.WHISPERER_PAYLOAD_KEY ?? 'data',
    requestTimeout:
      options.requestTimeout ??
      (timeoutFromEnv === undefined ? 10 : timeoutFromEnv.length === 1 ? timeoutFromEnv[0] : timeoutFromEnv),
    maxAttempts: options.maxAttempts ?? number(env.WHISPERER_MAX_ATTEMPTS) ?? 19,
    responseBodyLimit: options.responseBodyLimit ?? 65_536,
    retryAfterMax: options.retryAfterMax ?? 3600,
    allowPrivateTargets:
      options.allowPrivateTargets ?? ['1', 'true', 'yes'].includes(env.WHISPERER_ALLOW_PRIVATE_TARGETS ?? ''),
    allowedTargets: options.allowedTargets ?? list(env.WHISPERER_ALLOWED_TARGETS) ?? [],
    concurrency: options.concurrency ?? number(env.WHISPERER_CONCURRENCY) ?? 64,
    perHostConcurrency: options.perHostConcurrency ?? number(env.WHISPERER_PER_HOST_CONCURRENCY) ?? 16,
    claimBatch: options.claimBatch ?? 100,
    pollInterval: options.pollInterval ?? number(env.WHISPERER_POLL_INTERVAL) ?? 2000,
    leaseSeconds: options.leaseSeconds ?? number(env.WHISPERER_LEASE_SECONDS),
    retentionDays: options.retentionDays ?? 84,
    disableAfterFailingDays: options.disableAfterFailingDays ?? 5,
    maintenanceInterval: options.maintenanceInterval ?? 60_000,
    tokenTtl: options.tokenTtl ?? 300,
  }
  const parsed = optionsSchema.safeParse(merged)
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`)
    throw new WhispererError('invalid_options', `Invalid Whisperer options: ${problems.join('; ')}`)
  }
  const o = parsed.data
  const [connect, read] = Array.isArray(o.requestTimeout)
    ? o.requestTimeout
    : [o.requestTimeout, o.requestTimeout]
  const attemptMaxMs = 2 * (connect + 2 * read) * 1000
  return {
    database: options.database ?? env.DATABASE_URL ?? './.whisperer',
    schema: o.schema,
    migrate: options.migrate ?? true,
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
    maintenanceIntervalMs: o.maintenanceInterval,
    tokenTtlMs: o.tokenTtl * 1000,
    userAgent: options.userAgent ?? `Whisperer/${version}`,
    logLevel: env.WHISPERER_LOG_LEVEL ?? 'info',
    logger: options.logger,
    clock: options.clock ?? (() => new Date()),
    random: options.random ?? Math.random,
  }
}
