import { WhispererError } from '../../core/errors.ts'
import { isSealed, type KeyRing, type Stored } from '../../core/key-ring.ts'
import { type SignatureScheme, type Signer, type SigningKey, toSigner } from '../../core/signing-keys.ts'
import type { PreviousKey } from '../../core/webhook.ts'
import type { Sql } from './context.ts'
import { bind, statement } from './statement.ts'

/** A signing key as stored in `webhooks.signing_keys` (a JSON array, newest first). */
export interface StoredKey {
  scheme: SignatureScheme
  secret: Stored
  public_key: string | null
  utf8?: boolean
  created_at: string
  expires_at: string | null
}

/** The credentials of `config.auth` that are stored sealed. */
const authSecrets = ['password', 'token'] as const

/** Keys as stored: each secret sealed with the ring's current key (in clear without one). */
export function sealKeys(keys: readonly SigningKey[], ring: KeyRing): StoredKey[] {
  return keys.map((key) => ({
    scheme: key.scheme,
    secret: ring.seal(key.secret),
    public_key: key.publicKey,
    ...(key.utf8 ? { utf8: true } : {}),
    created_at: key.createdAt.toISOString(),
    expires_at: key.expiresAt?.toISOString() ?? null,
  }))
}

/**
 * The signers of stored keys, or the error that keeps them from signing: a key the ring lacks, or
 * a wrong one (a webhook is never sent unsigned because its secret could not be read).
 */
export function toSigners(keys: readonly StoredKey[], ring: KeyRing): Signer[] | WhispererError {
  try {
    return keys.map((key) =>
      toSigner({
        scheme: key.scheme,
        secret: ring.open(key.secret),
        publicKey: key.public_key,
        ...(key.utf8 ? { utf8: true } : {}),
        createdAt: new Date(key.created_at),
        expiresAt: key.expires_at === null ? null : new Date(key.expires_at),
      }),
    )
  } catch (error) {
    if (error instanceof WhispererError) return error
    throw error
  }
}

/** What a webhook shows of its keys: the scheme and public key of the current one, and the expiry of the others. */
export function keySummary(keys: readonly StoredKey[]): {
  signatureScheme: SignatureScheme | null
  publicKey: string | null
  previousKeys: PreviousKey[]
} {
  const [current, ...previous] = keys
  return {
    signatureScheme: current?.scheme ?? null,
    publicKey: current?.public_key ?? null,
    previousKeys: previous.map((key) => ({
      scheme: key.scheme,
      publicKey: key.public_key,
      expiresAt: new Date(key.expires_at!),
    })),
  }
}

/** A webhook's config with the credentials of its `auth` sealed. */
export function sealAuth(config: Record<string, unknown>, ring: KeyRing): Record<string, unknown> {
  return mapAuth(config, (value) => (typeof value === 'string' ? ring.seal(value) : value))
}

/**
 * A webhook's config with the credentials of its `auth` in clear. `lenient` leaves a value the
 * ring cannot open sealed (reads mask it anyway, and writing it back keeps it) instead of throwing.
 */
export function openAuth(
  config: Record<string, unknown>,
  ring: KeyRing,
  options: { lenient?: boolean } = {},
): Record<string, unknown> {
  return mapAuth(config, (value) => {
    if (!isSealed(value)) return value
    if (!options.lenient) return ring.open(value)
    try {
      return ring.open(value)
    } catch {
      return value
    }
  })
}

/** Whether every secret of a webhook is stored as the ring stores new ones (sealed with its current key). */
export function sealedWithCurrent(
  keys: readonly StoredKey[],
  config: Record<string, unknown>,
  ring: KeyRing,
): boolean {
  const auth = authOf(config)
  return (
    keys.every((key) => ring.isCurrent(key.secret)) &&
    authSecrets.every((field) => {
      const value = auth?.[field]
      return (typeof value !== 'string' && !isSealed(value)) || ring.isCurrent(value)
    })
  )
}

/** Re-seals a webhook's secrets with the ring's current key (opening them with whichever key sealed them). */
export function rewrap(
  keys: readonly StoredKey[],
  config: Record<string, unknown>,
  ring: KeyRing,
): { keys: StoredKey[]; config: Record<string, unknown> } {
  return {
    keys: keys.map((key) => ({ ...key, secret: ring.seal(ring.open(key.secret)) })),
    config: sealAuth(openAuth(config, ring), ring),
  }
}

