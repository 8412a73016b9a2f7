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
}

export function resourceMetrics(resources: Resources, per: number, perWhat = 'delivery'): Metric[] {
  const divide = (n: number) => (per > 0 ? n / per : null)
  return [
    metric('statements_per_delivery', `statements/${perWhat}`, divide(resources.statements), ''),
    metric('cpu_us_per_delivery', `worker CPU µs/${perWhat}`, divide(resources.workerCpuMicros), 'µs'),
    metric(
      'peak_rss_mb',
      'worker peak RSS',
      resources.workerPeakRssKb === null ? null : resources.workerPeakRssKb / 1024,
      'MB',
    ),
  ]
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
