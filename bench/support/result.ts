import type { DbKind } from './settings.ts'

/** A goal from the issue, next to a figure. */
export interface Target {
  op: '>=' | '<=' | '<' | '='
  value: number
}

/** One figure of a scenario run. */
export interface Metric {
  /** Stable name, used in the JSON and by the targets. */
  key: string
  /** What the table calls it. */
  label: string
  value: number | null
  unit: string
  /** Shown instead of the formatted value (checks). */
  text?: string
  target?: Target
  /** Whether the target is met; null when there is no figure to judge. */
  met?: boolean | null
}

/** One scenario (or one variant of it) on one database. */
export interface ScenarioResult {
  scenario: string
  db: DbKind | 'none'
  variant: string
  status: 'ok' | 'timed out' | 'error'
  error?: string
  metrics: Metric[]
  notes: string[]
  /** Raw counts and timings, kept in the JSON. */
  details: Record<string, unknown>
}

export function metric(key: string, label: string, value: number | null, unit: string): Metric {
  return { key, label, value: value === null || Number.isFinite(value) ? value : null, unit }
}

/** The resources of a run, as the three metrics every scenario reports. */
export interface Resources {
  /** Statements sent by every process that talked to the database, summed. */
  statements: number
  breakdown: Record<string, number>
  /** CPU of the worker process(es), summed (µs). */
  workerCpuMicros: number
  /** The highest peak RSS among the worker processes (KB). */
  workerPeakRssKb: number | null
  /** CPU of the publishing process (µs); on PGlite it is the worker too. */
  publisherCpuMicros: number
  errors: string[]
  /** PostgreSQL: WAL written while measuring (bytes); absent on PGlite. */
  walBytes?: number | null
  /** PostgreSQL: CPU of the server's processes while measuring (µs); null when not ours to read. */
  serverCpuMicros?: number | null
  /** `--pgbouncer`: CPU of the PgBouncer process while measuring (µs); absent without it. */
  poolerCpuMicros?: number
  /** PostgreSQL: what each worker process cost, in the order they were started. */
  workers?: WorkerCost[]
  /** PostgreSQL: the worker processes ran in network namespaces of their own. */
  isolated?: boolean
}

/** One worker process's share; null where it did not report or could not be read. */
export interface WorkerCost {
  statements: number | null
  /** Claim statements among them (`deliveryClaim`). */
  claims: number | null
  /** The worker process's own CPU while measuring (µs). */
  cpuMicros: number | null
  /** CPU of the server backends of its connections open at the end, over their whole life (µs). */
  serverCpuMicros: number | null
}

export function resourceMetrics(resources: Resources, per: number, perWhat = 'delivery'): Metric[] {
  const divide = (n: number) => (per > 0 ? n / per : null)
  const server: Metric[] = []
  if (resources.walBytes !== undefined)
    server.push(
      metric(
        'wal_bytes_per_delivery',
        `WAL bytes/${perWhat}`,
        resources.walBytes === null ? null : divide(resources.walBytes),
        '',
      ),
    )
  if (resources.serverCpuMicros !== undefined)
    server.push(
      resources.serverCpuMicros === null
        ? { ...metric('server_cpu_us_per_delivery', `server CPU µs/${perWhat}`, null, 'µs'), text: 'n/a' }
        : metric(
            'server_cpu_us_per_delivery',
            `server CPU µs/${perWhat}`,
            divide(resources.serverCpuMicros),
            'µs',
          ),
    )
  if (resources.poolerCpuMicros !== undefined)
    server.push(
      metric(
        'pooler_cpu_us_per_delivery',
        `PgBouncer CPU µs/${perWhat}`,
        divide(resources.poolerCpuMicros),
        'µs',
      ),
    )
  return [
    metric('statements_per_delivery', `statements/${perWhat}`, divide(resources.statements), ''),
    metric('cpu_us_per_delivery', `worker CPU µs/${perWhat}`, divide(resources.workerCpuMicros), 'µs'),
    metric(
      'peak_rss_mb',
      'worker peak RSS',
      resources.workerPeakRssKb === null ? null : resources.workerPeakRssKb / 1024,
      'MB',
    ),
    ...server,
  ]
}

/**
 * PostgreSQL: what each worker process cost, as a note: its statements (claims among them) and
 * the server CPU of its connections.
 */
export function workersNote(resources: Resources, seconds: number | null): string | null {
  const workers = resources.workers ?? []
  if (workers.length === 0) return null
  const n = (value: number | null) => (value === null ? '?' : Math.round(value).toLocaleString('en-US'))
  const each = workers.map((w, i) => {
    const rate = w.statements !== null && seconds ? ` (${n(w.statements / seconds)}/s)` : ''
    const server =
      w.serverCpuMicros === null ? '' : `, its backends ${n(w.serverCpuMicros / 1000)} ms server CPU`
    return `#${i + 1} ${n(w.statements)} statements${rate}, ${n(w.claims)} claims, ${n((w.cpuMicros ?? 0) / 1000)} ms own CPU${server}`
  })
  const where = resources.isolated
    ? 'each in a network namespace of its own'
    : "in the bench's network namespace"
  return `per worker (${where}): ${each.join('; ')}`
}

export function errorResult(
  scenario: string,
  db: DbKind | 'none',
  variant: string,
  error: unknown,
): ScenarioResult {
  return {
    scenario,
    db,
    variant,
    status: 'error',
    error: error instanceof Error ? error.message : String(error),
    metrics: [],
    notes: [],
    details: {},
  }
}

/** The statements a run sent, most frequent first, as a short note: `SQL: deliveryClaim 120, …`. */
export function statementsNote(resources: Resources): string {
  const top = Object.entries(resources.breakdown)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5)
    .map(([name, n]) => `${name} ${n.toLocaleString('en-US')}`)
  return `SQL: ${top.join(', ')}`
}
