import { expect, test } from 'vitest'
import { statementNames } from '../../src/storage/database.ts'
import { openDatabase } from '../../src/storage/open-database.ts'
import { forEachDatabase } from '../support/databases.ts'

forEachDatabase((db) => {
  async function open() {
    const { database, schema } = await db.source()
    const database_ = await openDatabase(database!)
    const s = `"${schema}"`
    await database_.query(`CREATE SCHEMA IF NOT EXISTS ${s}`)
    await database_.query(
      `CREATE TABLE ${s}.t (id bigint PRIMARY KEY, at timestamptz, tags text[], doc jsonb)`,
    )
    return { database: database_, s }
  }

  test('a prepared statement binds and returns what an unnamed one does, is planned once, and survives errors', async () => {
    const { database, s } = await open()
    const insert = `INSERT INTO ${s}.t (id, at, tags, doc) SELECT * FROM unnest($1::bigint[], $2::timestamptz[])
      AS x(id, at), LATERAL (SELECT $3::text[], $4::jsonb) y RETURNING id, at, tags, doc`
    const at = new Date('2026-01-02T03:04:05.678Z')
    const { rows } = await database.query(insert, [[1, 2], [at, null], ['a', null, 'c,d'], '{"k":[1]}'], {
      prepare: true,
    })
    const unnamed = await database.query(`SELECT id, at, tags, doc FROM ${s}.t ORDER BY id`)
    expect(rows).toEqual(unnamed.rows)
    expect(rows.map((row) => ({ ...row, id: String(row.id) }))).toEqual([
      { id: '1', at, tags: ['a', null, 'c,d'], doc: { k: [1] } },
      { id: '2', at: null, tags: ['a', null, 'c,d'], doc: { k: [1] } },
    ])

    // An error inside a prepared statement leaves the connection usable, with the driver's code.
    const failed = await database.query(insert, [[2], [at], [], '{}'], { prepare: true }).catch((e) => e)
    expect(failed.code).toBe('23505')
    const select = `SELECT count(*)::int AS n FROM ${s}.t WHERE id > $1`
    for (let i = 0; i < 8; i += 1)
      expect((await database.query(select, [0], { prepare: true })).rows).toEqual([{ n: 2 }])

    if (db.kind === 'pglite') {
      // One session: the statement is prepared there, and after five custom plans runs generic.
      const name = statementNames()(select)
      const { rows: prepared } = await database.query<{ generic_plans: number }>(
        'SELECT generic_plans::int FROM pg_prepared_statements WHERE name = $1',
        [name],
      )
      expect(prepared).toHaveLength(1)
      expect(prepared[0]!.generic_plans).toBeGreaterThan(0)
      // Deallocated behind the adapter's back, it is prepared again.
      await database.query('DEALLOCATE ALL')
      expect((await database.query(select, [1], { prepare: true })).rows).toEqual([{ n: 1 }])
      // A second adapter on the same PGlite shares its statements.
      const { database: source } = await db.source()
      const second = await openDatabase(source!)
      expect((await second.query(select, [0], { prepare: true })).rows).toEqual([{ n: 2 }])
      await second.close()
      // preparedStatements: false sends them unnamed.
      const unprepared = await openDatabase(source!, { prepare: false })
      const other = `SELECT count(*)::int AS n FROM ${s}.t WHERE id < $1`
      expect((await unprepared.query(other, [2], { prepare: true })).rows).toEqual([{ n: 1 }])
      const { rows: none } = await database.query('SELECT name FROM pg_prepared_statements WHERE name = $1', [
        statementNames()(other),
      ])
      expect(none).toEqual([])
      await unprepared.close()
    }
    await database.close()
  })
})
