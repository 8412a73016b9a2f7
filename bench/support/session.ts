import { type ChildProcess, fork } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { nodeFlags } from '../../src/cli/node-flags.ts'
import type { WhispererOptions } from '../../src/config.ts'
import type { Filters } from '../../src/core/filters.ts'
import type { CountdownConfig } from '../../src/core/retry-countdown.ts'
import { createWhisperer, type Whisperer } from '../../src/whisperer.ts'
import type { WorkerReport } from '../worker-process.ts'
import type { BenchDatabase, RunnerContext } from './context.ts'
import { addBreakdowns, type CountingDatabase } from './counting-database.ts'
import { machineBusySince, machineTimes } from './load.ts'
import type { Resources, WorkerCost } from './result.ts'
import { processCpuMicros, type ServerMark, serverCostSince, serverMark } from './server-cost.ts'
import {
  allowedTargets,
  engineOptions,
  type QuietLog,
  quietLog,
  sleep,
  within,
  yieldToLoop,
} from './settings.ts'
import { networkNamespace } from './worker-network.ts'

/** Where a scenario's deliveries stand, read from its deliveries table. */
export interface QueueCounts {
  delivered: number
  failed: number
  unfinished: number
  /** `updated_at` of the last delivery recorded as delivered (wall ms). */
  lastDeliveredAt: number | null
}

const workerScript = new URL('../worker-process.ts', import.meta.url)

/**
 * One scenario on one fresh schema: a publishing Whisperer (on PGlite also the worker), the worker
 * processes on PostgreSQL, the resources they use, and the schema dropped at the end.
 */
export class Session {
  readonly ctx: RunnerContext
  readonly schema: string
  readonly db: CountingDatabase
  readonly whisperer: Whisperer
  readonly log: QuietLog
  readonly #database: BenchDatabase
  #children: ChildProcess[] = []
  #inProcessWorker = false
  #cpuAtMeasure = process.cpuUsage()
  #rssSampledKb = 0
  #machineAtMeasure = machineTimes()
  #machineBusy: number | null = null
  /** PostgreSQL: where the server stood when the measurement began (WAL position, CPU). */
  #serverAtMeasure: Promise<ServerMark | null> | null = null
  /** `--pgbouncer`: the pooler's CPU when the measurement began (µs). */
  #poolerAtMeasure: number | null = null
  /** The worker processes run in network namespaces of their own (PostgreSQL, multi-worker runs). */
  readonly #isolated: boolean

  private constructor(
    ctx: RunnerContext,
    schema: string,
    database: BenchDatabase,
    whisperer: Whisperer,
    log: QuietLog,
    isolated: boolean,
  ) {
    this.#isolated = isolated
    this.ctx = ctx
    this.schema = schema
    this.#database = database
    this.db = database.db
    this.whisperer = whisperer
    this.log = log
  }

  /**
   * A fresh schema `bench_<random>` (on PGlite, in a fresh directory of its own), migrated, with
   * `eventType` registered. `isolated`: the worker processes will run in network namespaces of
   * their own, where there are (webhook targets then name the receiver on the namespaces' bridge).
   */
  static async open(
    ctx: RunnerContext,
    eventType: string,
    options: Pick<WhispererOptions, 'metrics' | 'metricsInterval' | 'apiRateLimit'> = {},
    isolated = false,
  ): Promise<Session> {
    const network = isolated ? ctx.workerNetwork : null
    const schema = `bench_${randomBytes(5).toString('hex')}`
    const database = await ctx.openDatabase(schema)
    const log = quietLog()
    try {
      const whisperer = await createWhisperer({
        database: database.db,
        schema,
        allowedTargets: network ? [...allowedTargets, network.cidr] : allowedTargets,
        ...engineOptions,
        ...options,
        logger: log.logger,
      })
      whisperer.eventTypes.register({ type: eventType })
      return new Session(ctx, schema, database, whisperer, log, network !== null)
    } catch (error) {
      await database.close().catch(() => {})
      throw error
    }
  }

  /** The harness's own queries on this run's database: not counted. */
  sql<R = Record<string, unknown>>(text: string, values?: unknown[]): Promise<R[]> {
    return this.#database.sql<R>(text, values)
  }

  /** Whether the worker processes run in network namespaces of their own. */
  get isolated(): boolean {
    return this.#isolated
  }

