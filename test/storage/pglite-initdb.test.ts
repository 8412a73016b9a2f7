import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { afterEach, expect, test } from 'vitest'
import { openDatabase } from '../../src/storage/open-database.ts'
import { initialisedDataDir } from '../../src/storage/pglite-database.ts'

const directories: string[] = []
afterEach(async () => {
  for (const dir of directories.splice(0)) await rm(dir, { recursive: true, force: true })
})

async function temporary(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'whisperer-pglite-'))
  directories.push(dir)
  return dir
}

const control = `SELECT version(), (SELECT catalog_version_no FROM pg_control_system()) AS catalog`

test('the shipped data directory is what this PGlite initialises (else: npm run pglite:initdb)', async () => {
  const shipped = await PGlite.create({ loadDataDir: new Blob([await readFile(initialisedDataDir)]) })
  const fresh = await PGlite.create()
  try {
    const [a] = (await shipped.query(control)).rows
    const [b] = (await fresh.query(control)).rows
    expect(a, 'the shipped data directory is stale: run `npm run pglite:initdb`').toEqual(b)
    // Whisperer's PGlite settings are in it.
    const { rows } = await shipped.query<{ setting: string }>(
      `SELECT setting FROM pg_settings WHERE name = 'shared_buffers'`,
    )
    expect(Number(rows[0]!.setting) * 8).toBe(32 * 1024)
  } finally {
    await shipped.close()
    await fresh.close()
  }
})

test('a new data directory starts from the shipped one, and opens again with its data', async () => {
  const dir = await temporary()
  const db = await openDatabase(dir)
  await db.query('CREATE TABLE kept (n int)')
  await db.query('INSERT INTO kept VALUES (42)')
  await db.close()
  expect(await readdir(dir)).toContain('PG_VERSION')
  const again = await openDatabase(dir)
  expect((await again.query<{ n: number }>('SELECT n FROM kept')).rows).toEqual([{ n: 42 }])
  await again.close()
})
