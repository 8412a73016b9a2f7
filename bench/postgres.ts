/**
 * The PostgreSQL server the bench measures on: the one DATABASE_URL names, or a throwaway cluster
 * started from the installed binaries with PostgreSQL's DEFAULT settings (fsync and
 * synchronous_commit on; unlike the tests' cluster, which turns fsync off). Only the port, the
 * socket directory and the listen address are set.
 */
import { findPostgresBinaries, startThrowawayCluster } from '../test/support/postgres-server.ts'

export interface BenchPostgres {
  url: string
  /** `DATABASE_URL`, or a throwaway cluster. */
  origin: string
  stop(): void
}

/** DATABASE_URL if set, else a throwaway cluster, else null (the PostgreSQL half is skipped). */
export async function startPostgres(env: NodeJS.ProcessEnv): Promise<BenchPostgres | null> {
  if (env.DATABASE_URL) return { url: env.DATABASE_URL, origin: 'DATABASE_URL', stop() {} }
  const bin = findPostgresBinaries()
  if (!bin) return null
  const cluster = await startThrowawayCluster(bin, {
    stopMode: 'fast',
    directoryPrefix: 'whisperer-bench-pg-',
  })
  return { ...cluster, origin: 'throwaway cluster (the installed server binaries, default settings)' }
}