  /** A webhook target on the receiver, as the workers reach it. */
  target(path: string): string {
    const url = new URL(this.ctx.receiver.url(path))
    if (this.#isolated && this.ctx.workerNetwork) url.hostname = this.ctx.workerNetwork.host
    return url.toString()
  }

  /** The process ids of the worker processes (PostgreSQL); none on PGlite. */
  get workerPids(): number[] {
    return this.#children.map((child) => child.pid).filter((pid): pid is number => pid !== undefined)
  }

  /**
   * Creates `count` webhooks through the API, each to its own path on the receiver (`<path>/<i>`).
   * Concurrent on PostgreSQL; one at a time on PGlite, which has one connection anyway.
   */
  async createWebhooks(
    count: number,
    options: {
      eventType: string
      /** The event types of the i-th webhook, in place of `eventType`. */
      eventTypes?: (i: number) => string[]
      path: string
      retry?: CountdownConfig
      /** The filters of the i-th webhook. */
      filters?: (i: number) => Filters
      /** Live signing keys of each webhook: it is rotated `keys - 1` times, with a day's grace. */
      keys?: number
      /** What each webhook's ordered lanes do when their head fails for good. */
      orderingOnFailure?: 'skip' | 'block'
    },
  ): Promise<number> {
    const started = performance.now()
    let next = 0
    const lanes = this.ctx.kind === 'postgres' ? 8 : 1
    await Promise.all(
      Array.from({ length: lanes }, async () => {
        while (next < count) {
          const i = next++
          const webhook = await this.whisperer.webhooks.create('bench', {
            ...(options.eventTypes
              ? { eventTypes: options.eventTypes(i) }
              : { eventType: options.eventType }),
            targetUrl: this.target(`${options.path}/${i}`),
            secretKey: 'bench-secret-key-of-a-realistic-length',
            ...(options.retry ? { retryCountdownConfig: options.retry } : {}),
            ...(options.filters ? { filters: options.filters(i) } : {}),
            ...(options.orderingOnFailure ? { orderingOnFailure: options.orderingOnFailure } : {}),
          })
          for (let rotation = 1; rotation < (options.keys ?? 1); rotation += 1)
            await this.whisperer.webhooks.rotateSecret('bench', webhook.id)
          if (lanes === 1 && i % 50 === 0) await yieldToLoop()
        }
      }),
    )
    return (performance.now() - started) / 1000
  }

  /**
   * The Whisperer started its own worker (the service does, as `whisperer serve` runs): measured
   * as the in-process worker, on either database.
   */
  adoptInProcessWorker(): void {
    this.#inProcessWorker = true
  }

  /**
   * Starts `count` workers and resolves once they all claim. On PostgreSQL each is a process of its
   * own (bench/worker-process.ts), in a network namespace of its own when the session is isolated;
   * on PGlite the publishing Whisperer itself starts its worker.
   */
  async startWorkers(count: number): Promise<void> {
    if (this.ctx.kind === 'pglite') {
      await this.whisperer.start()
      this.#inProcessWorker = true
      return
    }
    const network = this.#isolated ? this.ctx.workerNetwork : null
    const starting = Array.from({ length: count }, (_, i) => {
      const namespace = network?.namespaces[i]
      const child = fork(workerScript, [], {
        env: {
          ...process.env,
          BENCH_WORKER: JSON.stringify({
            url: network ? network.url : this.ctx.url,
            schema: this.schema,
            metrics: this.whisperer.config.metrics,
            allowedTargets: network ? [...allowedTargets, network.cidr] : allowedTargets,
            applicationName: `whisperer-bench-worker-${i}`,
            prepare: this.ctx.prepare,
            ...(this.ctx.pooled ? { listenUrl: network?.listenUrl ?? this.ctx.pooled.listenUrl } : {}),
          }),
        },
        // `ip netns exec <namespace> node …`: the IPC channel's descriptor survives the exec.
        // With the V8 flags `whisperer worker` runs with.
        ...(namespace
          ? {
              execPath: 'ip',
              execArgv: ['netns', 'exec', namespace, process.execPath, ...process.execArgv, ...nodeFlags],
            }
          : { execArgv: [...process.execArgv, ...nodeFlags] }),
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      })
      this.#children.push(child)
      return new Promise<void>((resolve, reject) => {
        child.once('message', () => resolve())
        child.once('exit', (code) =>
          reject(new Error(`a worker process exited with ${code} before it was ready`)),
        )
      })
    })
    await within(Promise.all(starting), 30_000, 'starting the worker processes')
  }

  /** Zeroes the statement counter and the CPU baseline: the measurement starts now. */
  beginMeasure(): void {
    this.db.reset()
    this.#cpuAtMeasure = process.cpuUsage()
    this.#rssSampledKb = 0
    this.#machineAtMeasure = machineTimes()
    const poolerPid = this.ctx.pooled?.pid ?? null
    this.#poolerAtMeasure = poolerPid === null ? null : processCpuMicros(poolerPid)
    this.#serverAtMeasure =
      this.ctx.kind === 'postgres'
        ? serverMark((t, v) => this.sql(t, v), this.ctx.serverPid).catch(() => null)
        : null
  }

  /**
   * PostgreSQL: the WAL written and the server CPU used since the measurement began, and the server
   * CPU of each worker's open connections (all their life: connections closed before are missed).
   */
  private async serverCost(): Promise<
    Pick<Resources, 'walBytes' | 'serverCpuMicros' | 'poolerCpuMicros'> & {
      backends: Map<number, number | null>
    }
  > {
    const before = await this.#serverAtMeasure
    this.#serverAtMeasure = null
    const backends = new Map<number, number | null>()
    if (!before) return { backends }
    const sql = <R>(text: string, values?: unknown[]) => this.sql<R>(text, values)
    const cost = await serverCostSince(sql, this.ctx.serverPid, before)
    // Through a pooler, a server connection serves every process in turn: no backend is a worker's.
    if (this.ctx.serverPid !== null && !this.ctx.pooled) {
      const rows = await sql<{ pid: number; name: string }>(
        `SELECT pid, application_name AS name FROM pg_stat_activity WHERE application_name LIKE 'whisperer-bench-worker-%'`,
      )
      for (const row of rows) {
        const worker = Number(row.name.slice('whisperer-bench-worker-'.length))
        const cpu = processCpuMicros(row.pid)
        backends.set(worker, cpu === null ? null : (backends.get(worker) ?? 0) + cpu)
      }
    }
    const poolerPid = this.ctx.pooled?.pid ?? null
    const poolerNow = poolerPid === null ? null : processCpuMicros(poolerPid)
    const poolerCpuMicros =
      this.#poolerAtMeasure === null || poolerNow === null ? undefined : poolerNow - this.#poolerAtMeasure
    return {
      walBytes: cost.walBytes,
      serverCpuMicros: cost.cpuMicros,
      ...(poolerCpuMicros === undefined ? {} : { poolerCpuMicros }),
      backends,
    }
  }

  /** Notes this process's RSS now (the progress loop calls it), for the sampled peak. */
  sampleRss(): void {
    this.#rssSampledKb = Math.max(this.#rssSampledKb, process.memoryUsage.rss() / 1024)
  }

  /**
   * PostgreSQL: the bytes the run's schema holds (every table with its indexes and TOAST, attempt
   * partitions included), dead rows not yet vacuumed included; harness query, not counted.
   */
  async storedBytes(): Promise<number | null> {
    if (this.ctx.kind !== 'postgres') return null
    const [row] = await this.sql<{ bytes: string | null }>(
      `SELECT sum(pg_total_relation_size(c.oid))::text AS bytes FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r'`,
      [this.schema],
    )
    return row?.bytes ? Number(row.bytes) : null
  }

  /** Where the deliveries stand; harness query, not counted. */
  async counts(): Promise<QueueCounts> {
    const [row] = await this.sql<{
      delivered: string | number
      failed: string | number
      unfinished: string | number
      last: Date | string | null
    }>(
      `SELECT count(*) FILTER (WHERE status = 'delivered') AS delivered,
         count(*) FILTER (WHERE status = 'failed') AS failed,
         count(*) FILTER (WHERE status IN ('pending', 'delivering')
           AND ordering_key IS DISTINCT FROM 'blocked') AS unfinished,
         max(updated_at) FILTER (WHERE status = 'delivered') AS last
       FROM "${this.schema}".deliveries`,
    )
    return {
      delivered: Number(row?.delivered ?? 0),
      failed: Number(row?.failed ?? 0),
      unfinished: Number(row?.unfinished ?? 0),
      lastDeliveredAt: row?.last ? new Date(row.last).getTime() : null,
    }
  }

  /**
   * Waits until the receiver has answered `expectedOk` requests with 200 (a cheap check on another
   * process), then until the deliveries table has nothing unfinished (at most 5 queries a second),
   * or until `deadline`. Returns the last counts and whether it finished.
   */
  async drain(expectedOk: number, deadline: number): Promise<{ counts: QueueCounts; finished: boolean }> {
    while (Date.now() < deadline) {
      const stats = await this.ctx.receiver.stats()
      this.sampleRss()
      if (stats.ok >= expectedOk) break
      await sleep(100)
    }
    for (;;) {
      const counts = await this.counts()
      this.sampleRss()
      if (counts.unfinished === 0) return { counts, finished: true }
      if (Date.now() >= deadline) return { counts, finished: false }
      await sleep(200)
    }
  }

  /** Stops the workers and returns what the measurement used, everything summed. */
  async stopWorkers(): Promise<Resources> {
    this.#machineBusy = machineBusySince(this.#machineAtMeasure)
    const publisherCpu = process.cpuUsage(this.#cpuAtMeasure)
    const publisherCpuMicros = publisherCpu.user + publisherCpu.system
    const errors =
      this.log.errors + this.log.warnings > 0
        ? [
            `the ${this.#inProcessWorker ? 'in-process worker' : 'publisher'} logged ${this.log.errors} errors, ${this.log.warnings} warnings`,
            ...this.log.samples,
          ]
        : []
    const server: Awaited<ReturnType<Session['serverCost']>> = await this.serverCost().catch(
      (error: Error) => {
        errors.push(`the server's WAL and CPU could not be read: ${error.message}`)
        return { backends: new Map<number, number | null>() }
      },
    )
    if (this.#inProcessWorker) {
      const resources: Resources = {
        statements: this.db.count,
        breakdown: this.db.breakdown(),
        workerCpuMicros: publisherCpuMicros,
        workerPeakRssKb: process.resourceUsage().maxRSS,
        publisherCpuMicros,
        errors,
      }
      this.#inProcessWorker = false
      await within(this.whisperer.close(), 30_000, 'closing the worker')
      return resources
    }
    const reports = await Promise.all(this.#children.map((child) => stopChild(child)))
    this.#children = []
    const got = reports.filter((report): report is WorkerReport => report !== null)
    for (const report of got) errors.push(...report.errors)
    if (got.length < reports.length) errors.push(`${reports.length - got.length} worker(s) did not report`)
    const workers: WorkerCost[] = reports.map((report, i) => ({
      statements: report?.statements ?? null,
      claims: report?.breakdown.deliveryClaim ?? null,
      cpuMicros: report?.cpuMicros ?? null,
      serverCpuMicros: server.backends.get(i) ?? null,
    }))
    return {
      walBytes: server.walBytes ?? null,
      serverCpuMicros: server.serverCpuMicros ?? null,
      ...(server.poolerCpuMicros === undefined ? {} : { poolerCpuMicros: server.poolerCpuMicros }),
      workers,
      // Isolated only if every worker says it ran in a namespace of its own, not this one's.
      isolated:
        got.length === reports.length &&
        new Set(got.map((r) => r.netns)).size === got.length &&
        got.every((r) => r.netns !== null && r.netns !== networkNamespace()),
      statements: this.db.count + got.reduce((sum, r) => sum + r.statements, 0),
      breakdown: addBreakdowns(this.db.breakdown(), ...got.map((r) => r.breakdown)),
      workerCpuMicros: got.reduce((sum, r) => sum + r.cpuMicros, 0),
      workerPeakRssKb: got.length > 0 ? Math.max(...got.map((r) => r.maxRssKb)) : null,
      publisherCpuMicros,
      errors,
    }
  }

  /**
   * How busy the whole machine was while measuring (0–1, all cores): Whisperer, PostgreSQL, the
   * receiver, the harness, and anything else running, which would make the figures low.
   */
  get machineBusy(): number | null {
    return this.#machineBusy
  }

  /** The highest RSS this process showed while measuring (MB), sampled by the progress loops. */
  get sampledRssMb(): number {
    return this.#rssSampledKb / 1024
  }

  /**
   * Stops anything still running, closes the Whisperer and its connections, and drops the schema
   * (PGlite: removes the run's directory).
   */
  async close(): Promise<void> {
    for (const child of this.#children) child.kill('SIGKILL')
    this.#children = []
    await within(this.whisperer.close(), 30_000, 'closing Whisperer').catch(() => {})
    await within(this.#database.close(), 60_000, 'closing the database')
  }
}

async function stopChild(child: ChildProcess): Promise<WorkerReport | null> {
  if (child.exitCode !== null) return null
  const report = new Promise<WorkerReport | null>((resolve) => {
    child.on('message', (message: WorkerReport) => {
      if (message?.type === 'stats') resolve(message)
    })
    child.once('exit', () => resolve(null))
  })
  child.send({ type: 'stop' })
  const result = await within(report, 30_000, 'stopping a worker process').catch(() => null)
  if (child.exitCode === null) {
    await within(
      new Promise((resolve) => child.once('exit', resolve)),
      5_000,
      'a worker process exiting',
    ).catch(() => child.kill('SIGKILL'))
  }
  return result
}
