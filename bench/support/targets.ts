import { type Metric, metric, type ScenarioResult, type Target } from './result.ts'

/** The targets (PostgreSQL unless noted), each matched to a figure of a scenario run. */
interface Rule {
  scenario: string
  db: 'postgres' | 'pglite'
  /** Only runs with this many worker processes. */
  workers?: number
  key: string
  target: Target
}

const rules: Rule[] = [
  {
    scenario: 'fanout10',
    db: 'postgres',
    workers: 1,
    key: 'deliveries_per_s',
    target: { op: '>=', value: 8000 },
  },
  {
    scenario: 'fanout10',
    db: 'postgres',
    workers: 1,
    key: 'http_ratio_pct',
    target: { op: '>=', value: 20 },
  },
  // The bare pipeline ceilings: 70% of it on PostgreSQL with one worker, 50% on PGlite.
  {
    scenario: 'fanout10',
    db: 'postgres',
    workers: 1,
    key: 'pipeline_ratio_pct',
    target: { op: '>=', value: 70 },
  },
  { scenario: 'fanout10', db: 'pglite', key: 'pipeline_ratio_pct', target: { op: '>=', value: 50 } },
  { scenario: 'fanout10', db: 'postgres', key: 'statements_per_delivery', target: { op: '<=', value: 1 } },
  { scenario: 'fanout10', db: 'pglite', key: 'deliveries_per_s', target: { op: '>=', value: 3000 } },
  { scenario: 'fanout1', db: 'postgres', key: 'events_per_s', target: { op: '>=', value: 3000 } },
  { scenario: 'latency', db: 'postgres', key: 'receiver_p50_ms', target: { op: '<=', value: 5 } },
  { scenario: 'latency', db: 'postgres', key: 'receiver_p99_ms', target: { op: '<=', value: 20 } },
  // The embedded default: PGlite's tail, its memory under fanout10, and the service's API with 32
  // clients, its deliveries keeping pace.
  { scenario: 'latency', db: 'pglite', key: 'receiver_p99_ms', target: { op: '<=', value: 30 } },
  { scenario: 'fanout10', db: 'pglite', key: 'peak_rss_mb', target: { op: '<=', value: 400 } },
  { scenario: 'api', db: 'pglite', key: 'accepted_per_s', target: { op: '>=', value: 1000 } },
  { scenario: 'api', db: 'pglite', key: 'pace_pct', target: { op: '>=', value: 95 } },
  { scenario: 'bigfanout', db: 'postgres', key: 'enqueue_s', target: { op: '<', value: 1 } },
  { scenario: 'bigfanout', db: 'postgres', key: 'all_delivered_s', target: { op: '<', value: 10 } },
  ...['fanout10', 'fanout1', 'latency', 'failing', 'bigfanout', 'soak'].map(
    (scenario): Rule => ({ scenario, db: 'postgres', key: 'peak_rss_mb', target: { op: '<=', value: 200 } }),
  ),
  // soak: no decay (the last minute at least 85% of the first), on both databases; PGlite's whole
  // process under 1 GB (1,024 MB) in every 10 s sample.
  ...(['postgres', 'pglite'] as const).map(
    (db): Rule => ({ scenario: 'soak', db, key: 'decay_ratio_pct', target: { op: '>=', value: 85 } }),
  ),
  { scenario: 'soak', db: 'pglite', key: 'sampled_rss_max_mb', target: { op: '<', value: 1024 } },
  // Metrics: a scrape under 10 ms in at most 2 statements; at most 2% of fanout10's throughput.
  ...(['postgres', 'pglite'] as const).flatMap((db): Rule[] => [
    { scenario: 'scrape', db, key: 'scrape_p50_ms', target: { op: '<', value: 10 } },
    { scenario: 'scrape', db, key: 'statements_per_scrape', target: { op: '<=', value: 2 } },
  ]),
  { scenario: 'metricscost', db: 'postgres', key: 'metrics_on_off_pct', target: { op: '>=', value: 98 } },
  // Ordered delivery: 1,000 keys at least 70% of the same run unordered.
  { scenario: 'ordered', db: 'postgres', key: 'ordered_ratio_pct', target: { op: '>=', value: 70 } },
  // Secrets: 3 live keys cost an attempt under 5% more than 1.
  ...(['postgres', 'pglite'] as const).map(
    (db): Rule => ({ scenario: 'keycost', db, key: 'extra_per_attempt_pct', target: { op: '<', value: 5 } }),
  ),
]

export function meets(value: number, target: Target): boolean {
  switch (target.op) {
    case '>=':
      return value >= target.value
    case '<=':
      return value <= target.value
    case '<':
      return value < target.value
    case '=':
      return value === target.value
  }
}

/**
 * Adds fanout10's ratios to the ceilings measured in the same run: to the raw HTTP ceiling, and to
 * the claim ceiling of the same database (one loop for one worker, two loops for more).
 */
export function addRatios(results: ScenarioResult[]): void {
  const find = (db: string, key: string) =>
    results
      .filter((r) => r.scenario === 'ceilings' && r.db === db)
      .flatMap((r) => r.metrics)
      .find((m) => m.key === key)?.value ?? null
  const http = find('none', 'http_rps')
  for (const result of results) {
    if (result.scenario !== 'fanout10') continue
    const at = result.metrics.findIndex((m) => m.key === 'deliveries_per_s')
    if (at < 0) continue
    const rate = result.metrics[at]!.value
    const loops = Number(result.details.workers ?? 1) > 1 ? 2 : 1
    const claim = find(result.db, `claim_rows_per_s_${loops}`)
    const pipeline = find(result.db, 'pipeline_per_s')
    const ratio = (ceiling: number | null) => (rate !== null && ceiling ? (rate / ceiling) * 100 : null)
    const added: Metric[] = [
      metric('http_ratio_pct', '% of raw HTTP ceiling', ratio(http), '%'),
      metric('pipeline_ratio_pct', '% of bare pipeline ceiling', ratio(pipeline), '%'),
      metric(
        'claim_ratio_pct',
        `% of claim ceiling (${loops} loop${loops > 1 ? 's' : ''})`,
        ratio(claim),
        '%',
      ),
    ]
    result.metrics.splice(at + 1, 0, ...added)
  }
}

/** Sets each figure's target and whether it is met. */
export function applyTargets(results: ScenarioResult[]): void {
  for (const result of results) {
    for (const rule of rules) {
      if (rule.scenario !== result.scenario || rule.db !== result.db) continue
      if (rule.workers !== undefined && Number(result.details.workers ?? 1) !== rule.workers) continue
      const figure = result.metrics.find((m) => m.key === rule.key)
      if (!figure) continue
      figure.target = rule.target
      figure.met = figure.value === null ? null : meets(figure.value, rule.target)
    }
  }
}
