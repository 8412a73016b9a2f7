import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, release, totalmem, type } from 'node:os'
import type { DatabaseInfo } from '../runner.ts'
import { markdownTable } from './report.ts'
import type { ScenarioResult } from './result.ts'
import type { Plan, ScenarioName } from './settings.ts'

/** The machine a run measured on. */
export interface Machine {
  cpu: string
  cores: number
  memoryGiB: number
  os: string
  node: string
  pglite: string
}

export function machine(): Machine {
  const pglite = JSON.parse(
    readFileSync(new URL('../../node_modules/@electric-sql/pglite/package.json', import.meta.url), 'utf8'),
  ) as { version: string }
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    os: `${type()} ${release()}`,
    node: process.version,
    pglite: pglite.version,
  }
}

/** Everything a run wrote: bench/results/<date>.json. */
export interface RunRecord {
  date: string
  startedAt: string
  seconds: number
  command: string
  /** The scenarios asked for. */
  scenarios: ScenarioName[]
  plan: Plan
  engine: { options: Record<string, unknown>; resolved: Record<string, unknown> }
  machine: Machine
  databases: {
    postgres?: DatabaseInfo & {
      origin: string
      /** Whether the server's CPU is measured: only on a cluster the bench started. */
      serverCpu?: string
      /** Where the multi-worker runs' worker processes run. */
      workers?: string
    }
    pglite?: DatabaseInfo
  }
  /** How busy the machine was (0–1) in the 300 ms before the bench started anything. */
  backgroundBusy: number
  results: ScenarioResult[]
}

/** Today in local time, YYYY-MM-DD. */
export function today(): string {
  const now = new Date()
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`
}

/** The lines describing the machine, the databases and the engine options. */
export function setupLines(record: RunRecord): string[] {
  const m = record.machine
  const lines = [
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}; ${Math.round(record.backgroundBusy * 100)}% busy just before the run`,
  ]
  const pg = record.databases.postgres
  if (pg) {
    const s = pg.settings
    lines.push(
      `PostgreSQL: ${pg.version.split(' on ')[0]} (${pg.origin}; fsync ${s.fsync}, synchronous_commit ${s.synchronous_commit}, shared_buffers ${s.shared_buffers}, max_wal_size ${s.max_wal_size}); server CPU ${pg.serverCpu ?? 'n/a'}`,
    )
    if (pg.workers) lines.push(`Multi-worker runs: ${pg.workers}`)
  }
  const lite = record.databases.pglite
  if (lite) {
    const s = lite.settings
    lines.push(
      s.storage === 'directory'
        ? `PGlite: ${m.pglite} (${lite.version.split(' on ')[0]}), file-backed (not memory://): a fresh data directory per scenario run under the system's temporary directory, removed afterwards, opened with Whisperer's openDatabase(dir) (shared_buffers ${s.shared_buffers}, max_wal_size ${s.max_wal_size}, wal_buffers ${s.wal_buffers}; fsync ${s.fsync}), in the worker's process; each a copy of one directory initdb'd per bench run in a process of its own (${s.initdb})`
        : `PGlite: ${m.pglite} (${lite.version.split(' on ')[0]}), ${s.storage}, in the worker's process`,
    )
  }
  const r = record.engine.resolved
  lines.push(
    `Engine options: concurrency ${r.concurrency}, perHostConcurrency ${r.perHostConcurrency}, claimBatch ${r.claimBatch}; everything else default (pollInterval ${r.pollIntervalMs} ms, lease ${Number(r.leaseMs) / 1000} s, maxAttempts ${r.maxAttempts}, request timeout ${Number(r.readTimeoutMs) / 1000} s)`,
  )
  return lines
}

function summary(record: RunRecord, heading: string | null): string {
  return [
    ...(heading ? [heading, ''] : []),
    `Measured ${record.date} with \`${record.command}\` (${Math.round(record.seconds)} s in all${record.plan.quick ? ', a --quick smoke run: figures are indicative only' : ''}).`,
    '',
    ...setupLines(record).map((line) => `- ${line}`),
    '',
    markdownTable(record.results),
    '',
  ].join('\n')
}

/**
 * Writes bench/results/<date>.json and .md (a --quick run: <date>-quick.*; a soak: <date>-soak.*),
 * overwriting the same day's; a full run also rewrites the figures section of bench/README.md, and
 * a soak its soak section. Returns the paths written.
 */
export function saveRecord(saved: RunRecord): string[] {
  const soak = saved.scenarios.includes('soak')
  const suffix = saved.plan.quick ? '-quick' : soak ? '-soak' : ''
  const base = `${saved.date}${suffix}`
  const json = new URL(`../results/${base}.json`, import.meta.url)
  const md = new URL(`../results/${base}.md`, import.meta.url)
  const record = soak ? withEarlierSoak(saved, json) : saved
  writeFileSync(json, `${JSON.stringify(record, null, 2)}\n`)
  formatJson(json)
  writeFileSync(
    md,
    summary(
      record,
      `# Whisperer bench, ${record.date}${record.plan.quick ? ' (quick)' : soak ? ' (soak)' : ''}`,
    ),
  )
  const written = [json.pathname, md.pathname]
  if (!record.plan.quick) {
    const readme = new URL('../README.md', import.meta.url)
    const text = readFileSync(readme, 'utf8')
    const marker = soak ? 'soak' : 'figures'
    const start = `<!-- ${marker}:start -->`
    const end = `<!-- ${marker}:end -->`
    const from = text.indexOf(start)
    const to = text.indexOf(end)
    if (from >= 0 && to > from) {
      const by = soak ? 'npm run bench -- soak' : 'npm run bench'
      const section = `${start}\n<!-- Written by \`${by}\`; edits here are overwritten. -->\n\n${summary(record, null)}${end}`
      writeFileSync(readme, text.slice(0, from) + section + text.slice(to + end.length))
      written.push(readme.pathname)
    }
  }
  return written
}

/**
 * A soak takes ten minutes per database, so the databases are often soaked one at a time
 * (`--db postgres`, then `--db pglite`): the day's soak record keeps the results of the databases
 * this run did not measure, and says which commands measured them.
 */
function withEarlierSoak(record: RunRecord, file: URL): RunRecord {
  if (!existsSync(file)) return record
  let earlier: RunRecord
  try {
    earlier = JSON.parse(readFileSync(file, 'utf8')) as RunRecord
  } catch {
    return record
  }
  const measured = new Set(record.results.map((r) => r.db))
  const kept = (earlier.results ?? []).filter((r) => !measured.has(r.db))
  if (kept.length === 0) return record
  const keptDbs = new Set(kept.map((r) => r.db))
  const databases = { ...record.databases }
  if (keptDbs.has('postgres') && earlier.databases?.postgres) databases.postgres = earlier.databases.postgres
  if (keptDbs.has('pglite') && earlier.databases?.pglite) databases.pglite = earlier.databases.pglite
  const order = ['none', 'postgres', 'pglite']
  return {
    ...record,
    startedAt: earlier.startedAt,
    seconds: earlier.seconds + record.seconds,
    command: `${earlier.command}\` then \`${record.command}`,
    databases,
    results: [...kept, ...record.results].sort((a, b) => order.indexOf(a.db) - order.indexOf(b.db)),
  }
}

/** Formats a written JSON file as the repository's Biome does, so that `npm run check` stays clean. */
function formatJson(file: URL): void {
  const biome = new URL('../../node_modules/.bin/biome', import.meta.url)
  if (!existsSync(biome)) return
  spawnSync(biome.pathname, ['format', '--write', file.pathname], { stdio: 'ignore' })
}
