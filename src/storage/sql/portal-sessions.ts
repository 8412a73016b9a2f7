import { type PortalSessionRow, toPortalSession } from '../rows.ts'
import type { Sql } from './context.ts'
import { bind, statement } from './statement.ts'

const columns = 'id, owner, event_types, read_only, created_at, expires_at, exchanged_at, revoked_at'

const insert = statement(
  'portalSessionInsert',
  (s) => `
    INSERT INTO ${s}.portal_sessions (id, owner, event_types, read_only, link_hash, created_at, expires_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7)
    RETURNING ${columns}`,
)

export async function portalSessionInsert(
  sql: Sql,
  params: {
    id: string
    owner: string
    eventTypes: string[] | null
    readOnly: boolean
    linkHash: Buffer
    now: Date
    expiresAt: Date
  },
): Promise<PortalSessionRow> {
  const values = bind({
    $1: params.id,
    $2: params.owner,
    $3: params.eventTypes,
    $4: params.readOnly,
    $5: params.linkHash,
    $6: params.now,
    $7: params.expiresAt,
  })
  const { rows } = await sql.query(insert, values)
  return toPortalSession(rows[0]!)
}

const get = statement(
  'portalSessionGet',
  (s) => `SELECT ${columns}, link_hash, session_hash FROM ${s}.portal_sessions WHERE id = $1`,
)

/** A portal session with the digests of its link and (once exchanged) session secrets. */
export type PortalSessionSecrets = PortalSessionRow & { linkHash: Buffer; sessionHash: Buffer | null }

export async function portalSessionGet(
  sql: Sql,
  params: { id: string },
): Promise<PortalSessionSecrets | null> {
  const { rows } = await sql.query(get, bind({ $1: params.id }))
  const row = rows[0]
  if (!row) return null
  return {
    ...toPortalSession(row),
    linkHash: Buffer.from(row.link_hash as Uint8Array),
    sessionHash: row.session_hash ? Buffer.from(row.session_hash as Uint8Array) : null,
  }
}

// Only a live link that was never used is exchanged, once: two racing exchanges get one session.
const exchange = statement(
  'portalSessionExchange',
  (s) => `
    UPDATE ${s}.portal_sessions SET session_hash = $2, exchanged_at = $3
    WHERE id = $1 AND exchanged_at IS NULL AND revoked_at IS NULL AND expires_at > $3
    RETURNING ${columns}`,
)

export async function portalSessionExchange(
  sql: Sql,
  params: { id: string; sessionHash: Buffer; now: Date },
): Promise<PortalSessionRow | null> {
  const { rows } = await sql.query(exchange, bind({ $1: params.id, $2: params.sessionHash, $3: params.now }))
  return rows[0] ? toPortalSession(rows[0]) : null
}

const revoke = statement(
  'portalSessionRevoke',
  (s) => `UPDATE ${s}.portal_sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING id`,
)

export async function portalSessionRevoke(sql: Sql, params: { id: string; now: Date }): Promise<boolean> {
  const { rows } = await sql.query(revoke, bind({ $1: params.id, $2: params.now }))
  return rows.length > 0
}

const expire = statement(
  'portalSessionsExpire',
  (s) => `
    DELETE FROM ${s}.portal_sessions WHERE id IN (
      SELECT id FROM ${s}.portal_sessions WHERE expires_at < $1 ORDER BY expires_at LIMIT $2)
    RETURNING 1`,
)

/** Deletes up to `limit` sessions that expired before `before`; returns how many. */
export async function portalSessionsExpire(
  sql: Sql,
  params: { before: Date; limit: number },
): Promise<number> {
  const { rows } = await sql.query(expire, bind({ $1: params.before, $2: params.limit }))
  return rows.length
}
