/**
 * `npm run bench`: Whisperer's throughput, latency and resources against a loopback receiver, on
 * PostgreSQL and on embedded PGlite, next to the raw ceilings of the same machine. See
 * bench/README.md.
 *
 *   npm run bench -- [scenario ...] [--quick] [--db pglite|postgres|both] [--seconds N] [--no-save]
 *   npm run bench -- soak [--db pglite|postgres|both] [--seconds N] [--no-save]
 *
 * This process only orchestrates: the receiver runs in a process of its own (bench/receiver.ts),
 * each database's scenarios in a runner process (bench/runner.ts), and PostgreSQL's workers in
 * worker processes (bench/worker-process.ts). Every scenario has a deadline, and each runner a hard
 * one on top: a run never hangs.
 */
import { type ChildProcess, execFileSync, fork } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { nodeFlags } from '../src/cli/node-flags.ts'
import { resolveConfig } from '../src/config.ts'
import { version } from '../src/whisperer.ts'
import { findPgbouncer, type Pgbouncer, startPgbouncer } from '../test/support/pgbouncer.ts'
import { type BenchPostgres, startPostgres } from './postgres.ts'
import { type DatabaseInfo, type RunnerJob, type RunnerMessage, scenarioBudgetSeconds } from './runner.ts'
import { machineBusySince, machineTimes } from './support/load.ts'
import { machine, type RunRecord, saveRecord, setupLines, today } from './support/record.ts'
import { formatValue, textTable } from './support/report.ts'
import { errorResult, type ScenarioResult } from './support/result.ts'
import {
  allowedTargets,
  allScenarioNames,
  engineOptions,
  makePlan,
  type ScenarioName,
  scenarioNames,
  separateScenarioNames,
  within,
} from './support/settings.ts'
import { addRatios, applyTargets } from './support/targets.ts'
import { createWorkerNetwork, type WorkerNetwork } from './support/worker-network.ts'

/** `PgBouncer 1.18.0` → `1.18.0`. */
function bouncerVersion(binary: string): string {
  try {
    return execFileSync(binary, ['--version'], { encoding: 'utf8' })
      .split('\n')[0]!
      .replace(/^PgBouncer /, '')
  } catch {
    return '?'
  }
}

const usage = `Usage: npm run bench -- [scenario ...] [--quick] [--db pglite|postgres|both] [--seconds N] [--no-save] [--pgbouncer | --unprepared]
       npm run bench -- soak [--db pglite|postgres|both] [--seconds N] [--no-save]

Scenarios (default: all, in this order): ${scenarioNames.join(', ')}
  soak          fanout10 with one worker for 600 s per database (--seconds N): deliveries/s minute by
                minute, RSS, dead tuples; never part of the default run or of --quick, and runs alone
  --quick       a smoke run of everything, under a minute
  --db          the databases to measure on (default both; PostgreSQL is DATABASE_URL or a throwaway cluster)
  --seconds N   the measuring window of the timed scenarios (publishing, latency schedule, ceilings)
  --no-save     print only: write no results and leave bench/README.md alone
  --pgbouncer   PostgreSQL through PgBouncer in transaction mode (preparedStatements: false, LISTEN
                straight to the server); its results are printed only, never saved
  --unprepared  PostgreSQL with preparedStatements: false, straight to the server; printed only`

