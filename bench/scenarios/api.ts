import { Agent, request } from 'undici'
import { startServer } from '../../src/server/server.ts'
import type { RunnerContext } from '../support/context.ts'
import { loadNote } from '../support/load.ts'
import { percentiles } from '../support/percentiles.ts'
import {
  errorResult,
  metric,
  resourceMetrics,
  type ScenarioResult,
  statementsNote,
} from '../support/result.ts'
import { Session } from '../support/session.ts'
import { payload, sleep } from '../support/settings.ts'

/** Clients publishing at once, each awaiting its answer before the next request. */
const clients = 32

/**
 * api: the service as `whisperer serve` runs it (REST API, in-process worker), with 32 clients
 * publishing through `POST events/` (one webhook each event, so deliveries must keep up with
 * publishes one for one). Accepted publishes per second and their latency, then how fast the
 * deliveries followed: delivered per second over the same span, and how long after the last
 * publish the last delivery was recorded.
 */
export async function api(ctx: RunnerContext): Promise<ScenarioResult[]> {
  const eventType = 'bench.api'
  const variant = `${clients} clients, fan-out 1`
  // One publisher at 1,000/s and more: the per-owner API limit (50/s by default) is turned off, as
  // such a publisher's operator would raise it.
  const session = await Session.open(ctx, eventType, { apiRateLimit: 0 })
  const agent = new Agent({ connections: clients })
  try {
    await session.createWebhooks(1, { eventType, path: '/api' })
    const { token } = await session.whisperer.tokens.create({
      owner: 'bench',
      scopes: ['publisher'],
      name: 'bench',
    })
    const server = await startServer({
      whisperer: session.whisperer,
      port: 0,
      host: '127.0.0.1',
      config: { eventTypes: [] },
      announce: () => {},
    })
    session.adoptInProcessWorker()
    await ctx.receiver.reset('ok')
    session.beginMeasure()
    const url = `${server.url}/whisperer/events/`
    const headers = { authorization: `Token ${token}`, 'content-type': 'application/json' }
    const started = Date.now()
    const windowEnd = started + ctx.plan.window * 1000
    const latencies: number[] = []
    let accepted = 0
    let refused = 0
    const refusals = new Map<number, number>()
    let lastAcceptedAt = started
    let n = 0
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (Date.now() < windowEnd) {
          const body = JSON.stringify({ event_type: eventType, data: payload(n++) })
          const at = performance.now()
          const response = await request(url, { method: 'POST', headers, body, dispatcher: agent }).catch(
            () => null,
          )
          if (response) await response.body.dump()
          latencies.push(performance.now() - at)
          if (response && response.statusCode < 300) {
            accepted += 1
            lastAcceptedAt = Date.now()
          } else {
            refused += 1
            const code = response?.statusCode ?? 0
            refusals.set(code, (refusals.get(code) ?? 0) + 1)
          }
          if (n % 200 === 0) session.sampleRss()
        }
      }),
    )
    const deadline = Date.now() + ctx.plan.drain * 1000
    const { counts, finished } = await session.drain(accepted, deadline)
    const resources = await session.stopWorkers()
    await server.close()
    const publishSeconds = (lastAcceptedAt - started) / 1000
    const acceptedPerS = accepted / publishSeconds
    const deliveredPerS =
      counts.lastDeliveredAt !== null ? counts.delivered / ((counts.lastDeliveredAt - started) / 1000) : null
    const behind = counts.lastDeliveredAt !== null ? (counts.lastDeliveredAt - lastAcceptedAt) / 1000 : null
    const [p50, p99] = percentiles(latencies, [0.5, 0.99])
    const stats = await ctx.receiver.stats()
    const notes = [
      `${accepted.toLocaleString('en-US')} publishes accepted in ${publishSeconds.toFixed(1)} s, ${refused} refused or failed${
        refused > 0
          ? ` (${[...refusals].map(([code, count]) => `${code || 'no answer'}: ${count}`).join(', ')})`
          : ''
      }`,
      `${counts.delivered.toLocaleString('en-US')} delivered; the last ${behind?.toFixed(2) ?? '–'} s after the last publish`,
      loadNote(stats, session.machineBusy),
    ]
    if (ctx.kind === 'pglite') notes.push(`sampled RSS ${Math.round(session.sampledRssMb)} MB`)
    notes.push(statementsNote(resources), ...resources.errors)
    return [
      {
        scenario: 'api',
        db: ctx.kind,
        variant,
        status: finished ? 'ok' : 'timed out',
        metrics: [
          metric('accepted_per_s', 'publishes accepted/s', acceptedPerS, '/s'),
          metric('publish_p50_ms', 'publish p50', p50 ?? null, 'ms'),
          metric('publish_p99_ms', 'publish p99', p99 ?? null, 'ms'),
          metric('deliveries_per_s', 'deliveries/s', deliveredPerS, '/s'),
          metric(
            'pace_pct',
            'deliveries/s % of accepted/s',
            deliveredPerS === null ? null : (deliveredPerS / acceptedPerS) * 100,
            '%',
          ),
          metric('behind_s', 'last delivery after last publish', behind, 's'),
          ...resourceMetrics(resources, counts.delivered),
        ],
        notes,
        details: { accepted, refused, delivered: counts.delivered, receiver: stats, resources },
      },
    ]
  } catch (error) {
    return [errorResult('api', ctx.kind, variant, error)]
  } finally {
    await agent.close()
    await sleep(0)
    await session.close()
  }
}
