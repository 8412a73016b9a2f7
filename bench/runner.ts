/**
 * Runs the scenarios on one database, in a process of its own: on PGlite this process is the
 * publisher and the worker, so its CPU and peak RSS are the worker's; on PostgreSQL it publishes
 * and forks the worker processes. Forked by bench/run.ts, with its job in BENCH_RUNNER (JSON). It
 * sets up first and says `ready`; on `run` it measures, sending each result as soon as it has it,
 * then says `done`. `db: none` runs the database-free HTTP ceiling.
 *
 * PGlite is file-backed, as users run it by default: setting up, the runner has PGlite's initdb
 * create a template data directory in `pgliteDir` (in a process of its own: bench/pglite-init.ts),
 * and each scenario run then opens a fresh copy of it with Whisperer's `openDatabase(dir)`.
 */
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { api } from './scenarios/api.ts'
import { bigfanout } from './scenarios/bigfanout.ts'
import { claimCeiling, httpCeiling } from './scenarios/ceilings.ts'
import { filters } from './scenarios/filters.ts'
import { keyCost } from './scenarios/keys.ts'
import { latency } from './scenarios/latency.ts'
import { metricsCost, scrape } from './scenarios/metrics.ts'
import { ordered } from './scenarios/ordered.ts'
import { patterns } from './scenarios/patterns.ts'
import { soak, soakDrainSeconds } from './scenarios/soak.ts'
import { failing, fanout1, fanout10 } from './scenarios/throughput.ts'
import { pgliteContext, postgresContext, type RunnerContext } from './support/context.ts'
import { ReceiverClient } from './support/receiver-client.ts'
import { errorResult, type ScenarioResult } from './support/result.ts'
import { type DbKind, makePlan, type Plan, type ScenarioName, within } from './support/settings.ts'
import type { WorkerNetworkInfo } from './support/worker-network.ts'

export interface RunnerJob {
  db: DbKind | 'none'
  url: string | null
  /** PGlite: the directory the runner keeps its data directories in (removed by bench/run.ts). */
  pgliteDir: string | null
  receiverPort: number
  quick: boolean
  seconds: number | null
  /** PostgreSQL: the postmaster's pid when the bench started the cluster (its CPU is measured). */
  serverPid: number | null
  /** PostgreSQL: the network namespaces of the multi-worker runs, and the server's URL from them. */
  workerNetwork: (WorkerNetworkInfo & { url: string; listenUrl: string | null }) | null
  /** PostgreSQL through PgBouncer (`--pgbouncer`): `url` is the pooler's; LISTEN goes here. */
  pooled: { listenUrl: string; pid: number | null } | null
  /** PostgreSQL: named prepared statements (false with `--pgbouncer` or `--unprepared`). */
  prepare: boolean
}

/**
 * A scenario returns its results, or emits them as it goes (one per variant) and returns the rest.
 */
type Scenario = (ctx: RunnerContext) => Promise<ScenarioResult[]>

/** What a runner tells its parent. */
export type RunnerMessage =
  | { type: 'ready'; database: DatabaseInfo | null }
  | { type: 'start'; scenario: ScenarioName }
  | { type: 'result'; result: ScenarioResult }
  | { type: 'done' }

export interface DatabaseInfo {
  version: string
  settings: Record<string, string>
}

const scenarios: Record<ScenarioName, Scenario> = {
  ceilings: claimCeiling,
  fanout10,
  fanout1,
  latency,
  api,
  failing,
  bigfanout,
  filters,
  patterns,
  scrape,
  metricscost: metricsCost,
  keycost: keyCost,
  ordered,
  soak,
}

