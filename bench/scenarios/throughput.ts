import { cpus } from 'node:os'
import type { CountdownConfig } from '../../src/core/retry-countdown.ts'
import type { RunnerContext } from '../support/context.ts'
import { loadNote } from '../support/load.ts'
import { publishPaced } from '../support/publisher.ts'
import {
  errorResult,
  metric,
  resourceMetrics,
  type ScenarioResult,
  statementsNote,
  workersNote,
} from '../support/result.ts'
import { Session } from '../support/session.ts'
import { payload } from '../support/settings.ts'

/** One throughput run: fanout10, fanout1 and failing differ only in these. */
export interface ThroughputRun {
  scenario: 'fanout10' | 'fanout1' | 'failing'
  variant: string
  webhooks: number
  workers: number
  mode: 'ok' | 'failing'
  /** Publishing loops, each awaiting its `deliverEvent` before the next call. */
  lanes: number
  retry?: CountdownConfig
  /** fanout1 reports events/s (one delivery each), the others deliveries/s. */
  per: 'delivery' | 'event'
  /** Prometheus metrics in the publisher and the workers. @default true */
  metrics?: boolean
  /** Live signing keys per webhook: more than 1 rotates each webhook's secret that often. @default 1 */
  keys?: number
  /**
   * Ordered: events round-robin over this many ordering keys, and one more lane per webhook
   * (`blocked`, which the receiver always fails) blocked from the start.
   */
  orderingKeys?: number
  /** Also report the lag of delivered deliveries (first attempt of the success minus enqueue). */
  lag?: boolean
}

/**
 * Publishes events with `deliverEvent` (queued) for the plan's window while the workers deliver,
 * then waits until the queue is empty. The figure is deliveries recorded as delivered, divided by
 * the time from the first `deliverEvent` call to the `updated_at` of the last delivery recorded.
 *
 * The publisher is paced by the receiver's count of 200s (another process, so the check costs the
 * database nothing): it stays at most about 1 s of delivery ahead, so that the queue never grows
 * beyond what the deadline can drain and the run measures the workers, not a backlog.
 */
