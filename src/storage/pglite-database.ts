import { mkdir } from 'node:fs/promises'
import { PGlite } from '@electric-sql/pglite'
import type { Database, Queryable } from './database.ts'
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
 * A {@link Database} on embedded PGlite: a directory (`./.whisperer`), `memory://`, or an instance
 * the caller owns. PGlite has one connection and no fsync: it survives a process crash, not an OS
 * crash; production belongs on PostgreSQL.
 */
export async function pgliteDatabase(source: string | PGlite): Promise<Database> {
  const owned = typeof source === 'string'
  const memory = source === 'memory://'
  let unlock = () => {}
  if (typeof source === 'string' && !memory) {
    await mkdir(source, { recursive: true })
    unlock = lockDirectory(source)
  }
  let db: PGlite
  try {
    db =
      typeof source === 'string'
        ? await PGlite.create({ ...(memory ? {} : { dataDir: source }), postgresqlconf: pgliteSettings })
        : source
  } catch (error) {
    unlock()
    throw error
  }
  return {
    kind: 'pglite',
    async query<R>(text: string, values: unknown[] = []) {
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
