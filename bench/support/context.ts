import { cpSync, mkdtempSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import pg from 'pg'
import { openDatabase } from '../../src/storage/open-database.ts'
import { postgresDatabase } from '../../src/storage/postgres-database.ts'
import { type CountingDatabase, countingDatabase } from './counting-database.ts'
import type { ReceiverClient } from './receiver-client.ts'
import type { ScenarioResult } from './result.ts'
import type { DbKind, Plan } from './settings.ts'
import type { WorkerNetworkInfo } from './worker-network.ts'

/** The harness's own queries: not counted. */
export type HarnessSql = <R = Record<string, unknown>>(text: string, values?: unknown[]) => Promise<R[]>

/** The database of one scenario run (one Session): what the engine uses, and the harness's access. */
export interface BenchDatabase {
  /** The Database for a Whisperer on the run's schema, counting its statements. */
  db: CountingDatabase
  /** The harness's own queries: not counted, on a connection of their own where there is one. */
  sql: HarnessSql
  /** Closes the database and removes what the run left: its schema, or (PGlite) its directory. */
  close(): Promise<void>
}

/** What a runner gives each scenario: its database, the receiver and the plan. */
export interface RunnerContext {
  kind: DbKind
  /** The PostgreSQL URL workers connect to; null on PGlite. */
  url: string | null
  /** PostgreSQL: the postmaster's pid when the bench started the cluster, so its CPU can be read. */
  serverPid: number | null
  /** PostgreSQL: namespaces for the workers of multi-worker runs, and the server's URL from them. */
  workerNetwork: (WorkerNetworkInfo & { url: string; listenUrl: string | null }) | null
  /**
   * PostgreSQL through PgBouncer in transaction mode: `url` is the pooler's, and every Whisperer
   * runs with `preparedStatements: false` and LISTENs on `listenUrl`, straight to the server.
   */
  pooled: { listenUrl: string; pid: number | null } | null
  /** PostgreSQL: whether every Whisperer runs with named prepared statements (`preparedStatements`). */
  prepare: boolean
  receiver: ReceiverClient
  plan: Plan
  /** Reports a result at once (a scenario with several variants reports each as it ends). */
  emit(result: ScenarioResult): Promise<void>
  /** A database for a run on the fresh schema `schema`. */
  openDatabase(schema: string): Promise<BenchDatabase>
  close(): Promise<void>
}

export function postgresContext(
  url: string,
  receiver: ReceiverClient,
  plan: Plan,
  emit: RunnerContext['emit'],
  server: Pick<RunnerContext, 'serverPid' | 'workerNetwork' | 'pooled' | 'prepare'>,
): RunnerContext & { sql: HarnessSql } {
  // The harness reads the server directly, never through the pooler.
  const monitor = new pg.Pool({
    connectionString: server.pooled?.listenUrl ?? url,
    max: 2,
    application_name: 'whisperer-bench-monitor',
  })
  monitor.on('error', () => {})
  const sql: HarnessSql = async <R>(text: string, values: unknown[] = []) =>
    (await monitor.query(text, values)).rows as R[]
  return {
    kind: 'postgres',
    url,
    ...server,
    receiver,
    plan,
    emit,
    sql,
    async openDatabase(schema) {
      const db = countingDatabase(
        postgresDatabase(url, {
          applicationName: 'whisperer-bench',
          prepare: server.prepare,
          ...(server.pooled ? { listenUrl: server.pooled.listenUrl } : {}),
        }),
        schema,
      )
      return {
        db,
        sql,
        async close() {
          await db.close().catch(() => {})
          await sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
        },
      }
    },
    close: () => monitor.end(),
  }
}

/**
 * PGlite as users run it by default: file-backed. Each run gets a fresh directory under `root`
 * (a copy of `template`, a data directory initdb'd once per bench run), opened with Whisperer's
 * own `openDatabase(dir)`, so its PGlite settings apply, and removed when the run closes.
 *
 * PGlite has one connection, so the harness's queries share it with the engine: they are kept few.
 */
export function pgliteContext(
  template: string,
  root: string,
  receiver: ReceiverClient,
  plan: Plan,
  emit: RunnerContext['emit'],
): RunnerContext {
  return {
    kind: 'pglite',
    url: null,
    serverPid: null,
    workerNetwork: null,
    pooled: null,
    prepare: true,
    receiver,
    plan,
    emit,
    openDatabase: (schema) => openPgliteCopy(template, root, schema),
    close: async () => {},
  }
}

/** A fresh copy of the template directory, opened with `openDatabase(dir)` and counted. */
export async function openPgliteCopy(template: string, root: string, schema: string): Promise<BenchDatabase> {
  const dir = mkdtempSync(join(root, 'run-'))
  const remove = () => rmSync(dir, { recursive: true, force: true })
  try {
    cpSync(template, dir, { recursive: true })
    const inner = await openDatabase(dir)
    const db = countingDatabase(inner, schema)
    return {
      db,
      sql: async <R>(text: string, values: unknown[] = []) => (await inner.query<R>(text, values)).rows,
      async close() {
        try {
          await db.close()
        } finally {
          remove()
        }
      },
    }
  } catch (error) {
    remove()
    throw error
  }
}
