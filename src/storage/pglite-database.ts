import { mkdir } from 'node:fs/promises'
import { PGlite } from '@electric-sql/pglite'
import type { Database, Queryable } from './database.ts'

/**
 * A {@link Database} on embedded PGlite: a directory (`./.whisperer`), `memory://`, or an instance
 * the caller owns. PGlite has one connection and no fsync: it survives a process crash, not an OS
 * crash; production belongs on PostgreSQL.
 */
export async function pgliteDatabase(source: string | PGlite): Promise<Database> {
  const owned = typeof source === 'string'
  const memory = source === 'memory://'
  if (typeof source === 'string' && !memory) await mkdir(source, { recursive: true })
  const db = typeof source === 'string' ? await PGlite.create(memory ? undefined : source) : source
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
    },
  }
}