function authOf(config: Record<string, unknown>): Record<string, unknown> | null {
  const auth = config.auth
  return auth && typeof auth === 'object' && !Array.isArray(auth) ? (auth as Record<string, unknown>) : null
}

function mapAuth(config: Record<string, unknown>, map: (value: unknown) => unknown): Record<string, unknown> {
  const auth = authOf(config)
  if (!auth || !authSecrets.some((field) => auth[field] !== undefined && auth[field] !== null)) return config
  const mapped = { ...auth }
  for (const field of authSecrets)
    if (mapped[field] !== undefined && mapped[field] !== null) mapped[field] = map(mapped[field])
  return { ...config, auth: mapped }
}

const pending = statement(
  'secretsPending',
  (s) => `
    SELECT count(*) AS pending FROM ${s}.webhooks w
    WHERE EXISTS (
        SELECT 1 FROM jsonb_array_elements(w.signing_keys) AS k(key)
        WHERE jsonb_typeof(key->'secret') = 'string' OR key->'secret'->>'kid' IS DISTINCT FROM $1)
      OR EXISTS (
        SELECT 1 FROM jsonb_each(CASE WHEN jsonb_typeof(w.config->'auth') = 'object' THEN w.config->'auth' ELSE '{}' END) AS a(field, value)
        WHERE a.field IN ('password', 'token')
          AND (jsonb_typeof(a.value) = 'string' OR a.value->>'kid' IS DISTINCT FROM $1))`,
)

/** How many webhooks (deleted ones too) hold a secret not sealed with the ring's current key. */
export async function secretsPending(sql: Sql): Promise<number> {
  const { rows } = await sql.query(pending, bind({ $1: sql.keys.current }))
  return Number(rows[0]?.pending ?? 0)
}

const readBatch = statement(
  'secretsRead',
  (s) => `SELECT id, signing_keys, config FROM ${s}.webhooks WHERE id > $1 ORDER BY id LIMIT $2`,
)

const writeBatch = statement(
  'secretsWrite',
  (s) => `
    UPDATE ${s}.webhooks w SET signing_keys = r.keys, config = r.config
    FROM jsonb_to_recordset($1::jsonb) AS r(id bigint, keys jsonb, config jsonb, old_keys jsonb, old_config jsonb)
    WHERE w.id = r.id AND w.signing_keys = r.old_keys AND w.config = r.old_config
    RETURNING w.id`,
)

/** What one batch of a rewrap did. */
export interface RewrapBatch {
  /** Webhooks read (deleted ones too). */
  scanned: number
  rewrapped: number
  /** Webhooks whose secrets could not be opened, with why (the key id is named). */
  failed: { id: number; error: string }[]
  /** The id to continue after; null when the table is done. */
  lastId: number | null
}

/**
 * Re-seals, with the ring's current key, the secrets of up to `limit` webhooks after `afterId`.
 * A webhook changed meanwhile is left for the next pass (its write already used the current key).
 * The version (`updated_at`) is kept: the clear values do not change.
 */
export async function secretsRewrap(
  sql: Sql,
  params: { afterId: number; limit: number },
): Promise<RewrapBatch> {
  const { rows } = await sql.query(readBatch, bind({ $1: params.afterId, $2: params.limit }))
  const changes: unknown[] = []
  const failed: RewrapBatch['failed'] = []
  for (const row of rows) {
    const keys = json<StoredKey[]>(row.signing_keys)
    const config = json<Record<string, unknown>>(row.config)
    if (sealedWithCurrent(keys, config, sql.keys)) continue
    try {
      const next = rewrap(keys, config, sql.keys)
      changes.push({ id: row.id, keys: next.keys, config: next.config, old_keys: keys, old_config: config })
    } catch (error) {
      failed.push({ id: Number(row.id), error: (error as Error).message })
    }
  }
  const written =
    changes.length > 0 ? (await sql.query(writeBatch, bind({ $1: JSON.stringify(changes) }))).rows : []
  return {
    scanned: rows.length,
    rewrapped: written.length,
    failed,
    lastId: rows.length < params.limit ? null : Number(rows.at(-1)!.id),
  }
}

const json = <T>(value: unknown): T => (typeof value === 'string' ? JSON.parse(value) : value) as T
