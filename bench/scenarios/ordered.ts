import type { RunnerContext } from '../support/context.ts'
import { mean, percentOf } from '../support/percentiles.ts'
import { metric, type ScenarioResult } from '../support/result.ts'
import { alternatingFanout10 } from './throughput.ts'

/** Ordering keys the ordered runs spread their events over. */
const orderingKeys = 1000

/**
 * ordered: fanout10 with one worker, unordered and ordered (events round-robin over 1,000 ordering
 * keys, and one lane per webhook blocked by a head the receiver always fails), twice each
 * (unordered, ordered, ordered, unordered), in the same run. Reports each run with its lag (from
 * enqueue to the attempt that delivered), the ratio of the mean throughputs (ordered / unordered),
 * and the ordered runs' lag, all of whose deliveries are peers of a blocked lane.
 */
export async function ordered(ctx: RunnerContext): Promise<ScenarioResult[]> {
  const figures = await alternatingFanout10(
    ctx,
    'ordered',
    ['unordered', 'ordered'] as const,
    (setting) => ({
      label: setting === 'ordered' ? `${orderingKeys} keys` : 'unordered',
      run: { lag: true, ...(setting === 'ordered' ? { orderingKeys } : {}) },
    }),
    ['deliveries_per_s', 'lag_p99_ms'],
  )
  const rates = {
    ordered: figures.get('ordered')!.deliveries_per_s!,
    unordered: figures.get('unordered')!.deliveries_per_s!,
  }
  const lagP99 = {
    ordered: figures.get('ordered')!.lag_p99_ms!,
    unordered: figures.get('unordered')!.lag_p99_ms!,
  }
  const on = mean(rates.ordered)
  const off = mean(rates.unordered)
  const ratio = percentOf(on, off)
  return [
    {
      scenario: 'ordered',
      db: ctx.kind,
      variant: `fanout10, ${orderingKeys} keys / unordered`,
      status: ratio === null ? 'error' : 'ok',
      metrics: [
        metric('unordered_per_s', 'deliveries/s, unordered (mean)', off, '/s'),
        metric('ordered_per_s', `deliveries/s, ${orderingKeys} keys (mean)`, on, '/s'),
        metric('ordered_ratio_pct', 'ordered / unordered', ratio, '%'),
        metric(
          'blocked_peers_lag_p99_ms',
          'lag p99 beside a blocked lane (mean)',
          mean(lagP99.ordered),
          'ms',
        ),
        metric('unordered_lag_p99_ms', 'lag p99, unordered (mean)', mean(lagP99.unordered), 'ms'),
      ],
      notes: [
        `unordered: ${rates.unordered.map((r) => Math.round(r)).join(', ')}; ordered: ${rates.ordered.map((r) => Math.round(r)).join(', ')} deliveries/s`,
        `lag p99 ms, unordered: ${lagP99.unordered.map((r) => Math.round(r)).join(', ')}; ordered: ${lagP99.ordered.map((r) => Math.round(r)).join(', ')}`,
      ],
      details: { rates, lagP99 },
    },
  ]
}
