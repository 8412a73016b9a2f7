import type { RunnerContext } from '../support/context.ts'
import { enqueueCost } from '../support/enqueue.ts'
import type { ScenarioResult } from '../support/result.ts'
import { Session } from '../support/session.ts'
import { payload } from '../support/settings.ts'

/** The 100 published types, `bench.p.g<group>.t<n>`, and 100 that are never published. */
const published = (i: number) => `bench.p.g${Math.floor(i / 10) % 10}.t${i % 10}`
const unpublished = (i: number) => `bench.r.g${Math.floor(i / 10) % 10}.t${i % 10}`

/**
 * patterns: what event types patterns cost the fan-out. 1,000 webhooks (100 with --quick), each
 * event reaching 10 of them, two ways:
 * - exact: every webhook names one type (10 per type), as before event types patterns existed;
 * - mixed: 500 webhooks name one type (5 per type), 50 a group's pattern `bench.p.g<g>.*` (5 per
 *   group), and 450 hold types and patterns that no event matches (`bench.r.g<g>.*`, or two
 *   unpublished types), so that the index holds both kinds.
 * Events are enqueued one `deliverEvent` at a time with no worker running, so the figure is the
 * enqueue statement alone, which finds the webhooks with `event_types && type_patterns(type)`.
 */
export async function patterns(ctx: RunnerContext): Promise<ScenarioResult[]> {
  const { plan } = ctx
  const scale = plan.quick ? 10 : 1
  const webhooks = 1000 / scale
  const events = plan.quick ? 20 : 200
  const variants: { name: string; eventTypes: (i: number) => string[] }[] = [
    { name: 'exact types', eventTypes: (i) => [published(i % 100)] },
    {
      name: 'mixed exact and patterns',
      eventTypes: (i) => {
        const k = i * scale
        if (k < 500) return [published(k % 100)]
        if (k < 550) return [`bench.p.g${k % 10}.*`]
        if (k % 2 === 0) return [`bench.r.g${k % 10}.*`]
        return [unpublished(k % 100), unpublished((k + 37) % 100)]
      },
    },
  ]
  const results: ScenarioResult[] = []
  for (const [v, variant] of variants.entries()) {
    const session = await Session.open(ctx, published(0))
    try {
      for (let i = 1; i < 100; i += 1) session.whisperer.eventTypes.register({ type: published(i) })
      for (let i = 0; i < 100; i += 1) session.whisperer.eventTypes.register({ type: unpublished(i) })
      const setupSeconds = await session.createWebhooks(webhooks, {
        eventType: published(0),
        eventTypes: variant.eventTypes,
        path: `/patterns/${v}`,
      })
      // Warmed up first, so that neither variant pays for the first statements.
      for (let n = 0; n < 10; n += 1) await session.whisperer.deliverEvent(payload(n), published(n))
      results.push(
        await enqueueCost({
          scenario: 'patterns',
          db: ctx.kind,
          variant: `${webhooks.toLocaleString('en-US')} webhooks, ${variant.name}`,
          events,
          publish: async (n) =>
            (await session.whisperer.deliverEvent(payload(n), published((n * 7) % 100))).deliveries.length,
          baseline: results[0],
          baselineLabel: 'exact types',
          notes: [`${webhooks.toLocaleString('en-US')} webhooks created in ${setupSeconds.toFixed(1)} s`],
          details: { webhooks },
        }),
      )
    } finally {
      await session.close()
    }
  }
  return results
}
