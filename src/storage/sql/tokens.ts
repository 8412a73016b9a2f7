import { type ApiTokenRow, toToken } from '../rows.ts'
import type { Sql } from './context.ts'
import { bind, statement } from './statement.ts'

const insert = statement(
  'tokenInsert',
  (s) => `
    INSERT INTO ${s}.api_tokens (id, name, owner, scopes, secret_hash, created_at)
    VALUES ($1, $2, $3, $4, $5, $6)
    RETURNING id, name, owner, scopes, created_at, last_used_at, revoked_at`,
)

export async function tokenInsert(
  sql: Sql,
  params: { id: string; name: string; owner: string; scopes: string[]; secretHash: Buffer; now: Date },
): Promise<ApiTokenRow> {
  const values = bind({
    $1: params.id,
    $2: params.name,
    $3: params.owner,
    $4: params.scopes,
    $5: params.secretHash,
    $6: params.now,
  })
  const { rows } = await sql.query(insert, values)
  return toToken(rows[0]!)
}

const get = statement(
  'tokenGet',
  (s) => `
    SELECT id, name, owner, scopes, secret_hash, created_at, last_used_at, revoked_at
    FROM ${s}.api_tokens WHERE id = $1`,
)

export async function tokenGet(
  sql: Sql,
  params: { id: string },
): Promise<(ApiTokenRow & { secretHash: Buffer }) | null> {
  const { rows } = await sql.query(get, bind({ $1: params.id }))
  const row = rows[0]
  return row ? { ...toToken(row), secretHash: Buffer.from(row.secret_hash as Uint8Array) } : null
}

const list = statement(
  'tokenList',
  (s) => `
    SELECT id, name, owner, scopes, created_at, last_used_at, revoked_at FROM ${s}.api_tokens
    ORDER BY created_at, id`,
)

export async function tokenList(sql: Sql): Promise<ApiTokenRow[]> {
  const { rows } = await sql.query(list)
  return rows.map(toToken)
}

const revoke = statement(
  'tokenRevoke',
  (s) => `UPDATE ${s}.api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING id`,
)

export async function tokenRevoke(sql: Sql, params: { id: string; now: Date }): Promise<boolean> {
  const { rows } = await sql.query(revoke, bind({ $1: params.id, $2: params.now }))
  return rows.length > 0
}

const touch = statement('tokenTouch', (s) => `UPDATE ${s}.api_tokens SET last_used_at = $2 WHERE id = $1`)

export async function tokenTouch(sql: Sql, params: { id: string; now: Date }): Promise<void> {
  await sql.query(touch, bind({ $1: params.id, $2: params.now }))
}
