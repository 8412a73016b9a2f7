/**
 * What a measurement costs the PostgreSQL server itself: the WAL it wrote (`pg_current_wal_lsn()`
 * before and after) and, when the bench started the cluster on this machine, the CPU of the
 * cluster's processes (the postmaster and everything it forked, from /proc).
 */
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import type { HarnessSql } from './context.ts'

/** Where the server stands at one moment. */
export interface ServerMark {
  lsn: string
  /** CPU of the cluster's processes so far (µs); null when they cannot be read. */
  cpuMicros: number | null
}

/** What the server spent between two marks. */
export interface ServerCost {
  walBytes: number
  /** null: the server is not a cluster this bench started (its processes are not ours to read). */
  cpuMicros: number | null
}

let ticksPerSecond: number | null = null
function clockTicks(): number {
  if (ticksPerSecond === null) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
    } catch {
      ticksPerSecond = 100
    }
  }
  return ticksPerSecond
}

/** Fields of /proc/<pid>/stat after the command name: [state, ppid, ...]. */
function statFields(pid: number | string): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  } catch {
    return null
  }
}

/**
 * CPU (µs) of the postmaster `pid` and its children: their own utime + stime, and the postmaster's
 * cutime + cstime, which holds the children that already exited (backends of closed connections).
 * Null when the postmaster cannot be read (not Linux, another machine, gone).
 */
export function clusterCpuMicros(postmasterPid: number): number | null {
  const own = statFields(postmasterPid)
  if (!own) return null
  // After the command: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14).
  let ticks = Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14])
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const fields = statFields(entry)
    if (fields && Number(fields[1]) === postmasterPid) ticks += Number(fields[11]) + Number(fields[12])
  }
  return (ticks / clockTicks()) * 1e6
}

/** CPU (µs) of one server process (a backend), or null when it cannot be read. */
export function processCpuMicros(pid: number): number | null {
  const fields = statFields(pid)
  return fields ? ((Number(fields[11]) + Number(fields[12])) / clockTicks()) * 1e6 : null
}

export async function serverMark(sql: HarnessSql, postmasterPid: number | null): Promise<ServerMark> {
  const [row] = await sql<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')
  return { lsn: row!.lsn, cpuMicros: postmasterPid === null ? null : clusterCpuMicros(postmasterPid) }
}

export async function serverCostSince(
  sql: HarnessSql,
  postmasterPid: number | null,
  before: ServerMark,
): Promise<ServerCost> {
  const after = await serverMark(sql, postmasterPid)
  const [row] = await sql<{ bytes: string }>(
    'SELECT pg_wal_lsn_diff($1::pg_lsn, $2::pg_lsn)::text AS bytes',
    [after.lsn, before.lsn],
  )
  return {
    walBytes: Number(row!.bytes),
    cpuMicros:
      before.cpuMicros === null || after.cpuMicros === null ? null : after.cpuMicros - before.cpuMicros,
  }
}
