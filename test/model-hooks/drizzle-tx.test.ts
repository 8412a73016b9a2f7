import { PgDialect } from 'drizzle-orm/pg-core'
import { expect, test } from 'vitest'
import { parameterized } from '../../src/model-hooks/drizzle-tx.ts'

function render(text: string, values: unknown[]): { sql: string; params: unknown[] } {
  const { sql, params } = new PgDialect().sqlToQuery(parameterized(text, values))
  return { sql, params }
}

test('placeholders are bound where they first appear; a value used twice is sent once', () => {
  const values = ['a', ['b', 'c'], 3, 4, 5, 6, 7, 8, 9, { j: 10 }, 11]
  expect(render('SELECT $2::text[], $10::jsonb, $1, $2, $11 WHERE $1 = $1', values)).toEqual({
    sql: 'SELECT $1::text[], $2::jsonb, $3, $1, $4 WHERE $3 = $3',
    params: [['b', 'c'], { j: 10 }, 'a', 11],
  })
  expect(render('SELECT 1', [])).toEqual({ sql: 'SELECT 1', params: [] })
})

test('a placeholder without a value is refused', () => {
  expect(() => parameterized('SELECT $2', ['a'])).toThrow(/\$2 has no value/)
  expect(() => parameterized('SELECT $0', ['a'])).toThrow(/\$0 has no value/)
})
