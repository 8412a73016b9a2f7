import { randomUUID } from 'node:crypto'
import { Agent } from 'undici'
import { buildBody, uuidHex } from '../../src/core/payload.ts'
import type { ClaimedDelivery, Completion } from '../../src/storage/store.ts'
import { Store } from '../../src/storage/store.ts'
import type { RunnerContext } from '../support/context.ts'
import { loadNote, machineBusySince, machineTimes } from '../support/load.ts'
import type { ReceiverClient } from '../support/receiver-client.ts'
import { errorResult, metric, type ScenarioResult } from '../support/result.ts'
import { Session } from '../support/session.ts'
import { type Plan, payload, yieldToLoop } from '../support/settings.ts'

/** Requests in flight in the HTTP ceiling: the engine's concurrency. */
const httpConcurrency = 64

/**
 * The raw HTTP ceiling: what the engine's HTTP client (undici, `agent.request()`) can do on this
 * machine: the same 1 KB bodies with the same headers to the same receiver paths, 64 at a time on
 * 64 connections, each response's body discarded (`dump()`), with no database, no signing and no
 * bookkeeping: the headers are built once, not per request. Requests per second, and the client's
 * CPU per request.
 */
export async function httpCeiling(receiver: ReceiverClient, plan: Plan): Promise<ScenarioResult[]> {
  const agent = new Agent({ connections: httpConcurrency })
  const { origin } = new URL(receiver.origin)
  const body = buildBody('bench.fanout10', randomUUID(), 'data', JSON.stringify(payload(1)))
  const headers = {
    'content-type': 'application/json',
    'user-agent': 'Whisperer/bench',
    'x-whisperer-event': 'bench.fanout10',
    'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
    'webhook-signature': `v1,${'A'.repeat(43)}=`,
    'x-whisperer-signature': `sha256=${'0'.repeat(64)}`,
    'webhook-id': uuidHex(randomUUID()),
  }
  const paths = Array.from({ length: 10 }, (_, i) => `/fanout10/${i}`)
  await receiver.reset('ok')
  let ok = 0
  let errors = 0
  let sequence = 0
  const cpuBefore = process.cpuUsage()
  const machineBefore = machineTimes()
  const started = performance.now()
  const end = started + plan.ceiling * 1000
  const lane = async () => {
    while (performance.now() < end) {
      const n = sequence++
      try {
        const response = await agent.request({
          origin,
          path: paths[n % paths.length]!,
          method: 'POST',
          headers,
          body,
        })
        await response.body.dump()
        if (response.statusCode === 200) ok += 1
        else errors += 1
      } catch {
        errors += 1
      }
    }
  }
  await Promise.all(Array.from({ length: httpConcurrency }, lane))
  const seconds = (performance.now() - started) / 1000
  const cpu = process.cpuUsage(cpuBefore)
  await agent.close()
  const stats = await receiver.stats()
  const requests = ok + errors
  return [
    {
      scenario: 'ceilings',
      db: 'none',
      variant: `raw HTTP, ${httpConcurrency} in flight`,
      status: 'ok',
      metrics: [
        metric('http_rps', 'requests/s', ok / seconds, '/s'),
        metric('client_cpu_us', 'client CPU µs/request', (cpu.user + cpu.system) / requests, 'µs'),
        metric('client_rss_mb', 'client peak RSS', process.resourceUsage().maxRSS / 1024, 'MB'),
      ],
      notes: [
        `${ok.toLocaleString('en-US')} requests in ${seconds.toFixed(1)} s`,
        loadNote(stats, machineBusySince(machineBefore)),
        ...(errors > 0 ? [`${errors} errors`] : []),
      ],
      details: { ok, errors, seconds, receiver: stats, cpuMicros: cpu.user + cpu.system },
    },
  ]
}

/**
 * The raw claim-and-complete ceiling: a prefilled queue (fan-out 10 events of 1 KB, as fanout10
 * enqueues them), emptied by loops of `store.deliveryClaim({ limit: 100 })` and
 * `store.deliveryComplete()` with synthetic 200 completions, and no HTTP. Rows per second with one
 * loop, then with two concurrent loops, each on a fresh schema.
 */
export async function claimCeiling(ctx: RunnerContext): Promise<ScenarioResult[]> {
  for (const loops of [1, 2]) {
    const variant = `raw claim + complete, ${loops} loop${loops > 1 ? 's' : ''}`
    await ctx.emit(
      await claimRun(ctx, loops, variant).catch((error) => errorResult('ceilings', ctx.kind, variant, error)),
    )
  }
  const variant = 'bare pipeline: claim 100, POST, complete'
  await ctx.emit(
    await pipelineRun(ctx, variant).catch((error) => errorResult('ceilings', ctx.kind, variant, error)),
  )
  return []
}

/**
 * The bare pipeline ceiling, the honest one for fanout10: one loop on the same database and
 * receiver that claims 100 due rows of a prefilled queue (one UPDATE … FOR UPDATE SKIP LOCKED),
 * POSTs each with undici (all 100 at once, on up to 64 connections), then completes them in one
 * UPDATE: no signing, no attempt log, no retries. Both statements run as the engine runs its hot
 * ones: named prepared statements, through the same Database adapter. Deliveries per second.
 */
