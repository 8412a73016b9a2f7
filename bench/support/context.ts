import type { PGlite } from '@electric-sql/pglite'
import pg from 'pg'
import { pgliteDatabase } from '../../src/storage/pglite-database.ts'
import { postgresDatabase } from '../../src/storage/postgres-database.ts'
import { type CountingDatabase, countingDatabase } from './counting-database.ts'
import type { ReceiverClient } from './receiver-client.ts'
import type { ScenarioResult } from './result.ts'
import type { DbKind, Plan } from './settings.ts'

/** What a runner gives each scenario: its database, the receiver and the plan. */
export interface RunnerContext {
  kind: DbKind
  /** The PostgreSQL URL workers connect to; null on PGlite. */
  url: string | null
  receiver: ReceiverClient
  plan: Plan
  /** Reports a result at once (a scenario with several variants reports each as it ends). */
  emit(result: ScenarioResult): Promise<void>
  /** A Database for a Whisperer on `schema`, counting its statements. */
  openDatabase(schema: string): Promise<CountingDatabase>
  /** The harness's own queries: not counted, on a connection of their own where there is one. */
  sql<R = Record<string, unknown>>(text: string, values?: unknown[]): Promise<R[]>
  close(): Promise<void>
}

export function postgresContext(
  url: string,
  receiver: ReceiverClient,
  plan: Plan,
  emit: RunnerContext['emit'],
): RunnerContext {
  const monitor = new pg.Pool({ connectionString: url, max: 2, application_name: 'whisperer-bench-monitor' })
  monitor.on('error', () => {})
  return {
    kind: 'postgres',
    url,
    receiver,
    plan,
    emit,
    async openDatabase(schema) {
      return countingDatabase(postgresDatabase(url, { applicationName: 'whisperer-bench' }), schema)
    },
    async sql<R>(text: string, values: unknown[] = []) {
      return (await monitor.query(text, values)).rows as R[]
    },
    close: () => monitor.end(),
  }
}

/**
 * PGlite has one connection, so the harness's queries share it with the engine: they are kept few
 * (at most 5 a second, and only once the receiver has seen everything).
 */
export function pgliteContext(
  pglite: PGlite,
  receiver: ReceiverClient,
  plan: Plan,
  emit: RunnerContext['emit'],
): RunnerContext {
  return {
    kind: 'pglite',
    url: null,
    receiver,
    plan,
    emit,
    async openDatabase(schema) {
      return countingDatabase(await pgliteDatabase(pglite), schema)
    },
    async sql<R>(text: string, values: unknown[] = []) {
      return (await pglite.query<R>(text, values)).rows
    },
    close: () => pglite.close(),
  }
}
