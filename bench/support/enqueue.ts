import { metric, type ScenarioResult } from './result.ts'

/**
 * Times `events` publishes, one at a time (`publish(n)` resolves to the deliveries it enqueued),
 * and reports the enqueue's cost per event, and against `baseline` (an earlier variant's result).
 */
export async function enqueueCost(params: {
  scenario: string
  db: ScenarioResult['db']
  variant: string
  events: number
  publish: (n: number) => Promise<number>
  baseline: ScenarioResult | undefined
  /** What the baseline is, as "time per event vs …" says it. */
  baselineLabel: string
  notes: string[]
  details: Record<string, unknown>
}): Promise<ScenarioResult> {
  const { events } = params
  let enqueued = 0
  const started = performance.now()
  for (let n = 0; n < events; n += 1) enqueued += await params.publish(n)
  const seconds = (performance.now() - started) / 1000
  const perEvent = (seconds * 1000) / events
  const baseline = params.baseline?.details.msPerEvent as number | undefined
  return {
    scenario: params.scenario,
    db: params.db,
    variant: params.variant,
    status: 'ok',
    metrics: [
      metric('enqueue_ms', 'deliverEvent (enqueue), per event', perEvent, 'ms'),
      metric('enqueued_per_s', 'deliveries enqueued/s', enqueued / seconds, '/s'),
      metric(
        'vs_baseline_pct',
        `time per event vs ${params.baselineLabel}`,
        baseline ? (perEvent / baseline) * 100 : null,
        '%',
      ),
    ],
    notes: [
      `${events} events, ${(enqueued / events).toLocaleString('en-US')} deliveries each`,
      ...params.notes,
    ],
    details: { ...params.details, events, enqueued, seconds, msPerEvent: perEvent },
  }
}
