import { readFile } from 'node:fs/promises'
import { expect, test } from 'vitest'
import { dumpSchema, schemaFile } from '../../scripts/schema-dump.ts'
import { loadMigrations, migrate, splitStatements } from '../../src/storage/migrate.ts'
import { openDatabase } from '../../src/storage/open-database.ts'
import { forEachDatabase } from '../support/databases.ts'

test('migrations are numbered from 1 without gaps', async () => {
  const versions = (await loadMigrations()).map((m) => m.version)
  expect(versions).toEqual(versions.map((_, index) => index + 1))
})

test('statements are split at line-ending semicolons, comments dropped', () => {
  expect(splitStatements('-- note\nCREATE TABLE a (x int);\n\nCREATE INDEX b ON a (x);\n')).toEqual([
    'CREATE TABLE a (x int)',
    'CREATE INDEX b ON a (x)',
  ])
})

forEachDatabase((db) => {
  test('migrating creates every table in the chosen schema only, and again does nothing', async () => {
    const { database, schema } = await db.source()
    const opened = await openDatabase(database!)
    try {
      const applied = await migrate(opened, schema)
      expect(applied).toEqual((await loadMigrations()).map((m) => m.version))
      expect(await migrate(opened, schema)).toEqual([])
      const tables = await db.sql<{ table_name: string; table_schema: string }>(
        `SELECT table_schema, table_name FROM information_schema.tables
         WHERE table_name IN ('webhooks', 'events', 'deliveries', 'attempts', 'migrations') AND table_schema = $1
         ORDER BY table_name`,
        [schema],
      )
      expect(tables.map((t) => t.table_name)).toEqual([
        'attempts',
        'deliveries',
        'events',
        'migrations',
        'webhooks',
      ])
      const publicTables = await db.sql(
        `SELECT 1 FROM information_schema.tables WHERE table_schema = 'public' AND table_name = 'deliveries'`,
      )
      expect(publicTables).toEqual([])
    } finally {
      await opened.close()
    }
  })

  test('processes migrating at the same time apply each migration once', async () => {
    const { database, schema } = await db.source()
    const handles = await Promise.all([
      openDatabase(database!),
      openDatabase(database!),
      openDatabase(database!),
    ])
    try {
      const results = await Promise.all(handles.map((handle) => migrate(handle, schema)))
      const all = results.flat().sort((a, b) => a - b)
      expect(all).toEqual((await loadMigrations()).map((m) => m.version))
    } finally {
      await Promise.all(handles.map((handle) => handle.close()))
    }
  })

  test('the committed schema dump matches what the migrations produce', async () => {
    const { database, schema } = await db.source()
    const opened = await openDatabase(database!)
    try {
      await migrate(opened, schema)
      const dump = await dumpSchema(async (text, values) => (await opened.query(text, values)).rows, schema)
      expect(dump, 'src/storage/schema.sql is stale: run npm run schema:dump').toBe(
        await readFile(schemaFile, 'utf8'),
      )
    } finally {
      await opened.close()
    }
  })
})
