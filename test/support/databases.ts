import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { PGlite } from '@electric-sql/pglite'
import pg from 'pg'
import { afterAll, afterEach, describe, inject } from 'vitest'
import type { WhispererOptions } from '../../src/config.ts'
import type { Logger } from '../../src/logger.ts'
import { createWhisperer, type Whisperer } from '../../src/whisperer.ts'

export type DatabaseKind = 'pglite' | 'postgres'

/** One database of the behaviour suite: every test gets a schema of its own on it. */
export interface TestDatabase {
  kind: DatabaseKind
  /** A Whisperer on a fresh schema; closed and dropped after the test. */
  whisperer(options?: WhispererOptions): Promise<Whisperer>
  /** The `database` option for a fresh Whisperer, and the schema it should use. */
  source(): Promise<{ database: WhispererOptions['database']; schema: string }>
  /** The raw driver object (for caller transactions). */
  raw(): Promise<pg.Pool | PGlite>
  /** Runs one query outside Whisperer, for assertions. */
  sql<R = Record<string, unknown>>(text: string, values?: unknown[]): Promise<R[]>
}

export const quietLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} }

/** Defaults for tests: loopback receivers allowed, a quiet logger, quick polling. */
export const testDefaults: WhispererOptions = {
  allowedTargets: ['127.0.0.1', 'localhost'],
  logger: quietLogger,
  pollInterval: 200,
}

export function schemaName(): string {
  return `t_${randomBytes(6).toString('hex')}`
}

function database(kind: DatabaseKind, url: string | null): TestDatabase {
  const opened: Whisperer[] = []
  const schemas: string[] = []
  let pglite: Promise<PGlite> | null = null
  let pool: pg.Pool | null = null
  const raw = async (): Promise<pg.Pool | PGlite> => {
    if (kind === 'pglite') {
      // The data directory the global setup initialised, when the run has one.
      const dataDir = inject('pgliteDataDir')
      pglite ??= dataDir
        ? readFile(dataDir).then((tarball) => PGlite.create({ loadDataDir: new Blob([tarball]) }))
        : PGlite.create()
      return pglite
    }
    pool ??= new pg.Pool({ connectionString: url!, max: 4 })
    return pool
  }
  const sql = async <R>(text: string, values: unknown[] = []): Promise<R[]> => {
    const db = await raw()
    const result = db instanceof PGlite ? await db.query<R>(text, values) : await db.query(text, values)
    return result.rows as R[]
  }
  const source = async () => {
    const schema = schemaName()
    schemas.push(schema)
    return { database: kind === 'pglite' ? await raw() : url!, schema }
  }
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((w) => w.close()))
    for (const schema of schemas.splice(0)) await sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
  })
  afterAll(async () => {
    if (pglite) await (await pglite).close()
    await pool?.end()
  })
  return {
    kind,
    source,
    raw,
    sql,
    async whisperer(options = {}) {
      const whisperer = await createWhisperer({ ...testDefaults, ...(await source()), ...options })
      opened.push(whisperer)
      return whisperer
    },
  }
}

/** The databases this run has: PGlite always, PostgreSQL when the global setup found one. */
export function availableDatabases(): DatabaseKind[] {
  return inject('postgresUrl') ? ['pglite', 'postgres'] : ['pglite']
}

/** Declares the suite once per database, as `describe('<kind>')` blocks. */
export function forEachDatabase(fn: (db: TestDatabase) => void): void {
  const url = inject('postgresUrl')
  for (const kind of availableDatabases()) {
    describe(kind, () => fn(database(kind, url)))
  }
}

/** Declares a suite that needs a real PostgreSQL server (several processes share it); skipped without one. */
export function onPostgres(fn: (db: TestDatabase) => void): void {
  const url = inject('postgresUrl')
  describe.runIf(url)('postgres', () => fn(database('postgres', url)))
}
