import { existsSync } from 'node:fs'
import { mkdir, readdir, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { PGlite, type PGliteOptions, parse, protocol } from '@electric-sql/pglite'
import { type Database, type Queryable, type QueryOptions, statementNames } from './database.ts'
import { lockDirectory } from './directory-lock.ts'

/**
 * Settings for a PGlite this adapter opens. PGlite keeps shared buffers and, in memory, the WAL
 * in the process's memory: a smaller buffer pool and WAL keep a long-running process near 400 MB
 * (file-backed) instead of growing past a gigabyte.
 */
export const pgliteSettings = [
  'shared_buffers=32MB',
  'max_wal_size=64MB',
  'min_wal_size=32MB',
  'wal_buffers=1MB',
]

/**
 * A data directory PGlite's initdb made, with {@link pgliteSettings}, kept as a tarball made at
 * install (the `prepare` script, `npm run pglite:initdb`) and packed with the package: a new
 * database loads it instead of running initdb, which takes seconds and about a gigabyte of memory.
 */
export const initialisedDataDir = new URL('./pglite-initdb.tar.gz', import.meta.url)

/** The initialised data directory; undefined when it is missing. */
async function initialised(): Promise<Blob | undefined> {
  try {
    return new Blob([await readFile(initialisedDataDir)])
  } catch {
    return undefined
  }
}

/**
 * Starts PGlite on a directory (or in memory when `dir` is null). A new one starts from the
 * initialised data directory; should that fail to load (a PGlite that cannot read it),
 * what it left is removed and PGlite runs its own initdb.
 */
async function startPglite(dir: string | null): Promise<PGlite> {
  const options: PGliteOptions = { ...(dir ? { dataDir: dir } : {}), postgresqlconf: pgliteSettings }
  const fresh = dir === null || !existsSync(join(dir, 'PG_VERSION'))
  const tarball = fresh ? await initialised() : undefined
  if (!tarball) return PGlite.create(options)
  const before = new Set(dir ? await readdir(dir) : [])
  try {
    return await PGlite.create({ ...options, loadDataDir: tarball })
  } catch {
    if (dir) {
      const left = (await readdir(dir)).filter((name) => !before.has(name))
      await Promise.all(left.map((name) => rm(join(dir, name), { recursive: true, force: true })))
    }
    return PGlite.create(options)
  }
}

/** The statements prepared on each PGlite (its one session), by name: their parameters' types. */
const preparedOn = new WeakMap<PGlite, Map<string, number[]>>()

/**
 * Runs a statement as a named prepared statement. PGlite's own `query` sends each statement
 * unnamed, so PostgreSQL parses and plans it on every run: for the hot statements that costs more
 * than running them (publishing 10 deliveries: about 1 ms to plan, under 1 ms to run). Prepared, a
 * statement is planned once its generic plan is as good, as on a PostgreSQL server. It holds
 * PGlite's locks as `query` does: never inside a transaction, never beside another statement.
 */
function preparedQuery(db: PGlite): <R>(text: string, values: unknown[]) => Promise<R[]> {
  const statements = preparedOn.get(db) ?? new Map<string, number[]>()
  preparedOn.set(db, statements)
  const nameOf = statementNames()
  const { serialize } = protocol
  const run = (...messages: Uint8Array[]) =>
    db.execProtocolStream(Buffer.concat(messages), { syncToFs: false })
  const once = async <R>(text: string, values: unknown[]): Promise<R[]> => {
    const name = nameOf(text)
    let types = statements.get(name)
    if (!types) {
      const described = await run(
        serialize.parse({ name, text }),
        serialize.describe({ type: 'S', name }),
        serialize.sync(),
      )
      types = parse.parseDescribeStatementResults(described)
      statements.set(name, types)
    }
    const given = types
    const params = values.map((value, i) => {
      if (value == null) return null
      const serializer = db.serializers[given[i] as number]
      return serializer ? serializer(value) : String(value)
    })
    const messages = await run(
      serialize.bind({ statement: name, values: params }),
      serialize.describe({ type: 'P' }),
      serialize.execute({}),
      serialize.sync(),
    )
    return (parse.parseResults(messages, db.parsers)[0]?.rows ?? []) as R[]
  }
  return (text, values) =>
    db._runExclusiveTransaction(() =>
      db._runExclusiveQuery(async () => {
        try {
          return await once(text, values)
        } catch (error) {
          // Deallocated behind this adapter's back (DISCARD ALL on a PGlite the caller owns): again.
          if ((error as { code?: string }).code !== '26000') throw error
          statements.delete(nameOf(text))
          return await once(text, values)
        } finally {
          await db.syncToFs()
        }
      }),
    )
}

export interface PgliteOptions {
  /** Run statements marked `prepare` as named prepared statements. @default true */
  prepare?: boolean
}

/**
 * A {@link Database} on embedded PGlite: a directory (`./.whisperer`), `memory://`, or an instance
 * the caller owns. PGlite has one connection and no fsync: it survives a process crash, not an OS
 * crash; production belongs on PostgreSQL.
 */
export async function pgliteDatabase(
  source: string | PGlite,
  options: PgliteOptions = {},
): Promise<Database> {
  const owned = typeof source === 'string'
  const memory = source === 'memory://'
  let unlock = () => {}
  if (typeof source === 'string' && !memory) {
    await mkdir(source, { recursive: true })
    unlock = lockDirectory(source)
  }
  let db: PGlite
  try {
    db = typeof source === 'string' ? await startPglite(memory ? null : source) : source
  } catch (error) {
    unlock()
    throw error
  }
  const prepared = options.prepare === false ? null : preparedQuery(db)
  return {
    kind: 'pglite',
    async query<R>(text: string, values: unknown[] = [], queryOptions: QueryOptions = {}) {
      if (queryOptions.prepare && prepared) return { rows: await prepared<R>(text, values) }
      const result = await db.query<R>(text, values)
      return { rows: result.rows }
    },
    transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      return db.transaction((tx) =>
        fn({
          query: async <R>(text: string, values: unknown[] = []) => ({
            rows: (await tx.query<R>(text, values)).rows,
          }),
        }),
      )
    },
    async listen(channel, onNotify) {
      return db.listen(channel, onNotify)
    },
    async close() {
      if (owned) await db.close()
      unlock()
    },
  }
}