export async function measureThroughput(ctx: RunnerContext, run: ThroughputRun): Promise<ScenarioResult> {
  const eventType = `bench.${run.scenario}`
  const { plan, receiver } = ctx
  const session = await Session.open(ctx, eventType, { metrics: run.metrics ?? true }, run.workers > 1)
  try {
    const setupSeconds = await session.createWebhooks(run.webhooks, {
      eventType,
      path: `/${run.scenario}`,
      ...(run.retry ? { retry: run.retry } : {}),
      ...(run.keys ? { keys: run.keys } : {}),
      ...(run.orderingKeys ? { orderingOnFailure: 'block' as const } : {}),
    })
    await session.startWorkers(run.workers)
    await receiver.reset(run.mode)
    if (run.orderingKeys) {
      // A lane per webhook whose head never succeeds: its peers must not wait for it.
      for (let i = 0; i < 3; i += 1)
        await session.whisperer.deliverEvent(payload(0), eventType, { orderingKey: 'blocked' })
    }
    session.beginMeasure()

    const windowEnd = Date.now() + plan.window * 1000
    const deadline = windowEnd + plan.drain * 1000
    const { events, enqueued, firstAt, publishedAt, heldBack } = await publishPaced(session, {
      eventType,
      lanes: run.lanes,
      until: windowEnd,
      maxEvents: Math.floor(plan.maxDeliveries / run.webhooks),
      ...(run.orderingKeys ? { orderingKeys: run.orderingKeys } : {}),
    })

    const { counts, finished } = await session.drain(enqueued, deadline)
    const resources = await session.stopWorkers()
    const stored = await session.storedBytes()
    const stats = await receiver.stats()
    let attempts: number | null = null
    if (run.mode === 'failing') {
      const [row] = await session.sql<{ n: string | number }>(
        `SELECT count(*) AS n FROM "${session.schema}".attempts`,
      )
      attempts = Number(row?.n ?? 0)
    }

    const lastAt = counts.lastDeliveredAt
    const seconds = lastAt === null ? null : (lastAt - firstAt) / 1000
    const rate = seconds && seconds > 0 ? counts.delivered / seconds : null
    const publishSeconds = (publishedAt - firstAt) / 1000
    const metrics = [
      run.per === 'event'
        ? metric('events_per_s', 'events/s delivered', rate, '/s')
        : metric('deliveries_per_s', 'deliveries/s', rate, '/s'),
    ]
    if (attempts !== null) {
      metrics.push({
        ...metric(
          'attempts_check',
          'attempts recorded = requests seen',
          attempts === stats.requests ? 1 : 0,
          '',
        ),
        text: `${attempts.toLocaleString('en-US')} / ${stats.requests.toLocaleString('en-US')}`,
        target: { op: '=', value: 1 },
        met: attempts === stats.requests,
      })
    }
    if (run.lag) {
      // From the enqueue to the start of the attempt that delivered it, over every delivered one
      // (in an ordered run, all are peers of a blocked lane of their webhook).
      const [lag] = await session.sql<{ p50: number | null; p99: number | null; max: number | null }>(
        `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50,
           percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99, max(ms) AS max
         FROM (SELECT extract(epoch FROM last_attempt_at - created_at) * 1000 AS ms
           FROM "${session.schema}".deliveries WHERE status = 'delivered') l`,
      )
      metrics.push(
        metric('lag_p50_ms', 'enqueue to delivering attempt, p50', numberOr(lag?.p50), 'ms'),
        metric('lag_p99_ms', 'enqueue to delivering attempt, p99', numberOr(lag?.p99), 'ms'),
        metric('lag_max_ms', 'enqueue to delivering attempt, max', numberOr(lag?.max), 'ms'),
      )
    }
    metrics.push(...resourceMetrics(resources, counts.delivered, run.per))
    if (stored !== null && run.per === 'delivery')
      metrics.push(
        metric(
          'stored_bytes_per_delivery',
          'stored bytes/delivery',
          stored / Math.max(1, counts.delivered),
          '',
        ),
      )
    const notes = [
      `${counts.delivered.toLocaleString('en-US')} of ${enqueued.toLocaleString('en-US')} delivered in ${seconds?.toFixed(1) ?? '?'} s`,
      `published ${events.toLocaleString('en-US')} events at ${Math.round(events / publishSeconds).toLocaleString('en-US')}/s${heldBack < 0.05 ? ' (never held back: the enqueue was the limit)' : ''}`,
      loadNote(stats, session.machineBusy),
    ]
    if (counts.failed > 0) notes.push(`${counts.failed} failed`)
    if (attempts !== null)
      notes.push(`${(attempts / Math.max(1, counts.delivered)).toFixed(2)} attempts/delivery`)
    if (ctx.kind === 'pglite') notes.push(`sampled RSS ${Math.round(session.sampledRssMb)} MB`)
    notes.push(statementsNote(resources))
    const perWorker = workersNote(resources, seconds)
    if (perWorker && run.workers > 1) {
      notes.push(perWorker)
      if (cpus().length < 2 * run.workers + 2)
        notes.push(
          `${cpus().length} cores cannot show scaling: the workers share them with PostgreSQL, the receiver and the publisher, so more workers only add their own cost`,
        )
    }
    notes.push(...resources.errors)
    return {
      scenario: run.scenario,
      db: ctx.kind,
      variant: run.variant,
      status: finished ? 'ok' : 'timed out',
      metrics,
      notes,
      details: {
        webhooks: run.webhooks,
        workers: run.workers,
        publishingLanes: run.lanes,
        setupSeconds,
        events,
        enqueued,
        delivered: counts.delivered,
        failed: counts.failed,
        unfinished: counts.unfinished,
        seconds,
        publishSeconds,
        publisherHeldBack: heldBack,
        receiver: stats,
        attempts,
        resources,
        sampledRssMb: session.sampledRssMb,
        storedBytes: stored,
      },
    }
  } finally {
    await session.close()
  }
}

