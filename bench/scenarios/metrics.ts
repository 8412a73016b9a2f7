import type { RunnerContext } from '../support/context.ts'
import { mean, percentiles, percentOf } from '../support/percentiles.ts'
import { metric, type ScenarioResult } from '../support/result.ts'
import { Session } from '../support/session.ts'
import { payload, yieldToLoop } from '../support/settings.ts'
import { alternatingFanout10 } from './throughput.ts'

/**
 * scrape: what one `/metrics` scrape costs with 1,000 webhooks over 100 event types (100 and 10
 * with --quick) and one event of each type queued (1,000 due deliveries, no worker). The gauges'
 * cache is off (`metricsInterval: 0`), so every scrape reads the database: the figure is the worst
 * case, a scrape per interval. Reports the time of `whisperer.metrics()` (median, p99) and the
 * statements per scrape.
 */
export async function scrape(ctx: RunnerContext): Promise<ScenarioResult[]> {
  const types = ctx.plan.quick ? 10 : 100
  const perType = 10
  const scrapes = ctx.plan.quick ? 50 : 200
  const session = await Session.open(ctx, 'bench.scrape.0', { metricsInterval: 0 })
  try {
    let setupSeconds = 0
    for (let t = 0; t < types; t += 1) {
      const eventType = `bench.scrape.${t}`
      if (t > 0) session.whisperer.eventTypes.register({ type: eventType })
      setupSeconds += await session.createWebhooks(perType, { eventType, path: `/scrape/${t}` })
    }
    for (let t = 0; t < types; t += 1) await session.whisperer.deliverEvent(payload(t), `bench.scrape.${t}`)
    // One scrape first: prom-client builds its default collectors and the statement is prepared.
    await session.whisperer.metrics()
    session.db.reset()
    const times: number[] = []
    let bytes = 0
    for (let i = 0; i < scrapes; i += 1) {
      const started = performance.now()
      const text = await session.whisperer.metrics()
      times.push(performance.now() - started)
      bytes = text.length
      await yieldToLoop()
    }
    const statements = session.db.count / scrapes
    const [p50, p99] = percentiles(times, [0.5, 0.99])
    return [
      {
        scenario: 'scrape',
        db: ctx.kind,
        variant: `${(types * perType).toLocaleString('en-US')} webhooks, ${types} event types, cache off`,
        status: 'ok',
        metrics: [
          metric('scrape_p50_ms', 'scrape p50', p50 ?? null, 'ms'),
          metric('scrape_p99_ms', 'scrape p99', p99 ?? null, 'ms'),
          metric('statements_per_scrape', 'statements per scrape', statements, ''),
        ],
        notes: [
          `${scrapes} scrapes one after another, ${Math.round(bytes / 1024)} KB each`,
          `${(types * perType).toLocaleString('en-US')} due deliveries; webhooks created in ${setupSeconds.toFixed(1)} s`,
          `SQL: ${Object.entries(session.db.breakdown())
            .map(([name, n]) => `${name} ${n}`)
            .join(', ')}`,
        ],
        details: { types, webhooks: types * perType, scrapes, times, statements, bytes },
      },
    ]
  } finally {
    await session.close()
  }
}

/**
 * metricscost: fanout10 with one worker, metrics off and on, twice each (off, on, on, off), in the
 * same run; reports each run, the ratio of the mean throughputs (on / off) and of the worker CPU
 * per delivery.
 */
export async function metricsCost(ctx: RunnerContext): Promise<ScenarioResult[]> {
  // Off, on, on, off. Worker CPU per delivery: less sensitive than throughput to what else the
  // machine runs.
  const figures = await alternatingFanout10(
    ctx,
    'metricscost',
    ['off', 'on'] as const,
    (setting) => ({ label: `metrics ${setting}`, run: { metrics: setting === 'on' } }),
    ['deliveries_per_s', 'cpu_us_per_delivery'],
  )
  const rates = { on: figures.get('on')!.deliveries_per_s!, off: figures.get('off')!.deliveries_per_s! }
  const cpu = { on: figures.get('on')!.cpu_us_per_delivery!, off: figures.get('off')!.cpu_us_per_delivery! }
  const on = mean(rates.on)
  const off = mean(rates.off)
  const ratio = percentOf(on, off)
  const cpuRatio = percentOf(mean(cpu.on), mean(cpu.off))
  return [
    {
      scenario: 'metricscost',
      db: ctx.kind,
      variant: 'fanout10, metrics on / off',
      status: ratio === null ? 'error' : 'ok',
      metrics: [
        metric('metrics_off_per_s', 'deliveries/s, metrics off (mean)', off, '/s'),
        metric('metrics_on_per_s', 'deliveries/s, metrics on (mean)', on, '/s'),
        metric('metrics_on_off_pct', 'on / off', ratio, '%'),
        metric('cpu_on_off_pct', 'worker CPU per delivery, on / off', cpuRatio, '%'),
      ],
      notes: [
        `off: ${rates.off.map((r) => Math.round(r)).join(', ')}; on: ${rates.on.map((r) => Math.round(r)).join(', ')} deliveries/s`,
        `worker CPU µs/delivery, off: ${cpu.off.map((c) => Math.round(c)).join(', ')}; on: ${cpu.on.map((c) => Math.round(c)).join(', ')}`,
      ],
      details: { rates, cpu },
    },
  ]
}