const args = process.argv.slice(2)
const fail = (message: string): never => {
  console.error(`${message}\n\n${usage}`)
  process.exit(2)
}
const parsed = (() => {
  try {
    return parseArgs({
      args,
      allowPositionals: true,
      options: {
        quick: { type: 'boolean', default: false },
        db: { type: 'string', default: 'both' },
        seconds: { type: 'string' },
        'no-save': { type: 'boolean', default: false },
        pgbouncer: { type: 'boolean', default: false },
        unprepared: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    })
  } catch (error) {
    return fail((error as Error).message)
  }
})()
const { values, positionals } = parsed
if (values.help) {
  console.log(usage)
  process.exit(0)
}
const unknown = positionals.filter((name) => !(allScenarioNames as readonly string[]).includes(name))
if (unknown.length > 0) fail(`Unknown scenario: ${unknown.join(', ')}`)
const separate = positionals.filter((name) => (separateScenarioNames as readonly string[]).includes(name))
if (separate.length > 0 && new Set(positionals).size > 1)
  fail(`${separate[0]} runs alone: name no other scenario`)
if (separate.length > 0 && values.quick)
  fail(`${separate[0]} has no --quick form: shorten it with --seconds N`)
if (!['pglite', 'postgres', 'both'].includes(values.db)) fail(`--db must be pglite, postgres or both`)
const seconds = values.seconds === undefined ? null : Number(values.seconds)
if (seconds !== null && !(seconds > 0 && seconds <= 3600))
  fail('--seconds must be a positive number of seconds, at most 3600')
const selected: ScenarioName[] =
  positionals.length === 0
    ? [...scenarioNames]
    : allScenarioNames.filter((name) => positionals.includes(name))
const plan = makePlan(values.quick, seconds)
const wantPostgres = values.db !== 'pglite'
const wantPglite = values.db !== 'postgres'

const startedAt = new Date()
const resolved = resolveConfig({ ...engineOptions, allowedTargets, env: {} }, version)
const engine = {
  options: { ...engineOptions, allowedTargets },
  resolved: {
    concurrency: resolved.concurrency,
    perHostConcurrency: resolved.perHostConcurrency,
    claimBatch: resolved.claimBatch,
    pollIntervalMs: resolved.pollIntervalMs,
    leaseMs: resolved.leaseMs,
    maxAttempts: resolved.maxAttempts,
    connectTimeoutMs: resolved.connectTimeoutMs,
    readTimeoutMs: resolved.readTimeoutMs,
  },
}

// Children to stop however this process ends.
const children = new Set<ChildProcess>()
let postgres: BenchPostgres | null = null
/** The network namespaces of the multi-worker runs' worker processes, when they could be made. */
let network: WorkerNetwork | null = null
/** `--pgbouncer`: the pooler in front of the bench's PostgreSQL. */
let bouncer: Pgbouncer | null = null
let pooledNote = ''
const bouncerPoolSize = 20
/** PGlite's data directories (a template and one per scenario run), under the system's temp dir. */
let pgliteDir: string | null = null
const cleanUp = () => {
  for (const child of children) child.kill('SIGKILL')
  try {
    postgres?.stop()
  } catch (error) {
    console.error(`stopping PostgreSQL failed: ${(error as Error).message}`)
  }
  postgres = null
  void bouncer?.stop()
  bouncer = null
  network?.remove()
  network = null
  if (pgliteDir) rmSync(pgliteDir, { recursive: true, force: true })
  pgliteDir = null
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    cleanUp()
    process.exit(130)
  })
}