const numberOr = (value: unknown): number | null =>
  value === null || value === undefined ? null : Number(value)

/** fanout10: 10 webhooks, 1 KB events; one worker, then two and four worker processes on PostgreSQL. */
export async function fanout10(ctx: RunnerContext): Promise<ScenarioResult[]> {
  const workers = ctx.kind === 'postgres' ? ctx.plan.fanoutWorkers : [1]
  for (const n of workers) {
    const variant = ctx.kind === 'pglite' ? '1 worker, in-process' : `${n} worker process${n > 1 ? 'es' : ''}`
    const run: ThroughputRun = {
      scenario: 'fanout10',
      variant,
      webhooks: 10,
      workers: n,
      mode: 'ok',
      lanes: ctx.kind === 'postgres' ? 8 : 1,
      per: 'delivery',
    }
    await ctx.emit(
      await measureThroughput(ctx, run).catch((error) => errorResult('fanout10', ctx.kind, variant, error)),
    )
  }
  return []
}

/** fanout1: one webhook, events published one `deliverEvent` call at a time. */
export async function fanout1(ctx: RunnerContext): Promise<ScenarioResult[]> {
  return [
    await measureThroughput(ctx, {
      scenario: 'fanout1',
      variant: ctx.kind === 'pglite' ? '1 worker, in-process' : '1 worker process',
      webhooks: 1,
      workers: 1,
      mode: 'ok',
      lanes: 1,
      per: 'event',
    }),
  ]
}

/** failing: every other request answered 500, retried at once (fixed 0 s), fan-out 10. */
export async function failing(ctx: RunnerContext): Promise<ScenarioResult[]> {
  return [
    await measureThroughput(ctx, {
      scenario: 'failing',
      variant: ctx.kind === 'pglite' ? '1 worker, in-process' : '1 worker process',
      webhooks: 10,
      workers: 1,
      mode: 'failing',
      lanes: ctx.kind === 'postgres' ? 8 : 1,
      retry: { choice: 'fixed', kwargs: { seconds: 0 } },
      per: 'delivery',
    }),
  ]
}

/**
 * fanout10 with one worker under two settings, run a, b, b, a in the same run (so that a drift of
 * the machine, or a cost of following another run, weighs on both alike), each run emitted as
 * `scenario`'s. Returns, for each setting, the figures named by `keys` of its runs that finished.
 */
export async function alternatingFanout10<S extends string | number>(
  ctx: RunnerContext,
  scenario: string,
  settings: readonly [S, S],
  describe: (setting: S) => { label: string; run: Partial<ThroughputRun> },
  keys: readonly string[],
): Promise<Map<S, Record<string, number[]>>> {
  const [a, b] = settings
  const figures = new Map<S, Record<string, number[]>>(
    settings.map((setting) => [setting, Object.fromEntries(keys.map((key) => [key, [] as number[]]))]),
  )
  const rounds = [
    [1, [a, b]],
    [2, [b, a]],
  ] as const
  for (const [round, order] of rounds) {
    for (const setting of order) {
      const { label, run } = describe(setting)
      const variant = `fanout10, 1 worker, ${label} (round ${round})`
      const result = await measureThroughput(ctx, {
        scenario: 'fanout10',
        variant,
        webhooks: 10,
        workers: 1,
        mode: 'ok',
        lanes: ctx.kind === 'postgres' ? 8 : 1,
        per: 'delivery',
        ...run,
      }).catch((error) => errorResult(scenario, ctx.kind, variant, error))
      for (const key of keys) {
        const value = result.metrics.find((m) => m.key === key)?.value
        if (result.status === 'ok' && typeof value === 'number') figures.get(setting)![key]!.push(value)
      }
      await ctx.emit({ ...result, scenario })
    }
  }
  return figures
}
