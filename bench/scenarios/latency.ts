import { uuidHex } from '../../src/core/payload.ts'
import type { RunnerContext } from '../support/context.ts'
import { loadNote } from '../support/load.ts'
import { percentiles } from '../support/percentiles.ts'
import {
  type Metric,
  metric,
  resourceMetrics,
  type ScenarioResult,
  statementsNote,
} from '../support/result.ts'
import { Session } from '../support/session.ts'
import { payload, sleep, wallNow, within } from '../support/settings.ts'

/**
 * latency: a fixed offered rate (1,000 deliveries/s, fan-out 1) on a schedule: call i is made at
 * start + i ms, whatever the previous calls do (however many are still waiting), so that a slow
 * call never delays the next ones: the schedule does not drift, and queueing shows as latency.
 * Each call's wall time is kept; the receiver records when each `webhook-id` arrives, and the
 * deliveries' `updated_at` says when each was recorded. Both are read after the run.
 */
export async function latency(ctx: RunnerContext): Promise<ScenarioResult[]> {
  const eventType = 'bench.latency'
  const { plan, receiver } = ctx
  const session = await Session.open(ctx, eventType)
  try {
    await session.createWebhooks(1, { eventType, path: '/latency' })
    await session.startWorkers(1)
    await receiver.reset('ok')
    session.beginMeasure()

    const total = Math.round(plan.latency * plan.latencyRate)
    const interval = 1000 / plan.latencyRate
    const calledAt = new Float64Array(total)
    const returnedAt = new Float64Array(total)
    const lag = new Float64Array(total)
    const uuids: (string | undefined)[] = new Array(total)
    let fired = 0
    let settled = 0
    let failedCalls = 0
    const deadline = Date.now() + (plan.latency + plan.drain) * 1000
    const start = performance.now() + 10
    while (fired < total && Date.now() < deadline) {
      const now = performance.now()
      while (fired < total && start + fired * interval <= now) {
        const i = fired++
        const at = performance.now()
        lag[i] = at - (start + i * interval)
        calledAt[i] = performance.timeOrigin + at
        session.whisperer.deliverEvent(payload(i), eventType).then(
          (result) => {
            returnedAt[i] = wallNow()
            uuids[i] = result.deliveries[0]?.uuid
            settled += 1
          },
          () => {
            failedCalls += 1
            settled += 1
          },
        )
      }
      await sleep(Math.max(0, start + fired * interval - performance.now()))
      session.sampleRss()
    }
    while (settled < fired && Date.now() < deadline) await sleep(5)
    const enqueued = uuids.filter(Boolean).length
    const { counts, finished } = await session.drain(enqueued, deadline)
    const resources = await session.stopWorkers()

    const { ids, times } = await within(receiver.times(), 60_000, 'fetching the receiver times')
    const arrived = new Map<string, number>()
    for (let i = 0; i < ids.length; i += 1) if (!arrived.has(ids[i]!)) arrived.set(ids[i]!, times[i]!)
    const rows = await session.sql<{ id: string; updated_at: Date | string }>(
      `SELECT replace(uuid::text, '-', '') AS id, updated_at FROM "${session.schema}".deliveries
       WHERE status = 'delivered'`,
    )
    const recorded = new Map(rows.map((row) => [row.id, new Date(row.updated_at).getTime()]))
    const toReceiver: number[] = []
    const toRecorded: number[] = []
    const toReturn: number[] = []
    let missing = 0
    for (let i = 0; i < fired; i += 1) {
      const uuid = uuids[i]
      if (!uuid) continue
      toReturn.push(returnedAt[i]! - calledAt[i]!)
      const id = uuidHex(uuid)
      const seen = arrived.get(id)
      const stored = recorded.get(id)
      if (seen === undefined || stored === undefined) missing += 1
      if (seen !== undefined) toReceiver.push(seen - calledAt[i]!)
      if (stored !== undefined) toRecorded.push(stored - calledAt[i]!)
    }
    const quantiles = [0.5, 0.9, 0.99, 1]
    const names = ['p50', 'p90', 'p99', 'max']
    const receiverP = percentiles(toReceiver, quantiles)
    const recordedP = percentiles(toRecorded, quantiles)
    const returnP = percentiles(toReturn, [0.5, 0.99])
    const lagP = percentiles(Array.from(lag.subarray(0, fired)), [0.99, 1])
    const offered = fired > 1 ? ((fired - 1) / (calledAt[fired - 1]! - calledAt[0]!)) * 1000 : null
    const metrics: Metric[] = [
      metric('offered_per_s', 'offered deliveries/s', offered, '/s'),
      ...names.map((name, i) =>
        metric(`receiver_${name}_ms`, `call → receiver ${name}`, receiverP[i]!, 'ms'),
      ),
      ...names.map((name, i) =>
        metric(`recorded_${name}_ms`, `call → recorded ${name}`, recordedP[i]!, 'ms'),
      ),
      ...resourceMetrics(resources, counts.delivered),
    ]
    const stats = await receiver.stats()
    const notes = [
      `${counts.delivered.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} delivered`,
      `deliverEvent returned in p50 ${returnP[0]?.toFixed(2)} ms, p99 ${returnP[1]?.toFixed(2)} ms`,
      `schedule lag p99 ${lagP[0]?.toFixed(2)} ms, max ${lagP[1]?.toFixed(1)} ms`,
      'recorded = the row’s updated_at (ms precision)',
      loadNote(stats, session.machineBusy),
    ]
    if (missing > 0) notes.push(`${missing} not seen or not recorded`)
    if (failedCalls > 0) notes.push(`${failedCalls} deliverEvent calls failed`)
    if (ctx.kind === 'pglite') notes.push(`sampled RSS ${Math.round(session.sampledRssMb)} MB`)
    notes.push(statementsNote(resources), ...resources.errors)
    return [
      {
        scenario: 'latency',
        db: ctx.kind,
        variant: `${plan.latencyRate}/s for ${plan.latency} s`,
        status: finished && fired === total ? 'ok' : 'timed out',
        metrics,
        notes,
        details: {
          scheduled: total,
          called: fired,
          failedCalls,
          delivered: counts.delivered,
          missing,
          receiver: stats,
          percentiles: { quantiles, toReceiver: receiverP, toRecorded: recordedP },
          deliverEventMs: { p50: returnP[0], p99: returnP[1] },
          scheduleLagMs: { p99: lagP[0], max: lagP[1] },
          resources,
        },
      },
    ]
  } finally {
    await session.close()
  }
}