/** Forks a child; `flags`: with the V8 flags `whisperer` runs with (a runner is the service). */
function forkChild(script: string, env: Record<string, string>, flags: string[] = []): ChildProcess {
  const child = fork(new URL(script, import.meta.url), [], {
    env: { ...process.env, ...env },
    execArgv: [...process.execArgv, ...flags],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  children.add(child)
  child.once('exit', () => children.delete(child))
  return child
}

async function startReceiver(): Promise<number> {
  const child = forkChild('./receiver.ts', network ? { BENCH_RECEIVER_ALSO_ON: network.host } : {})
  return new Promise((resolve, reject) => {
    child.once('message', (message: { port: number }) => resolve(message.port))
    child.once('exit', (code) => reject(new Error(`the receiver exited with ${code}`)))
  })
}

interface Runner {
  db: RunnerJob['db']
  child: ChildProcess
  ready: Promise<DatabaseInfo | null>
}

function startRunner(job: RunnerJob): Runner {
  const child = forkChild('./runner.ts', { BENCH_RUNNER: JSON.stringify(job) }, nodeFlags)
  const ready = new Promise<DatabaseInfo | null>((resolve, reject) => {
    const onMessage = (message: RunnerMessage) => {
      if (message.type !== 'ready') return
      child.off('message', onMessage)
      resolve(message.database)
    }
    child.on('message', onMessage)
    child.once('exit', (code) =>
      reject(new Error(`the ${job.db} runner exited with ${code} while setting up`)),
    )
  })
  return { db: job.db, child, ready }
}

function headline(result: ScenarioResult): string {
  const first = result.metrics[0]
  const figure = first ? `${first.label} ${formatValue(first)}` : (result.error ?? '')
  const status = result.status === 'ok' ? '' : ` (${result.status})`
  return `    ${result.db} ${result.scenario} ${result.variant}: ${figure}${status}`
}

/** Runs `names` on a ready runner and collects its results; a runner past its hard deadline is killed. */
async function runOn(runner: Runner, names: ScenarioName[]): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = []
  const budget = names.reduce((sum, name) => sum + scenarioBudgetSeconds(name, plan), 0) + 60
  const { child } = runner
  const exitCode = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => {
      console.error(`  the ${runner.db} runner passed its hard deadline (${budget} s): stopped`)
      child.kill('SIGKILL')
    }, budget * 1000)
    let since = performance.now()
    child.on('message', (message: RunnerMessage) => {
      if (message.type === 'start') {
        console.error(`  ${runner.db} ${message.scenario} …`)
        since = performance.now()
      }
      if (message.type === 'result') {
        results.push(message.result)
        console.error(`${headline(message.result)} [${((performance.now() - since) / 1000).toFixed(1)} s]`)
        since = performance.now()
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      resolve(code)
    })
    child.send({ type: 'run', scenarios: names })
  })
  const reported = new Set(results.map((r) => r.scenario))
  for (const name of names) {
    if (!reported.has(name)) {
      results.push(errorResult(name, runner.db, '', `not measured: its runner stopped (exit ${exitCode})`))
    }
  }
  return results
}

console.log(`Whisperer bench${plan.quick ? ' (quick)' : ''}: ${selected.join(', ')} on ${values.db}`)
// Other work on the machine lowers every figure: measure how busy it is before anything starts.
const idleFrom = machineTimes()
await new Promise((resolve) => setTimeout(resolve, 300))
const backgroundBusy = machineBusySince(idleFrom)
if (backgroundBusy > 0.1) {
  console.log(`Warning: the machine was ${Math.round(backgroundBusy * 100)}% busy before the bench started.`)
}
// The multi-worker runs put each worker process in a network namespace of its own: only on a
// cluster the bench starts, which it can make listen on the namespaces' bridge.
const mostWorkers = Math.max(...plan.fanoutWorkers)
let workersNote = 'each worker process in a network namespace of its own (a veth pair on a bridge)'
if (!wantPostgres || !selected.includes('fanout10')) workersNote = ''
else if (process.env.DATABASE_URL)
  workersNote = "in the bench's network namespace: DATABASE_URL names a server the namespaces may not reach"