async function pipelineRun(ctx: RunnerContext, variant: string): Promise<ScenarioResult> {
  const eventType = 'bench.pipeline'
  const { plan } = ctx
  const session = await Session.open(ctx, eventType)
  const agent = new Agent({ connections: httpConcurrency })
  try {
    await session.createWebhooks(10, { eventType, path: '/pipeline' })
    const rows = Math.min(300_000, Math.ceil(plan.ceiling * (ctx.kind === 'pglite' ? 8_000 : 15_000)))
    const prefilled = await prefill(session, eventType, Math.ceil(rows / 10))
    const s = `"${session.schema}"`
    const claim = `
      WITH due AS (
        SELECT id FROM ${s}.deliveries WHERE status = 'pending' AND next_attempt_at <= now()
        ORDER BY next_attempt_at LIMIT 100 FOR UPDATE SKIP LOCKED
      )
      UPDATE ${s}.deliveries d SET status = 'delivering', next_attempt_at = now() + interval '1 minute'
      FROM due WHERE d.id = due.id RETURNING d.id, d.webhook_id`
    const complete = `
      UPDATE ${s}.deliveries SET status = 'delivered', retry_count = retry_count + 1, last_status = 200,
        last_attempt_at = now(), updated_at = now()
      WHERE id = ANY($1::bigint[])`
    const { origin } = new URL(ctx.receiver.origin)
    const body = buildBody(eventType, randomUUID(), 'data', JSON.stringify(payload(1)))
    const headers = { ...requestHeaders, 'webhook-id': uuidHex(randomUUID()) }
    await ctx.receiver.reset('ok', { record: false })
    session.beginMeasure()
    const cpuBefore = process.cpuUsage()
    const machineBefore = machineTimes()
    const started = performance.now()
    const end = started + plan.ceiling * 1000
    let done = 0
    let failed = 0
    let emptied = false
    while (performance.now() < end) {
      const { rows: claimed } = await session.db.query<{ id: string | number; webhook_id: string | number }>(
        claim,
        [],
        { prepare: true },
      )
      if (claimed.length === 0) {
        emptied = true
        break
      }
      await Promise.all(
        claimed.map(async (row) => {
          const response = await agent.request({
            origin,
            path: `/pipeline/${Number(row.webhook_id) % 10}`,
            method: 'POST',
            headers,
            body,
          })
          await response.body.dump()
          if (response.statusCode !== 200) failed += 1
        }),
      )
      await session.db.query(complete, [claimed.map((row) => row.id)], { prepare: true })
      done += claimed.length
    }
    const seconds = (performance.now() - started) / 1000
    const cpu = process.cpuUsage(cpuBefore)
    const stats = await ctx.receiver.stats()
    return {
      scenario: 'ceilings',
      db: ctx.kind,
      variant,
      status: 'ok',
      metrics: [
        metric('pipeline_per_s', 'deliveries/s', done / seconds, '/s'),
        metric('client_cpu_us', 'client CPU µs/delivery', (cpu.user + cpu.system) / done, 'µs'),
      ],
      notes: [
        `${done.toLocaleString('en-US')} deliveries in ${seconds.toFixed(1)} s${emptied ? ' (queue emptied)' : ''}`,
        `prefilled ${prefilled.toLocaleString('en-US')} rows`,
        loadNote(stats, machineBusySince(machineBefore)),
        ...(failed > 0 ? [`${failed} answered other than 200`] : []),
      ],
      details: { rows: done, seconds, prefilled, emptied, failed },
    }
  } finally {
    await agent.close()
    await session.close()
  }
}

async function claimRun(ctx: RunnerContext, loops: number, variant: string): Promise<ScenarioResult> {
  const eventType = 'bench.claim'
  const { plan } = ctx
  const session = await Session.open(ctx, eventType)
  try {
    await session.createWebhooks(10, { eventType, path: '/claim' })
    // Enough rows for the loops to stay busy the whole time at well above the rates seen so far; if
    // they empty the queue sooner, the figure covers the time it took.
    const perSecond = ctx.kind === 'pglite' ? 15_000 : loops === 1 ? 30_000 : 45_000
    const rows = Math.min(500_000, Math.ceil(plan.ceiling * perSecond))
    const prefillStarted = performance.now()
    const prefilled = await prefill(session, eventType, Math.ceil(rows / 10))
    const prefillSeconds = (performance.now() - prefillStarted) / 1000

    const store = new Store(session.db, session.schema)
    session.beginMeasure()
    const cpuBefore = process.cpuUsage()
    const machineBefore = machineTimes()
    const started = performance.now()
    const end = started + plan.ceiling * 1000
    let done = 0
    let emptied = false
    const loop = async () => {
      while (performance.now() < end) {
        const now = new Date()
        const claimed = await store.deliveryClaim({
          limit: 100,
          now,
          leaseUntil: new Date(now.getTime() + 60_000),
        })
        if (claimed.length === 0) {
          emptied = true
          return
        }
        await store.deliveryComplete({
          completions: claimed.map(completion),
          now: new Date(),
          operations: { payloadKey: 'data', owner: 'admin' },
        })
        done += claimed.length
        await yieldToLoop()
      }
    }
    await Promise.all(Array.from({ length: loops }, loop))
    const seconds = (performance.now() - started) / 1000
    const cpu = process.cpuUsage(cpuBefore)
    const machineBusy = machineBusySince(machineBefore)
    return {
      scenario: 'ceilings',
      db: ctx.kind,
      variant,
      status: 'ok',
      metrics: [
        metric(`claim_rows_per_s_${loops}`, 'rows/s', done / seconds, '/s'),
        metric('statements_per_delivery', 'statements/row', session.db.count / done, ''),
        metric('client_cpu_us', 'client CPU µs/row', (cpu.user + cpu.system) / done, 'µs'),
      ],
      notes: [
        `${done.toLocaleString('en-US')} rows in ${seconds.toFixed(1)} s${emptied ? ' (queue emptied)' : ''}`,
        `prefilled ${prefilled.toLocaleString('en-US')} rows in ${prefillSeconds.toFixed(1)} s`,
        loadNote(null, machineBusy),
      ],
      details: { loops, rows: done, seconds, prefilled, prefillSeconds, emptied },
    }
  } finally {
    await session.close()
  }
}

