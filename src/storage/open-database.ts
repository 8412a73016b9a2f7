import { PGlite } from '@electric-sql/pglite'
import pg from 'pg'
import type { Database } from './database.ts'
import { pgliteDatabase } from './pglite-database.ts'
import { type PostgresOptions, postgresDatabase } from './postgres-database.ts'

/**
 * Opens the database an option names: a `postgres://` URL (node-postgres pool), `memory://` or a
 * directory (PGlite), or an open `pg.Pool`, `PGlite` or {@link Database}, which stays the caller's.
 * `postgres` applies to a URL and a `pg.Pool`; its `prepare` to a PGlite too.
 */
export async function openDatabase(
  source: string | Database | object,
  postgres: Pick<PostgresOptions, 'prepare' | 'listenUrl'> = {},
): Promise<Database> {
  if (typeof source === 'string') {
    return /^postgres(ql)?:\/\//.test(source)
      ? postgresDatabase(source, postgres)
      : pgliteDatabase(source, postgres)
  }
  if (source instanceof pg.Pool) return postgresDatabase(source, postgres)
  if (source instanceof PGlite) return pgliteDatabase(source, postgres)
  if (isDatabase(source)) return source
  throw new TypeError('database must be a URL, a directory, memory://, a pg.Pool, a PGlite or a Database')
}

function isDatabase(value: object): value is Database {
  const candidate = value as Partial<Database>
  return (
    (candidate.kind === 'postgres' || candidate.kind === 'pglite') &&
    typeof candidate.query === 'function' &&
    typeof candidate.transaction === 'function' &&
    typeof candidate.listen === 'function'
  )
}
