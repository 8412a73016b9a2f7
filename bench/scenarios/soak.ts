import { readFileSync } from 'node:fs'
import type { RunnerContext } from '../support/context.ts'
import { loadNote } from '../support/load.ts'
import { type Published, publishPaced } from '../support/publisher.ts'
import { metric, resourceMetrics, type ScenarioResult, statementsNote } from '../support/result.ts'
import { Session } from '../support/session.ts'
import { sleep } from '../support/settings.ts'

/** Seconds the queue gets to empty after the soak's window. */
export const soakDrainSeconds = 30
/** Delivered rows are counted at every minute boundary of the window. */
const minuteMs = 60_000
/** RSS is sampled this often (ms). */
const rssEveryMs = 10_000

/** One count of the deliveries table, at a minute boundary. */
interface Tick {
  /** The count's snapshot time: the database's `now()` (wall ms). */
  at: number
  /** The boundary it was taken for, from the start of the window (ms). */
  boundaryMs: number
  delivered: number
  unfinished: number
  /** How long the count query took (ms). */
  queryMs: number
  /** RSS (MB) of the worker process (PostgreSQL) or of this process (PGlite) at the boundary. */
  rssMb: number | null
}

/** Deliveries/s between two boundaries. */
interface Interval {
  /** Ends this many seconds into the window. */
  endS: number
  /** Nominal length (s): 60, or less for the window's last, partial interval. */
  seconds: number
  rate: number
}

const grouped = (n: number) => Math.round(n).toLocaleString('en-US')

/**
 * soak: fanout10 with one worker (a worker process on PostgreSQL, in-process on PGlite) at full
 * speed for a long window (600 s; `--seconds`), the publisher kept about a second of deliveries
 * ahead of the workers throughout, and maintenance running as in production (`start()` starts it,
 * every 60 s by default). The deliveries delivered are counted at every minute boundary, one count
 * query each; RSS is sampled every 10 s (the worker process's on PostgreSQL, this whole process's
 * on PGlite). The figures: deliveries/s in the first and in the last full minute and their ratio
 * (no decay: ≥ 85%), every minute's rate, peak and sampled RSS, and the deliveries table's dead
 * tuples and size once the workers have stopped.
 */