else {
  const made = createWorkerNetwork(mostWorkers)
  if ('unavailable' in made) workersNote = `in the bench's network namespace: ${made.unavailable}`
  else network = made
}
const receiverPort = await within(startReceiver(), 30_000, 'starting the receiver')
const base = {
  receiverPort,
  quick: plan.quick,
  seconds,
  serverPid: null,
  workerNetwork: null,
  pooled: null,
  prepare: true,
}
const runners: Runner[] = []
const databases: RunRecord['databases'] = {}
try {
  // Runners set up while PostgreSQL starts; nothing is measured until every one is ready.
  if (selected.includes('ceilings')) {
    runners.push(startRunner({ ...base, db: 'none', url: null, pgliteDir: null }))
  }
  if (wantPglite) pgliteDir = mkdtempSync(join(tmpdir(), 'whisperer-bench-pglite-'))
  const pglite = pgliteDir ? startRunner({ ...base, db: 'pglite', url: null, pgliteDir }) : null
  if (wantPostgres) {
    try {
      postgres = await startPostgres(process.env, network)
      if (!postgres) console.error('  PostgreSQL: no DATABASE_URL and no server binaries found; skipped')
    } catch (error) {
      console.error(`  PostgreSQL could not start; skipped: ${(error as Error).message}`)
    }
    if (postgres && network && !postgres.workerUrl) {
      workersNote =
        "in the bench's network namespace: the server could not be made to listen on the namespaces' bridge"
      network.remove()
      network = null
    }
    if (postgres && values.pgbouncer) {
      const binary = findPgbouncer()
      if (!binary) {
        console.error(
          '  --pgbouncer: PgBouncer is not installed (Debian: apt-get install pgbouncer); PostgreSQL skipped',
        )
        postgres.stop()
        postgres = null
      } else {
        bouncer = await startPgbouncer(binary, postgres.url, {
          poolMode: 'transaction',
          poolSize: bouncerPoolSize,
          listen: network && postgres.workerUrl ? ['127.0.0.1', network.host] : ['127.0.0.1'],
        })
        pooledNote = `through PgBouncer ${bouncerVersion(binary)} in transaction mode (${bouncerPoolSize} server connections), preparedStatements: false, LISTEN straight to the server`
      }
    }
    if (postgres) {
      const onBridge = (url: string) => {
        const parsed = new URL(url)
        parsed.hostname = network!.host
        return parsed.toString()
      }
      runners.push(
        startRunner({
          ...base,
          db: 'postgres',
          url: bouncer ? bouncer.url : postgres.url,
          pgliteDir: null,
          serverPid: postgres.serverPid,
          workerNetwork:
            network && postgres.workerUrl
              ? {
                  host: network.host,
                  cidr: network.cidr,
                  namespaces: network.namespaces,
                  url: bouncer ? onBridge(bouncer.url) : postgres.workerUrl,
                  listenUrl: bouncer ? postgres.workerUrl : null,
                }
              : null,
          pooled: bouncer ? { listenUrl: postgres.url, pid: bouncer.pid } : null,
          prepare: !bouncer && !values.unprepared,
        }),
      )
    }
  }
  if (pglite) runners.push(pglite)
  const setupFailures: ScenarioResult[] = []
  for (const runner of [...runners]) {
    const names = runner.db === 'none' ? ['ceilings'] : selected
    try {
      const info = await within(runner.ready, 180_000, `setting up the ${runner.db} runner`)
      if (runner.db === 'postgres' && info)
        databases.postgres = {
          ...info,
          origin: pooledNote
            ? `${postgres!.origin}, ${pooledNote}`
            : values.unprepared
              ? `${postgres!.origin}, preparedStatements: false`
              : postgres!.origin,
          serverCpu: postgres!.serverPid ? 'measured' : 'n/a (not a cluster this bench started)',
          ...(workersNote ? { workers: workersNote } : {}),
        }
      if (runner.db === 'pglite' && info) databases.pglite = info
    } catch (error) {
      runner.child.kill('SIGKILL')
      runners.splice(runners.indexOf(runner), 1)
      for (const name of names) setupFailures.push(errorResult(name, runner.db, '', error))
    }
  }

  const record: RunRecord = {
    date: today(),
    startedAt: startedAt.toISOString(),
    seconds: 0,
    command: `npm run bench${args.length > 0 ? ` -- ${args.join(' ')}` : ''}`,
    scenarios: selected,
    plan,
    engine,
    machine: machine(),
    databases,
    backgroundBusy,
    results: setupFailures,
  }
  for (const line of setupLines(record)) console.log(line)
  console.log('')

  for (const runner of runners) {
    const names = runner.db === 'none' ? (['ceilings'] as ScenarioName[]) : selected
    record.results.push(...(await runOn(runner, names)))
  }
  cleanUp()

  const order = (r: ScenarioResult) =>
    allScenarioNames.indexOf(r.scenario as ScenarioName) * 10 + ['none', 'postgres', 'pglite'].indexOf(r.db)
  record.results = record.results
    .map((result, i) => ({ result, i }))
    .sort((a, b) => order(a.result) - order(b.result) || a.i - b.i)
    .map(({ result }) => result)
  addRatios(record.results)
  applyTargets(record.results)
  record.seconds = (Date.now() - startedAt.getTime()) / 1000

  console.log('')
  console.log(textTable(record.results))
  console.log('')
  // A run through PgBouncer is not the configuration the saved figures and targets describe.
  if (!values['no-save'] && !values.pgbouncer && !values.unprepared)
    for (const path of saveRecord(record)) console.log(`wrote ${path}`)
  console.log(`done in ${record.seconds.toFixed(1)} s`)
} finally {
  cleanUp()
}