/** The longest a scenario may take on top of its own deadlines before the runner gives up on it. */
export function scenarioBudgetSeconds(name: ScenarioName, plan: Plan): number {
  const slack = 20
  const throughput = plan.window + plan.drain + slack
  switch (name) {
    case 'ceilings':
      return 2 * (3 * plan.ceiling + slack) + plan.ceiling
    case 'fanout10':
      return plan.fanoutWorkers.length * throughput
    case 'fanout1':
    case 'failing':
    case 'api':
      return throughput
    case 'latency':
      return plan.latency + plan.drain + slack
    case 'bigfanout':
      return plan.bigfanoutDeadline + plan.bigfanoutWebhooks / 200 + slack
    case 'filters':
    case 'patterns':
      return 120 + slack
    case 'scrape':
      return 120 + slack
    case 'metricscost':
    case 'keycost':
    case 'ordered':
      return 4 * throughput
    case 'soak':
      return plan.soak + soakDrainSeconds + slack + 40
  }
}

/** A pg_settings value in plain units: shared_buffers is counted in 8 kB pages. */
function withUnit(setting: string, unit: string | null): string {
  if (unit === '8kB') return `${(Number(setting) * 8) / 1024} MB`
  return unit ? `${setting} ${unit}` : setting
}

const send = (message: RunnerMessage) =>
  new Promise<void>((resolve) => (process.send ? process.send(message, () => resolve()) : resolve()))

const emit = (result: ScenarioResult) => send({ type: 'result', result })

const job = JSON.parse(process.env.BENCH_RUNNER ?? '{}') as RunnerJob
const plan = makePlan(job.quick, job.seconds)
const receiver = new ReceiverClient(job.receiverPort)
process.on('disconnect', () => process.exit(1))

let ctx: RunnerContext | null = null
let database: DatabaseInfo | null = null
if (job.db === 'postgres') {
  const postgres = postgresContext(job.url!, receiver, plan, emit, {
    serverPid: job.serverPid,
    workerNetwork: job.workerNetwork,
    pooled: job.pooled,
    prepare: job.prepare,
  })
  ctx = postgres
  const [version] = await postgres.sql<{ version: string }>('SELECT version()')
  const settings = await postgres.sql<{ name: string; setting: string; unit: string | null }>(
    `SELECT name, setting, unit FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'shared_buffers',
       'max_connections', 'wal_level', 'full_page_writes', 'max_wal_size', 'server_version')`,
  )
  database = {
    version: version?.version ?? '?',
    settings: Object.fromEntries(settings.map((s) => [s.name, withUnit(s.setting, s.unit)])),
  }
} else if (job.db === 'pglite') {
  const root = job.pgliteDir!
  const template = join(root, 'template')
  const script = new URL('./pglite-init.ts', import.meta.url).pathname
  const { stdout } = await promisify(execFile)(process.execPath, [script, template])
  const initdb = JSON.parse(stdout) as {
    seconds: number
    maxRssKb: number
    version?: string
    settings: { name: string; setting: string; unit: string | null }[]
  }
  ctx = pgliteContext(template, root, receiver, plan, emit)
  database = {
    version: initdb.version ?? '?',
    settings: {
      storage: 'directory',
      ...Object.fromEntries(initdb.settings.map((s) => [s.name, withUnit(s.setting, s.unit)])),
      initdb: `${initdb.seconds.toFixed(1)} s, peak RSS ${Math.round(initdb.maxRssKb / 1024)} MB`,
    },
  }
}
await send({ type: 'ready', database })

process.on('message', async (message: { type?: string; scenarios?: ScenarioName[] }) => {
  if (message?.type !== 'run') return
  for (const name of message.scenarios ?? []) {
    const db = ctx?.kind ?? 'none'
    await send({ type: 'start', scenario: name })
    const budget = scenarioBudgetSeconds(name, plan) * 1000
    let results: ScenarioResult[]
    try {
      const run = ctx ? scenarios[name](ctx) : httpCeiling(receiver, plan)
      results = await within(run, budget, `${name} on ${db}`)
    } catch (error) {
      await emit(errorResult(name, db, '', error))
      // A scenario past every deadline may still be running: nothing after it would be measured fairly.
      if (String(error).includes('took longer than')) process.exit(1)
      continue
    }
    for (const result of results) await emit(result)
  }
  await ctx?.close().catch(() => {})
  await send({ type: 'done' })
  process.exit(0)
})