export async function soak(ctx: RunnerContext): Promise<ScenarioResult[]> {
  const eventType = 'bench.soak'
  const { plan, receiver } = ctx
  const session = await Session.open(ctx, eventType)
  try {
    const setupSeconds = await session.createWebhooks(10, { eventType, path: '/soak' })
    await session.startWorkers(1)
    // Millions of requests: counted, but their ids and times are not kept.
    await receiver.reset('ok', { record: false })
    session.beginMeasure()

    const startedAt = Date.now()
    const windowEnd = startedAt + plan.soak * 1000
    const deadline = windowEnd + soakDrainSeconds * 1000

    const rssMb = (): number | null => {
      if (ctx.kind === 'pglite') return process.memoryUsage.rss() / 1024 / 1024
      const pid = session.workerPids[0]
      if (pid === undefined) return null
      try {
        const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
        return match ? Number(match[1]) / 1024 : null
      } catch {
        return null
      }
    }
    const rssSamples: { s: number; mb: number }[] = []
    const sampleRss = () => {
      const mb = rssMb()
      if (mb !== null) rssSamples.push({ s: Math.round((Date.now() - startedAt) / 1000), mb })
    }
    sampleRss()
    const rssTimer = setInterval(sampleRss, rssEveryMs)

    // One count per minute boundary (and one at the end of the window): a harness query, not counted.
    const ticks: Tick[] = []
    const tickErrors: string[] = []
    let stopped = false
    const countAt = async (boundaryMs: number): Promise<void> => {
      const from = performance.now()
      const [row] = await session
        .sql<{ at: Date | string; delivered: string | number; unfinished: string | number }>(
          `SELECT now() AS at, count(*) FILTER (WHERE status = 'delivered') AS delivered,
             count(*) FILTER (WHERE status IN ('pending', 'delivering')) AS unfinished
           FROM "${session.schema}".deliveries`,
        )
        .catch((error: Error) => {
          tickErrors.push(`the count at ${Math.round(boundaryMs / 1000)} s failed: ${error.message}`)
          return []
        })
      if (!row) return
      ticks.push({
        at: new Date(row!.at).getTime(),
        boundaryMs,
        delivered: Number(row!.delivered),
        unfinished: Number(row!.unfinished),
        queryMs: performance.now() - from,
        rssMb: rssMb(),
      })
    }
    const ticker = (async () => {
      for (let k = 1; !stopped; k += 1) {
        const boundary = Math.min(startedAt + k * minuteMs, windowEnd)
        await sleep(Math.max(0, boundary - Date.now()))
        if (stopped) return
        await countAt(boundary - startedAt)
        if (boundary >= windowEnd) return
      }
    })()

    let published: Published
    try {
      published = await publishPaced(session, {
        eventType,
        lanes: ctx.kind === 'postgres' ? 8 : 1,
        until: windowEnd,
        maxEvents: Number.POSITIVE_INFINITY,
      })
      await ticker
    } finally {
      stopped = true
      clearInterval(rssTimer)
    }
    sampleRss()

    const { counts, finished } = await session.drain(published.enqueued, deadline)
    const resources = await session.stopWorkers()
    const stats = await receiver.stats()
    // PGlite flushes its table statistics only when asked to (then on the next statement).
    if (ctx.kind === 'pglite') await session.sql('SELECT pg_stat_force_next_flush()').catch(() => {})
    const [table] = await session.sql<{
      n_live_tup: string | number
      n_dead_tup: string | number
      vacuum_count: string | number
      autovacuum_count: string | number
      total_bytes: string | number
      heap_bytes: string | number
    }>(
      `SELECT n_live_tup, n_dead_tup, vacuum_count, autovacuum_count,
         pg_total_relation_size(relid) AS total_bytes, pg_relation_size(relid) AS heap_bytes
       FROM pg_stat_user_tables WHERE relname = 'deliveries' AND schemaname = $1`,
      [session.schema],
    )

    // Deliveries/s per minute, from the counts at the boundaries (the first from the first call).
    const intervals: Interval[] = []
    let previous = { at: published.firstAt, delivered: 0, boundaryMs: 0 }
    for (const tick of ticks) {
      const seconds = (tick.at - previous.at) / 1000
      intervals.push({
        endS: Math.round(tick.boundaryMs / 1000),
        seconds: Math.round((tick.boundaryMs - previous.boundaryMs) / 1000),
        rate: seconds > 0 ? (tick.delivered - previous.delivered) / seconds : 0,
      })
      previous = tick
    }
    const full = intervals.filter((interval) => interval.seconds === minuteMs / 1000)
    const first = full[0] ?? null
    const last = full.length >= 2 ? full[full.length - 1]! : null
    const ratio = first && last && first.rate > 0 ? (last.rate / first.rate) * 100 : null
    const end = ticks[ticks.length - 1]
    const windowRate = end ? end.delivered / ((end.at - published.firstAt) / 1000) : null
    const perMinute = intervals
      .map((i) =>
        i.seconds === minuteMs / 1000 ? grouped(i.rate) : `${grouped(i.rate)} (last ${i.seconds} s)`,
      )
      .join(', ')
    const rssMax = rssSamples.length > 0 ? Math.max(...rssSamples.map((sample) => sample.mb)) : null
    const deadTuples = table ? Number(table.n_dead_tup) : null
    const mb = (bytes: string | number | undefined) =>
      bytes === undefined ? null : Number(bytes) / 1024 / 1024

    const whose = ctx.kind === 'pglite' ? 'the process' : 'the worker process'
    const publishSeconds = (published.publishedAt - published.firstAt) / 1000
    const breakdown = resources.breakdown
    const notes = [
      `${counts.delivered.toLocaleString('en-US')} of ${published.enqueued.toLocaleString('en-US')} delivered (${(end?.delivered ?? 0).toLocaleString('en-US')} within the ${plan.soak} s window)`,
      `published ${published.events.toLocaleString('en-US')} events at ${grouped(published.events / publishSeconds)}/s, ${published.heldBack < 0.05 ? 'never held back (the enqueue was the limit: the queue ran near empty)' : `held back ${Math.round(published.heldBack * 100)}% of the time (the workers were the limit)`}`,
      loadNote(stats, session.machineBusy),
      `RSS of ${whose} every 10 s: ${rssSamples.length > 0 ? `${grouped(rssSamples[0]!.mb)} MB at the start, ${grouped(rssSamples[rssSamples.length - 1]!.mb)} MB at the end, ${grouped(rssMax!)} MB at most` : 'not available'}; at each minute: ${ticks.map((t) => (t.rssMb === null ? '?' : grouped(t.rssMb))).join(', ')} MB`,
      `maintenance passes while measuring: ${breakdown.retentionDelete ?? 0} (retentionDelete statements; VACUUM ${breakdown.vacuum ?? 0}); the deliveries table saw ${table ? `VACUUM ${table.vacuum_count}, autovacuum ${table.autovacuum_count}` : '?'} times in all`,
      `deliveries table at the end: ${table ? `${Number(table.n_live_tup).toLocaleString('en-US')} live rows, heap ${grouped(mb(table.heap_bytes)!)} MB` : '?'}`,
      `count queries (one a minute) took at most ${grouped(Math.max(0, ...ticks.map((t) => t.queryMs)))} ms`,
    ]
    notes.push(...tickErrors)
    if (full.length < 2) notes.push('fewer than two full minutes: no last minute to compare')
    if (counts.failed > 0) notes.push(`${counts.failed} failed`)
    notes.push(statementsNote(resources), ...resources.errors)

    return [
      {
        scenario: 'soak',
        db: ctx.kind,
        variant: `${ctx.kind === 'pglite' ? '1 worker, in-process' : '1 worker process'}, ${plan.soak} s`,
        status: finished ? 'ok' : 'timed out',
        metrics: [
          metric('first_minute_per_s', 'deliveries/s, first minute', first?.rate ?? null, '/s'),
          metric('last_minute_per_s', 'deliveries/s, last minute', last?.rate ?? null, '/s'),
          metric('decay_ratio_pct', 'last ÷ first minute', ratio, '%'),
          { ...metric('per_minute', 'deliveries/s per minute', null, '/s'), text: perMinute || '–' },
          metric('deliveries_per_s', 'deliveries/s, whole window', windowRate, '/s'),
          ...resourceMetrics(resources, counts.delivered),
          metric('sampled_rss_max_mb', `RSS of ${whose}, max of 10 s samples`, rssMax, 'MB'),
          {
            ...metric('dead_tuples', 'dead tuples (deliveries), end', deadTuples, ''),
            ...(deadTuples === null ? {} : { text: deadTuples.toLocaleString('en-US') }),
          },
          metric('table_size_mb', 'deliveries table size, end', mb(table?.total_bytes), 'MB'),
        ],
        notes,
        details: {
          webhooks: 10,
          workers: 1,
          publishingLanes: ctx.kind === 'postgres' ? 8 : 1,
          windowSeconds: plan.soak,
          setupSeconds,
          events: published.events,
          enqueued: published.enqueued,
          delivered: counts.delivered,
          failed: counts.failed,
          unfinished: counts.unfinished,
          publishSeconds,
          publisherHeldBack: published.heldBack,
          ticks,
          intervals,
          rssSamples,
          table,
          receiver: stats,
          resources,
        },
      },
    ]
  } finally {
    await session.close()
  }
}
