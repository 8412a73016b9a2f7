/**
 * The PostgreSQL server the bench measures on: the one DATABASE_URL names, or a throwaway cluster
 * started from the installed binaries with PostgreSQL's DEFAULT settings (fsync and
 * synchronous_commit on; unlike the tests' cluster, which turns fsync off). Only the port, the
 * socket directory and the listen address are set (and, when workers run in network namespaces,
 * the bridge's address is listened on and trusted too).
 */
import { appendFileSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { findPostgresBinaries, pgCtl, startThrowawayCluster } from '../test/support/postgres-server.ts'
import type { WorkerNetworkInfo } from './support/worker-network.ts'

export interface BenchPostgres {
  url: string
  /** `DATABASE_URL`, or a throwaway cluster. */
  origin: string
  /** The postmaster's process id when the bench started the cluster (its CPU is then measured). */
  serverPid: number | null
  /** The URL from the workers' network namespaces; null when the server is not reachable from them. */
  workerUrl: string | null
  stop(): void
}

/** DATABASE_URL if set, else a throwaway cluster, else null (the PostgreSQL half is skipped). */
export async function startPostgres(
  env: NodeJS.ProcessEnv,
  network: WorkerNetworkInfo | null = null,
): Promise<BenchPostgres | null> {
  if (env.DATABASE_URL)
    return { url: env.DATABASE_URL, origin: 'DATABASE_URL', serverPid: null, workerUrl: null, stop() {} }
  const bin = findPostgresBinaries()
  if (!bin) return null
  const cluster = await startThrowawayCluster(bin, {
    stopMode: 'fast',
    directoryPrefix: 'whisperer-bench-pg-',
    ...(network ? { settings: { listen_addresses: `127.0.0.1,${network.host}` } } : {}),
  })
  let workerUrl: string | null = null
  if (network) {
    try {
      appendFileSync(join(cluster.data, 'pg_hba.conf'), `host all all ${network.cidr} trust\n`)
      pgCtl(cluster, 'reload')
      const url = new URL(cluster.url)
      url.hostname = network.host
      workerUrl = url.toString()
    } catch {}
  }
  const pid = Number(readFileSync(join(cluster.data, 'postmaster.pid'), 'utf8').split('\n')[0])
  return {
    ...cluster,
    serverPid: Number.isInteger(pid) && pid > 0 ? pid : null,
    workerUrl,
    origin: 'throwaway cluster (the installed server binaries, default settings)',
  }
}
