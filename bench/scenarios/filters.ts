import type { Filters } from '../../src/core/filters.ts'
import type { RunnerContext } from '../support/context.ts'
import { enqueueCost } from '../support/enqueue.ts'
import type { ScenarioResult } from '../support/result.ts'
import { Session } from '../support/session.ts'
import { payload } from '../support/settings.ts'

/**
 * filters: what match filters cost the fan-out. One event type per variant, each with 1,000 webhooks
 * (100 with --quick): without filters (the baseline), with three conditions each that every event
 * matches, and with conditions that one webhook in ten matches. Events are enqueued one
 * `deliverEvent` call at a time with no worker running, so the figure is the enqueue alone: the
 * single statement that evaluates every webhook's filters in PostgreSQL and inserts the deliveries.
 */
export async function filters(ctx: RunnerContext): Promise<ScenarioResult[]> {
  const { plan } = ctx
  const webhooks = plan.quick ? 100 : 1000
  const events = plan.quick ? 5 : 30
  const variants: { name: string; filters: ((i: number) => Filters) | null }[] = [
    { name: 'no filters', filters: null },
    {
      name: 'filters, all match',
      filters: (i) => ({
        type: 'package',
        'owner.plan': { startswith: 'te' },
        name: { like: `^package-[0-9]+$|^x${i}$` },
      }),
    },
    {
      name: 'filters, 1 in 10 match',
      filters: (i) => ({ shard: i % 10, 'owner.login': { contains: 'bench' }, name: { endswith: '' } }),
    },
  ]
  const session = await Session.open(ctx, 'bench.filters.0')
  const results: ScenarioResult[] = []
  try {
    for (const [v, variant] of variants.entries()) {
      const eventType = `bench.filters.${v}`
      if (v > 0) session.whisperer.eventTypes.register({ type: eventType })
      const setupSeconds = await session.createWebhooks(webhooks, {
        eventType,
        path: `/filters/${v}`,
        ...(variant.filters ? { filters: variant.filters } : {}),
      })
      results.push(
        await enqueueCost({
          scenario: 'filters',
          db: ctx.kind,
          variant: `${webhooks.toLocaleString('en-US')} webhooks, ${variant.name}`,
          events,
          publish: async (n) =>
            (await session.whisperer.deliverEvent({ ...payload(n), shard: 3 }, eventType)).deliveries.length,
          baseline: results[0],
          baselineLabel: 'no filters',
          notes: [
            `${webhooks.toLocaleString('en-US')} webhooks created through the API in ${setupSeconds.toFixed(1)} s`,
          ],
          details: { webhooks },
        }),
      )
    }
    return results
  } finally {
    await session.close()
  }
}
