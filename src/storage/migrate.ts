import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import type { Database } from './database.ts'
import { quoteIdentifier } from './identifier.ts'

export interface Migration {
  version: number
  name: string
  sql: string
}

const directory = new URL('./migrations/', import.meta.url)

/** The numbered `.sql` files, in order. */
export async function loadMigrations(): Promise<Migration[]> {
  const files = (await readdir(directory)).filter((file) => /^\d{4}_[\w-]+\.sql$/.test(file)).sort()
  return Promise.all(
    files.map(async (file) => ({
      version: Number(file.slice(0, 4)),
      name: file.slice(5, -4),
      sql: await readFile(new URL(file, directory), 'utf8'),
    })),
  )
}

let latest: Promise<number> | null = null

/** The version of the newest migration file: a schema at it is current. */
export function latestMigration(): Promise<number> {
  latest ??= loadMigrations().then((migrations) => Math.max(0, ...migrations.map((m) => m.version)))
  return latest
}

/** The advisory lock key of a schema's migrations: stable across processes and machines. */
function lockKey(schema: string): string {
  return createHash('sha256').update(`whisperer:migrate:${schema}`).digest().readBigInt64BE().toString()
}

/**
 * Brings a schema up to date: creates it if needed, then applies the missing migrations in order.
 * Runs in one transaction under an advisory lock, so processes that start together are safe and a
 * failed migration leaves nothing half-applied. Returns the versions applied. `through` stops at
 * that version (to test an upgrade from it).
 */
export async function migrate(
  db: Database,
  schema: string,
  options: { through?: number } = {},
): Promise<number[]> {
  const migrations = (await loadMigrations()).filter(
    (migration) => options.through === undefined || migration.version <= options.through,
  )
  const qualified = quoteIdentifier(schema)
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [lockKey(schema)])
    await tx.query(`CREATE SCHEMA IF NOT EXISTS ${qualified}`)
    await tx.query(
      `CREATE TABLE IF NOT EXISTS ${qualified}.migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`,
    )
    const { rows } = await tx.query<{ version: number }>(`SELECT version FROM ${qualified}.migrations`)
    const applied = new Set(rows.map((row) => Number(row.version)))
    const done: number[] = []
    for (const migration of migrations) {
      if (applied.has(migration.version)) continue
      await tx.query(`SET LOCAL search_path TO ${qualified}`)
      for (const statement of splitStatements(migration.sql)) await tx.query(statement)
      await tx.query(`INSERT INTO ${qualified}.migrations (version, name) VALUES ($1, $2)`, [
        migration.version,
        migration.name,
      ])
      done.push(migration.version)
    }
    return done
  })
}

/** Splits a migration into statements: each ends with `;` at the end of a line. Comments are dropped. */
export function splitStatements(sql: string): string[] {
  return sql
    .split(/;[ \t]*(?:\r?\n|$)/)
    .map((chunk) => chunk.replace(/^\s*--.*$/gm, '').trim())
    .filter(Boolean)
}