/**
 * Fills the queue with `events` copies of one event enqueued by `deliverEvent` (fan-out 10), in
 * a few bulk statements: the enqueue path is not what this ceiling measures, and at the engine's
 * enqueue speed the prefill would take longer than the measurement. Every column is copied from
 * the template rows (read from information_schema, so the copy follows the schema), with fresh
 * uuids and the new events' ids. Returns the deliveries now queued.
 */
async function prefill(session: Session, eventType: string, events: number): Promise<number> {
  const template = await session.whisperer.deliverEvent(payload(0), eventType)
  const s = `"${session.schema}"`
  const [event] = await session.sql<{ id: string | number }>(`SELECT id FROM ${s}.events WHERE uuid = $1`, [
    template.eventUuid,
  ])
  const columns = async (table: string) =>
    (
      await session.sql<{ name: string }>(
        `SELECT column_name AS name FROM information_schema.columns
         WHERE table_schema = $1 AND table_name = $2 AND is_identity = 'NO' ORDER BY ordinal_position`,
        [session.schema, table],
      )
    ).map((c) => c.name)
  const eventColumns = await columns('events')
  const deliveryColumns = await columns('deliveries')
  const pick = (columns: string[], alias: string, replace: Record<string, string>) =>
    columns.map((c) => replace[c] ?? `${alias}."${c}"`).join(', ')
  const list = (columns: string[]) => columns.map((c) => `"${c}"`).join(', ')
  const copy = `
    WITH copies AS (
      INSERT INTO ${s}.events (${list(eventColumns)})
      SELECT ${pick(eventColumns, 'e', { uuid: 'gen_random_uuid()' })}
      FROM ${s}.events e CROSS JOIN generate_series(1, $2) WHERE e.id = $1
      RETURNING id
    )
    INSERT INTO ${s}.deliveries (${list(deliveryColumns)})
    SELECT ${pick(deliveryColumns, 'd', { uuid: 'gen_random_uuid()', event_id: 'copies.id' })}
    FROM copies CROSS JOIN ${s}.deliveries d WHERE d.event_id = $1`
  for (let done = 1; done < events; ) {
    const chunk = Math.min(2000, events - done)
    await session.sql(copy, [event!.id, chunk])
    done += chunk
  }
  const [count] = await session.sql<{ n: string | number }>(`SELECT count(*) AS n FROM ${s}.deliveries`)
  return Number(count?.n ?? 0)
}

const requestHeaders = {
  'content-type': 'application/json',
  'user-agent': 'Whisperer/bench',
  'x-whisperer-event': 'bench.claim',
  'webhook-timestamp': '1735689600',
  'webhook-signature': `v1,${'A'.repeat(43)}=`,
  'x-whisperer-signature': `sha256=${'0'.repeat(64)}`,
}
const responseHeaders = {
  'content-type': 'text/plain',
  'content-length': '2',
  date: 'Wed, 01 Jan 2025 00:00:00 GMT',
  connection: 'keep-alive',
  'keep-alive': 'timeout=60',
}

/** What the worker would record for a 200 "ok" answered in a millisecond. */
function completion(delivery: ClaimedDelivery): Completion {
  const now = new Date()
  return {
    id: delivery.id,
    lease: delivery.lease,
    webhookId: delivery.webhook.id,
    webhookFailing: false,
    gone: false,
    attempt: {
      attempt: delivery.retryCount + 1,
      createdAt: now,
      durationMs: 1,
      status: 200,
      errorKind: null,
      error: null,
      requestHeaders: { ...requestHeaders, 'webhook-id': uuidHex(delivery.uuid) },
      responseHeaders,
      responseBody: 'ok',
      responseTruncated: false,
    },
    next: { status: 'delivered', retryCount: delivery.retryCount + 1, nextAttemptAt: now },
  }
}
