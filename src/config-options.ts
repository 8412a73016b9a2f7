import { z } from 'zod'
import type { WhispererOptions } from './config.ts'

/** One option of `createWhisperer`: how it is read, defaulted, validated and documented. */
export interface OptionRow {
  /** Its type, as docs/configuration.md shows it. */
  type: string
  /** The value used when neither the option nor its variable is given; absent when computed. */
  default?: unknown
  /** The default as the docs show it, when the value alone would not say it. */
  shownDefault?: string
  unit?: string
  env?: {
    name: string
    /** Turns the variable into the option's value (undefined: as if unset); absent when no option reads it. */
    read?: (value: string) => unknown
    /** What the docs add after the variable's name. */
    note?: string
  }
  /** Validates the merged value; absent for objects and functions taken as they are. */
  schema?: z.ZodType
  /** What it means and which values it takes, in one line. */
  doc: string
}

const text = (value: string) => value
const number = (value: string) => (value === '' ? undefined : Number(value))
const flag = (value: string) => ['1', 'true', 'yes'].includes(value)
const list = (value: string) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)
/** `10` or `5,10`. */
const timeout = (value: string) => {
  const values = list(value).map(Number)
  return values.length === 1 ? values[0] : values
}

/** A CSP source of `frame-ancestors`: `'self'`, a scheme (`https:`) or a host with optional scheme, port and path. */
export const frameSource =
  /^(?:'self'|[a-z][a-z0-9+.-]*:|(?:[a-z][a-z0-9+.-]*:\/\/)?(?:\*\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)*(?::(?:\d{1,5}|\*))?(?:\/[^\s;,']*)?)$/i

const positiveInt = z.int().min(1)
const seconds = z.number().positive().max(3600)

/**
 * Every option of {@link WhispererOptions}, in the order docs/configuration.md lists them.
 * `resolveConfig` merges and validates from it; `npm run config:docs` writes the docs' table from it.
 */
export const optionTable: { [K in keyof Required<WhispererOptions>]: OptionRow } = {
  database: {
    type: '`string`, `pg.Pool`, `PGlite` or `Database`',
    default: './.whisperer',
    shownDefault: "`'./.whisperer'` (embedded PGlite)",
    env: { name: 'DATABASE_URL', read: text },
    doc: 'where data lives; see [below](#how-database-is-interpreted)',
  },
  preparedStatements: {
    type: '`boolean`',
    default: true,
    env: {
      name: 'WHISPERER_PREPARED_STATEMENTS',
      read: (value: string) => !['0', 'false', 'no'].includes(value),
      note: '(`0`, `false` or `no` turns them off)',
    },
    schema: z.boolean(),
    doc: 'Send the hot statements (publish, claim, complete) as named prepared statements, on PostgreSQL and PGlite; `false` behind a pooler in transaction mode that does not keep them, such as PgBouncer before 1.21 (see [scaling](scaling.md#pgbouncer))',
  },
  listenUrl: {
    type: '`string`',
    shownDefault: 'none: LISTEN through `database`',
    env: { name: 'WHISPERER_LISTEN_URL', read: text },
    schema: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
      .optional(),
    doc: 'PostgreSQL: a URL straight to the server (not through a pooler) for the one connection on which a worker LISTENs for new deliveries; set it when `database` goes through a pooler in transaction mode, where LISTEN is lost and workers in other processes only find new deliveries every `pollInterval`',
  },
  schema: {
    type: '`string`',
    default: 'whisperer',
    env: { name: 'WHISPERER_SCHEMA', read: text },
    schema: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be lowercase letters, digits or _'),
    doc: "the PostgreSQL schema of Whisperer's tables: 1 to 63 lowercase letters, digits or `_`, not starting with a digit",
  },
  migrate: {
    type: '`boolean`',
    default: true,
    schema: z.boolean(),
    doc: 'apply missing migrations in `createWhisperer`',
  },
  payloadKey: {
    type: "`'data'` or `'payload'`",
    default: 'data',
    env: { name: 'WHISPERER_PAYLOAD_KEY', read: text },
    schema: z.enum(['data', 'payload']),
    doc: 'the body key of the serialized data',
  },
  requestTimeout: {
    type: '`number` or `[connect, read]`',
    default: 10,
    unit: 'seconds',
    env: {
      name: 'WHISPERER_REQUEST_TIMEOUT',
      read: timeout,
      note: '(`10` or `5,10`; three or more values are refused)',
    },
    schema: z.union([seconds, z.tuple([seconds, seconds])]),
    doc: 'connect and read timeouts; each more than 0 and at most 3600',
  },
  maxAttempts: {
    type: 'integer',
    default: 19,
    unit: 'attempts',
    env: { name: 'WHISPERER_MAX_ATTEMPTS', read: number },
    schema: positiveInt.max(1000),
    doc: 'attempts a delivery gets, the first included, before it is `failed`; 1 to 1000',
  },
  responseBodyLimit: {
    type: 'integer',
    default: 65_536,
    unit: 'bytes',
    schema: z
      .int()
      .min(0)
      .max(16 * 1024 * 1024),
    doc: 'bytes of each response body kept on its attempt; 0 to 16 MiB',
  },
  retryAfterMax: {
    type: 'number',
    default: 3600,
    unit: 'seconds',
    schema: z.number().min(0),
    doc: 'the longest wait a `Retry-After` header can impose; at least 0',
  },
  allowPrivateTargets: {
    type: '`boolean`',
    default: false,
    env: { name: 'WHISPERER_ALLOW_PRIVATE_TARGETS', read: flag, note: '(`1`, `true` or `yes`)' },
    schema: z.boolean(),
    doc: 'allow every target address, private, loopback and link-local included',
  },
  allowedTargets: {
    type: '`string[]`',
    default: [],
    env: { name: 'WHISPERER_ALLOWED_TARGETS', read: list, note: '(comma-separated)' },
    schema: z.array(z.string().min(1)),
    doc: 'host names, addresses or CIDR ranges allowed although not public',
  },
  concurrency: {
    type: 'integer',
    default: 64,
    unit: 'deliveries',
    env: { name: 'WHISPERER_CONCURRENCY', read: number },
    schema: positiveInt.max(10_000),
    doc: 'deliveries one worker holds at once: attempts in flight, deliveries waiting in host lines, and attempts whose outcome is not stored yet; 1 to 10,000',
  },
  perHostConcurrency: {
    type: 'integer',
    default: 16,
    unit: 'attempts',
    env: { name: 'WHISPERER_PER_HOST_CONCURRENCY', read: number },
    schema: positiveInt.max(10_000),
    doc: "attempts in flight at once to one host (host and port) in one worker, and deliveries that may wait in that host's line; 1 to 10,000, and never more than `concurrency`",
  },
  claimBatch: {
    type: 'integer',
    default: 100,
    unit: 'deliveries',
    schema: positiveInt.max(10_000),
    doc: 'deliveries taken by one claim at most; 1 to 10,000',
  },
  pollInterval: {
    type: 'integer',
    default: 2000,
    unit: 'ms',
    env: { name: 'WHISPERER_POLL_INTERVAL', read: number },
    schema: positiveInt,
    doc: 'the longest a worker sleeps without being woken; at least 1',
  },
  leaseSeconds: {
    type: 'number',
    shownDefault: '`2 × (connect + 2 × read) + 10` (70 with the default timeouts)',
    unit: 'seconds',
    env: { name: 'WHISPERER_LEASE_SECONDS', read: number },
    schema: z.number().positive().optional(),
    doc: 'how long a claim holds a delivery; more than 0',
  },
  retentionDays: {
    type: 'number',
    default: 84,
    shownDefault: '`84` (12 weeks)',
    unit: 'days',
    schema: z.number().positive(),
    doc: 'finished deliveries and their events are deleted after this, attempts a whole week at a time; more than 0',
  },
  disableAfterFailingDays: {
    type: 'number',
    default: 5,
    unit: 'days',
    schema: z.number().min(0),
    doc: "an active webhook that has failed for this long without a success is disabled (`disabledReason: 'failing'`) and its pending deliveries cancelled; `0` never disables; at least 0",
  },
  operationsOwner: {
    type: '`string`',
    default: 'admin',
    env: { name: 'WHISPERER_OPERATIONS_OWNER', read: text },
    schema: z.string().min(1).max(255),
    doc: "the owner whose webhooks receive every owner's operational events (`whisperer.webhook.disabled` and the like); each webhook's own owner receives those about its webhooks",
  },
  portalFrameAncestors: {
    type: '`string[]`',
    default: [],
    shownDefault: "none: `frame-ancestors 'none'`",
    env: {
      name: 'WHISPERER_PORTAL_FRAME_ANCESTORS',
      read: (value: string) => value.split(/[\s,]+/).filter(Boolean),
      note: '(comma- or space-separated)',
    },
    schema: z.array(z.string().regex(frameSource, "must be a CSP source: an origin, a scheme, or 'self'")),
    doc: "the origins that may show the dashboard (the subscriber portal) in a frame: the CSP `frame-ancestors` sources, such as `https://app.example.com` or `'self'`",
  },
  idempotencyTtl: {
    type: 'number',
    default: 86_400,
    unit: 'seconds',
    env: { name: 'WHISPERER_IDEMPOTENCY_TTL', read: number },
    schema: z.number().min(1),
    doc: 'how long a publish’s idempotency key lives: a repeat within it returns the first publish’s result; maintenance deletes older keys; at least 1',
  },
  apiRateLimit: {
    type: 'number',
    default: 50,
    unit: 'requests/s',
    env: { name: 'WHISPERER_API_RATE_LIMIT', read: number },
    schema: z.number().min(0),
    doc: 'requests per second each owner may make to the REST API, with a burst of twice that (then 429 `rate_limited` with `Retry-After`); `0` for no limit; raise it for publishers that publish faster through the API; at least 0',
  },
  encryptionKeys: {
    type: '`string[]`',
    default: [],
    shownDefault: 'none: secrets stored in clear',
    env: { name: 'WHISPERER_ENCRYPTION_KEYS', read: list, note: '(comma-separated)' },
    schema: z.array(z.string()),
    doc: 'keys that encrypt webhook secrets and `config.auth` credentials at rest (AES-256-GCM), each `id:base64key` of 32 bytes (`openssl rand -base64 32`); the first encrypts, all decrypt; see [secrets](signing.md#secrets-at-rest)',
  },
  maintenanceInterval: {
    type: 'integer',
    default: 60_000,
    unit: 'ms',
    schema: positiveInt,
    doc: 'time between maintenance passes; the first runs at `start()`; at least 1',
  },
  tokenTtl: {
    type: 'number',
    default: 300,
    unit: 'seconds',
    schema: z.number().min(0),
    doc: 'how long a token from `token` auth is reused; at least 0',
  },
  metrics: {
    type: '`boolean`',
    default: true,
    env: { name: 'WHISPERER_METRICS', read: flag, note: '(`1`, `true` or `yes`)' },
    schema: z.boolean(),
    doc: 'collect Prometheus metrics (`whisperer.metrics()`, `GET /metrics`); `false` turns all instrumentation off',
  },
  metricsEventTypeLimit: {
    type: 'integer',
    default: 100,
    unit: 'event types',
    schema: z.int().min(0).max(10_000),
    doc: 'distinct `event_type` label values of the metrics; later types are counted as `other`; 0 to 10,000',
  },
  metricsInterval: {
    type: 'integer',
    default: 5000,
    unit: 'ms',
    schema: z.int().min(0),
    doc: 'the queue and webhook gauges are read from the database at most once per this interval (concurrent scrapes share a read); at least 0',
  },
  userAgent: {
    type: '`string`',
    shownDefault: "`'Whisperer/<version>'`",
    schema: z.string().optional(),
    doc: 'the `User-Agent` header',
  },
  logger: {
    type: '`Logger`',
    shownDefault: 'a pino logger at level `info`',
    env: { name: 'WHISPERER_LOG_LEVEL', note: '(level of the default logger only)' },
    doc: 'any object with `debug`, `info`, `warn` and `error(object, message?)`',
  },
  clock: {
    type: '`() => Date`',
    default: () => new Date(),
    shownDefault: '`() => new Date()`',
    doc: 'where every timestamp and due time comes from',
  },
  random: {
    type: '`() => number`',
    default: Math.random,
    shownDefault: '`Math.random`',
    doc: 'randomness for the `random` countdown and custom countdowns',
  },
  env: {
    type: '`Record<string, string \\| undefined>`',
    shownDefault: '`process.env`',
    doc: 'the environment read for the variables above',
  },
}

/** The table as docs/configuration.md shows it under "Options". */
export function optionsMarkdown(): string {
  const lines = [
    '| option | type | default | unit | environment variable | meaning |',
    '|---|---|---|---|---|---|',
  ]
  for (const [key, row] of Object.entries(optionTable) as [string, OptionRow][]) {
    const shown =
      row.shownDefault ??
      (typeof row.default === 'string' ? `\`'${row.default}'\`` : `\`${JSON.stringify(row.default)}\``)
    const env = row.env ? [`\`${row.env.name}\``, row.env.note].filter(Boolean).join(' ') : ''
    const cells = [`\`${key}\``, row.type, shown, row.unit ?? '', env, row.doc]
    lines.push(`|${cells.map((cell) => (cell ? ` ${cell} ` : ' ')).join('|')}|`)
  }
  return `${lines.join('\n')}\n`
}
