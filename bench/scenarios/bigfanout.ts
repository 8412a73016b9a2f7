import type { RunnerContext } from '../support/context.ts'
import { loadNote } from '../support/load.ts'
import { metric, resourceMetrics, type ScenarioResult, statementsNote } from '../support/result.ts'
import { Session } from '../support/session.ts'
import { payload, wallNow } from '../support/settings.ts'

/**
 * bigfanout: one event to 10,000 webhooks (1,000 with --quick), created through the API. The figures
 * are the `deliverEvent` call itself (the enqueue) and the time from that call to the last delivery
 * recorded as delivered.
 */
export async function bigfanout(ctx: RunnerContext): Promise<ScenarioResult[]> {
  const eventType = 'bench.bigfanout'
  const { plan, receiver } = ctx
  const count = plan.bigfanoutWebhooks
  const session = await Session.open(ctx, eventType)
  try {
    const setupSeconds = await session.createWebhooks(count, { eventType, path: '/bigfanout' })
    await session.startWorkers(1)
    await receiver.reset('ok')
    session.beginMeasure()
    const deadline = Date.now() + plan.bigfanoutDeadline * 1000
    const calledAt = wallNow()
    const result = await session.whisperer.deliverEvent(payload(1), eventType)
    const enqueuedAt = wallNow()
    const { counts, finished } = await session.drain(result.deliveries.length, deadline)
    const resources = await session.stopWorkers()
    const stats = await receiver.stats()
    const all = counts.lastDeliveredAt === null ? null : (counts.lastDeliveredAt - calledAt) / 1000
    const notes = [
      `${counts.delivered.toLocaleString('en-US')} of ${result.deliveries.length.toLocaleString('en-US')} delivered`,
      `${count.toLocaleString('en-US')} webhooks created through the API in ${setupSeconds.toFixed(1)} s`,
      loadNote(stats, session.machineBusy),
      `receiver saw the last request after ${stats.lastAt === null ? '?' : ((stats.lastAt - calledAt) / 1000).toFixed(2)} s`,
    ]
    if (ctx.kind === 'pglite') notes.push(`sampled RSS ${Math.round(session.sampledRssMb)} MB`)
    notes.push(statementsNote(resources), ...resources.errors)
    return [
      {
        scenario: 'bigfanout',
        db: ctx.kind,
        variant: `${count.toLocaleString('en-US')} webhooks`,
        status: finished ? 'ok' : 'timed out',
        metrics: [
          metric('enqueue_s', 'enqueued (deliverEvent)', (enqueuedAt - calledAt) / 1000, 's'),
          metric('all_delivered_s', 'all delivered', all, 's'),
          metric('deliveries_per_s', 'deliveries/s', all ? counts.delivered / all : null, '/s'),
          ...resourceMetrics(resources, counts.delivered),
        ],
        notes,
        details: {
          webhooks: count,
          setupSeconds,
          enqueued: result.deliveries.length,
          delivered: counts.delivered,
          unfinished: counts.unfinished,
          receiver: stats,
          resources,
        },
      },
    ]
  } finally {
    await session.close()
  }
}
