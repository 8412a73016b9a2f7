import { WhispererError } from '../../core/errors.ts'
import { compileFilters, type Filters } from '../../core/filters.ts'
import { autoCeilingRate, autoStartRate } from '../../core/rate-limit.ts'
import { maxLiveKeys, type SigningKey } from '../../core/signing-keys.ts'
import { overlappingEntries } from '../../core/type-patterns.ts'
import type { Actor, Webhook, WebhookInput } from '../../core/webhook.ts'
import type { ParsedWebhookInput } from '../../core/webhook-input.ts'
import type { Queryable } from '../database.ts'
import { rateCurrentColumn, toWebhook, webhookColumns } from '../rows.ts'
import type { Sql } from './context.ts'
import { laneCancels } from './lanes.ts'
import {
  type Emitted,
  type OperationsOptions,
  observed,
  operationalColumns,
  operationalFanOut,
  toEmitted,
  webhookJson,
} from './operational.ts'
import { sealAuth, sealKeys } from './secrets.ts'
import { bind, eventTypeScope, ownerScope, statement } from './statement.ts'

/** The rate row a webhook's new `rate_limit` asks for (from `w`, at `now`); auto rates from $auto/$ceiling. */
const rateRowValues = (w: string, now: string, auto: string, ceiling: string) =>
  `${w}.id, CASE WHEN ${w}.rate_auto THEN ${auto}::float8 ELSE ${w}.rate_limit END,
    CASE WHEN ${w}.rate_auto THEN ${ceiling}::float8 ELSE ${w}.rate_limit END,
    CASE WHEN ${w}.rate_auto THEN 'auto' ELSE 'limit' END,
    greatest(1, CASE WHEN ${w}.rate_auto THEN ${auto}::float8 ELSE ${w}.rate_limit END / 20), ${now}, ${now}, ${now}`

const rateRowColumns = 'webhook_id, rate, ceiling, origin, step, next_slot_at, paced_until, adjusted_at'

const insert = statement(
  'webhookInsert',
  (s) => `
    WITH inserted AS (
      INSERT INTO ${s}.webhooks (owner, event_types, target_url, signing_keys, is_active, retry_countdown_config,
        callback, additional_headers, config, filters, conditions, fields, send_traceparent, created_at, updated_at,
        rate_limit, rate_auto, timeout_seconds, ordering_on_failure)
      VALUES ($1, $2::text[], $3, $4::jsonb, $5, $6::jsonb, $7, $8::jsonb, $9::jsonb, $11::jsonb, $12::jsonb, $13::text[], $14,
        $10, $10, $15, $16, $17, $20)
      RETURNING ${webhookColumns}
    ), rated AS (
      INSERT INTO ${s}.webhook_rates (${rateRowColumns})
      SELECT ${rateRowValues('i', '$10::timestamptz', '$18', '$19')} FROM inserted i
      WHERE i.rate_auto OR i.rate_limit IS NOT NULL
      RETURNING rate
    )
    SELECT inserted.*, (SELECT rate FROM rated) AS rate_limit_current FROM inserted`,
)

export async function webhookInsert(
  sql: Sql,
  params: { owner: string; input: ParsedWebhookInput; keys: readonly SigningKey[]; now: Date },
): Promise<Webhook> {
  const { input } = params
  const values = bind({
    $1: params.owner,
    $2: input.eventTypes,
    $3: input.targetUrl,
    $4: JSON.stringify(sealKeys(params.keys, sql.keys)),
    $5: input.isActive,
    $6: JSON.stringify(input.retryCountdownConfig),
    $7: input.callback,
    $8: JSON.stringify(input.additionalHeaders),
    $9: JSON.stringify(sealAuth(input.config, sql.keys)),
    $10: params.now,
    $11: JSON.stringify(input.filters),
    $12: conditionsJson(input.filters),
    $13: input.fields,
    $14: input.sendTraceparent,
    $15: typeof input.rateLimit === 'number' ? input.rateLimit : null,
    $16: input.rateLimit === 'auto',
    $17: input.timeout,
    $18: autoStartRate,
    $19: autoCeilingRate,
    $20: input.orderingOnFailure,
  })
  return sql.db.transaction(async (tx) => {
    await refuseOverlap(sql, tx, {
      owner: params.owner,
      targetUrl: input.targetUrl,
      eventTypes: input.eventTypes,
    })
    const { rows } = await sql.query(insert, values, { tx })
    return toWebhook(rows[0]!, sql.keys)
  })
}

const lockTarget = statement(
  'webhookLockTarget',
  () => `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`,
)

const sameTarget = statement(
  'webhookSameTarget',
  (s) => `
    SELECT id, event_types FROM ${s}.webhooks
    WHERE owner = $1 AND target_url = $2 AND deleted_at IS NULL AND id <> $3
    ORDER BY id`,
)

/**
 * Refuses a webhook whose event types overlap those of another of the owner's webhooks for the
 * same URL (`webhook_already_registered`, naming it), which would deliver one event twice to one
 * endpoint. Run in the transaction that stores the webhook: the (owner, URL) pair is locked
 * until it commits, so that two concurrent writes cannot both pass.
 */
async function refuseOverlap(
  sql: Sql,
  tx: Queryable,
  webhook: { owner: string; targetUrl: string; eventTypes: readonly string[]; id?: number },
): Promise<void> {
  const key = JSON.stringify([sql.schema, webhook.owner, webhook.targetUrl])
  await sql.query(lockTarget, bind({ $1: key }), { tx })
  const { rows } = await sql.query(
    sameTarget,
    bind({ $1: webhook.owner, $2: webhook.targetUrl, $3: webhook.id ?? 0 }),
    { tx },
  )
  for (const row of rows) {
    const clash = overlappingEntries(webhook.eventTypes, row.event_types as string[])
    if (!clash) continue
    const index = webhook.eventTypes.indexOf(clash.entry)
    const described =
      clash.entry === clash.other ? `"${clash.entry}"` : `"${clash.entry}" and its "${clash.other}"`
    throw new WhispererError(
      'webhook_already_registered',
      `Webhook already registered: this owner's webhook ${row.id} has this target_url, and their event types overlap (${described})`,
      {
        issues: [{ path: `eventTypes.${index}`, message: `Overlaps webhook ${row.id}'s "${clash.other}".` }],
      },
    )
  }
}

const get = statement(
  'webhookGet',
  (s) => `
    SELECT ${webhookColumns}, ${rateCurrentColumn(s, 'webhooks')} FROM ${s}.webhooks
    WHERE id = $1 AND deleted_at IS NULL AND ($2::text IS NULL OR owner = $2)
      AND ($3::text[] IS NULL OR event_types <@ $3::text[])`,
)

export async function webhookGet(sql: Sql, params: { id: number; actor: Actor }): Promise<Webhook | null> {
  const values = bind({ $1: params.id, $2: ownerScope(params.actor), $3: eventTypeScope(params.actor) })
  const { rows } = await sql.query(get, values)
  return rows[0] ? toWebhook(rows[0], sql.keys) : null
}

const getMany = statement(
  'webhookGetMany',
  (s) =>
    `SELECT ${webhookColumns}, ${rateCurrentColumn(s, 'webhooks')} FROM ${s}.webhooks WHERE id = ANY($1::bigint[])`,
)

export async function webhookGetMany(sql: Sql, params: { ids: number[] }): Promise<Webhook[]> {
  if (params.ids.length === 0) return []
  const { rows } = await sql.query(getMany, bind({ $1: params.ids }))
  return rows.map((row) => toWebhook(row, sql.keys))
}

const list = statement(
  'webhookList',
  (s) => `
    SELECT ${webhookColumns}, ${rateCurrentColumn(s, 'webhooks')} FROM ${s}.webhooks
    WHERE deleted_at IS NULL AND ($1::text IS NULL OR owner = $1)
      AND ($2::text IS NULL OR EXISTS (
        SELECT 1 FROM unnest(event_types) t WHERE lower(t) = ANY((SELECT ${s}.type_patterns(lower($2)))::text[])))
      AND ($3::text IS NULL OR lower(target_url) = lower($3))
      AND ($4::boolean IS NULL OR is_active = $4)
      AND id > $5
      AND ($7::text[] IS NULL OR event_types <@ $7::text[])
    ORDER BY id LIMIT $6`,
)

export async function webhookList(
  sql: Sql,
  params: {
    actor: Actor
    eventType?: string
    targetUrl?: string
    isActive?: boolean
    limit: number
    afterId?: number
  },
): Promise<Webhook[]> {
  const values = bind({
    $1: ownerScope(params.actor),
    $2: params.eventType ?? null,
    $3: params.targetUrl ?? null,
    $4: params.isActive ?? null,
    $5: params.afterId ?? 0,
    $6: params.limit,
    $7: eventTypeScope(params.actor),
  })
  const { rows } = await sql.query(list, values)
  return rows.map((row) => toWebhook(row, sql.keys))
}

// A patch: null leaves a column as it is; a flag says whether a nullable column is set.
const update = statement(
  'webhookUpdate',
  (s) => `
    WITH updated AS (
      UPDATE ${s}.webhooks SET
        event_types = coalesce($3::text[], event_types),
        target_url = coalesce($4, target_url),
        signing_keys = coalesce($5::jsonb, signing_keys),
        secret_rotated_at = CASE WHEN $5::jsonb IS NULL THEN secret_rotated_at ELSE $12 END,
        keys_expire_at = CASE WHEN $5::jsonb IS NULL THEN keys_expire_at END,
        is_active = coalesce($6, is_active),
        disabled_reason = CASE WHEN $6 THEN NULL ELSE disabled_reason END,
        failing_since = CASE WHEN $6 THEN NULL ELSE failing_since END,
        retry_countdown_config = coalesce($7::jsonb, retry_countdown_config),
        callback = CASE WHEN $8 THEN $9 ELSE callback END,
        additional_headers = coalesce($10::jsonb, additional_headers),
        config = coalesce($11::jsonb, config),
        filters = coalesce($13::jsonb, filters),
        conditions = CASE WHEN $13::jsonb IS NULL THEN conditions ELSE $14::jsonb END,
        fields = CASE WHEN $15 THEN $16::text[] ELSE fields END,
        send_traceparent = coalesce($17, send_traceparent),
        rate_limit = CASE WHEN $18 THEN $19 ELSE rate_limit END,
        rate_auto = CASE WHEN $18 THEN $20 ELSE rate_auto END,
        timeout_seconds = CASE WHEN $21 THEN $22 ELSE timeout_seconds END,
        ordering_on_failure = coalesce($25, ordering_on_failure),
        updated_at = $12
      WHERE id = $1 AND deleted_at IS NULL AND ($2::text IS NULL OR owner = $2)
      RETURNING ${webhookColumns}
    ), cancelled AS (
      UPDATE ${s}.deliveries SET status = 'cancelled', updated_at = $12
      WHERE webhook_id = $1 AND status = 'pending' AND EXISTS (SELECT 1 FROM updated WHERE NOT updated.is_active)
      RETURNING id, webhook_id, ordering_key
    ), ${laneCancels(s)}, unlimited AS (
      -- No limit any more: the rate row goes, an observed one with it.
      DELETE FROM ${s}.webhook_rates WHERE $18 AND webhook_id IN (
        SELECT id FROM updated WHERE NOT rate_auto AND rate_limit IS NULL)
    ), rated AS (
      -- A changed limit starts again from its new value; the same one keeps its state.
      INSERT INTO ${s}.webhook_rates AS r (${rateRowColumns})
      SELECT ${rateRowValues('u', '$12::timestamptz', '$23', '$24')} FROM updated u
      WHERE $18 AND (u.rate_auto OR u.rate_limit IS NOT NULL)
      ON CONFLICT (webhook_id) DO UPDATE SET rate = excluded.rate, ceiling = excluded.ceiling,
        origin = excluded.origin, step = excluded.step, adjusted_at = excluded.adjusted_at, granted = 0,
        decreased_at = NULL
      WHERE r.origin <> excluded.origin OR r.ceiling <> excluded.ceiling
      RETURNING rate
    )
    SELECT *, (SELECT count(*) FROM cancelled) AS cancelled,
      CASE WHEN $18 AND NOT rate_auto AND rate_limit IS NULL THEN NULL
        ELSE coalesce((SELECT rate FROM rated), (SELECT r.rate FROM ${s}.webhook_rates r WHERE r.webhook_id = updated.id))
      END AS rate_limit_current
    FROM updated`,
)

/**
 * Applies a validated patch. Deactivating a webhook cancels its pending deliveries in the same
 * statement; they can be retried by hand later.
 */
export async function webhookUpdate(
  sql: Sql,
  params: {
    id: number
    actor: Actor
    patch: Omit<Partial<WebhookInput>, 'secretKey' | 'signatureScheme'>
    /** New keys that replace the webhook's at once (no grace period); left out, they stay. */
    keys?: readonly SigningKey[]
    now: Date
  },
): Promise<Webhook | null> {
  const { patch } = params
  const json = (value: unknown) => (value === undefined ? null : JSON.stringify(value))
  const values = bind({
    $1: params.id,
    $2: ownerScope(params.actor),
    $3: patch.eventTypes ?? null,
    $4: patch.targetUrl ?? null,
    $5: params.keys ? JSON.stringify(sealKeys(params.keys, sql.keys)) : null,
    $6: patch.isActive ?? null,
    $7: json(patch.retryCountdownConfig),
    $8: patch.callback !== undefined,
    $9: patch.callback ?? null,
    $10: json(patch.additionalHeaders),
    $11: patch.config === undefined ? null : JSON.stringify(sealAuth(patch.config, sql.keys)),
    $12: params.now,
    $13: json(patch.filters),
    $14: patch.filters === undefined ? null : conditionsJson(patch.filters),
    $15: patch.fields !== undefined,
    $16: patch.fields ?? null,
    $17: patch.sendTraceparent ?? null,
    $18: patch.rateLimit !== undefined,
    $19: typeof patch.rateLimit === 'number' ? patch.rateLimit : null,
    $20: patch.rateLimit === 'auto',
    $21: patch.timeout !== undefined,
    $22: patch.timeout ?? null,
    $23: autoStartRate,
    $24: autoCeilingRate,
    $25: patch.orderingOnFailure ?? null,
  })
  const apply = async (tx?: Queryable) => {
    const { rows } = await sql.query(update, values, { tx })
    sql.cancelled(rows[0]?.cancelled as string | undefined)
    return rows[0] ? toWebhook(rows[0], sql.keys) : null
  }
  if (patch.eventTypes === undefined && patch.targetUrl === undefined) return apply()
  return sql.db.transaction(async (tx) => {
    const { rows } = await sql.query(current, bind({ $1: params.id, $2: ownerScope(params.actor) }), { tx })
    const row = rows[0]
    if (!row) return null
    await refuseOverlap(sql, tx, {
      id: params.id,
      owner: String(row.owner),
      targetUrl: patch.targetUrl ?? String(row.target_url),
      eventTypes: patch.eventTypes ?? (row.event_types as string[]),
    })
    return apply(tx)
  })
}

const current = statement(
  'webhookTarget',
  (s) => `
    SELECT owner, target_url, event_types FROM ${s}.webhooks
    WHERE id = $1 AND deleted_at IS NULL AND ($2::text IS NULL OR owner = $2)`,
)

const rotate = statement(
  'webhookRotateSecret',
  (s) => `
    WITH current AS (
      SELECT id, signing_keys FROM ${s}.webhooks
      WHERE id = $1 AND deleted_at IS NULL AND ($2::text IS NULL OR owner = $2)
      FOR UPDATE
    ), previous AS (
      -- Keys live now, each expiring at the end of this grace period or its own, whichever is first.
      SELECT jsonb_set(key, '{expires_at}', to_jsonb(CASE
          WHEN key->>'expires_at' IS NULL OR (key->>'expires_at')::timestamptz > $5 THEN $5
          ELSE (key->>'expires_at')::timestamptz END)) AS key, n
      FROM current, jsonb_array_elements(current.signing_keys) WITH ORDINALITY AS k(key, n)
      WHERE (key->>'expires_at' IS NULL OR (key->>'expires_at')::timestamptz > $4) AND $5 > $4
    ), next AS (
      SELECT $3::jsonb || coalesce((SELECT jsonb_agg(key ORDER BY n) FROM previous), '[]') AS keys,
        (SELECT min((key->>'expires_at')::timestamptz) FROM previous) AS expire_at
    ), rotated AS (
      UPDATE ${s}.webhooks w SET signing_keys = next.keys, keys_expire_at = next.expire_at,
        secret_rotated_at = $4, updated_at = $4
      FROM next WHERE w.id = (SELECT id FROM current) AND jsonb_array_length(next.keys) <= ${maxLiveKeys}
      RETURNING w.*
    )
    SELECT rotated.*, (SELECT count(*) FROM current) AS found,
      (SELECT r.rate FROM ${s}.webhook_rates r WHERE r.webhook_id = rotated.id) AS rate_limit_current, (SELECT jsonb_array_length(keys) FROM next) AS live
    FROM (SELECT 1) AS one LEFT JOIN rotated ON true`,
)

/**
 * Makes `key` the webhook's current key. The keys live now keep signing until `graceUntil` (or
 * their own earlier expiry); with `graceUntil` at `now`, they stop at once. Refused with
 * `too_many_secrets` past {@link maxLiveKeys} live keys. Null when there is no such webhook.
 */
export async function webhookRotateSecret(
  sql: Sql,
  params: { id: number; actor: Actor; key: SigningKey; graceUntil: Date; now: Date },
): Promise<Webhook | null> {
  const values = bind({
    $1: params.id,
    $2: ownerScope(params.actor),
    $3: JSON.stringify(sealKeys([params.key], sql.keys)),
    $4: params.now,
    $5: params.graceUntil,
  })
  const { rows } = await sql.query(rotate, values)
  const row = rows[0]!
  if (Number(row.found) === 0) return null
  if (row.id === null) {
    throw new WhispererError(
      'too_many_secrets',
      `A webhook has at most ${maxLiveKeys} live keys; this rotation would make ${row.live}. Rotate with a shorter grace_seconds, or wait for a previous key to expire`,
    )
  }
  return toWebhook(row, sql.keys)
}

const expireKeys = statement(
  'webhookKeysExpire',
  (s) => `
    UPDATE ${s}.webhooks w SET signing_keys = kept.keys, keys_expire_at = kept.expire_at
    FROM (
      SELECT w.id,
        coalesce(jsonb_agg(key ORDER BY n) FILTER (WHERE live), '[]') AS keys,
        min((key->>'expires_at')::timestamptz) FILTER (WHERE live) AS expire_at
      FROM ${s}.webhooks w,
        LATERAL (SELECT key, n, key->>'expires_at' IS NULL OR (key->>'expires_at')::timestamptz > $1 AS live
          FROM jsonb_array_elements(w.signing_keys) WITH ORDINALITY AS k(key, n)) AS keys
      WHERE w.keys_expire_at <= $1
      GROUP BY w.id
    ) AS kept
    WHERE w.id = kept.id
    RETURNING w.id`,
)

/** Removes the previous keys whose grace period has ended; returns how many webhooks lost one. */
export async function webhookKeysExpire(sql: Sql, params: { now: Date }): Promise<number> {
  const { rows } = await sql.query(expireKeys, bind({ $1: params.now }))
  return rows.length
}

const softDelete = statement(
  'webhookDelete',
  (s) => `
    WITH deleted AS (
      UPDATE ${s}.webhooks SET deleted_at = $3, is_active = false, updated_at = $3
      WHERE id = $1 AND deleted_at IS NULL AND ($2::text IS NULL OR owner = $2)
      RETURNING id
    ), cancelled AS (
      UPDATE ${s}.deliveries SET status = 'cancelled', updated_at = $3
      WHERE webhook_id = (SELECT id FROM deleted) AND status = 'pending'
      RETURNING id, webhook_id, ordering_key
    ), ${laneCancels(s)}
    SELECT id, (SELECT count(*) FROM cancelled) AS cancelled FROM deleted`,
)

/** Soft-deletes a webhook: its history stays, its pending deliveries are cancelled. */
export async function webhookDelete(
  sql: Sql,
  params: { id: number; actor: Actor; now: Date },
): Promise<boolean> {
  const values = bind({ $1: params.id, $2: ownerScope(params.actor), $3: params.now })
  const { rows } = await sql.query(softDelete, values)
  sql.cancelled(rows[0]?.cancelled as string | undefined)
  return rows.length > 0
}

const disableFailing = statement(
  'webhookDisableFailing',
  (s) => `
    WITH disabled AS (
      UPDATE ${s}.webhooks SET is_active = false, disabled_reason = 'failing', updated_at = $2
      WHERE is_active AND deleted_at IS NULL AND failing_since < $1
      RETURNING id, owner, event_types, target_url, failing_since
    ), cancelled AS (
      UPDATE ${s}.deliveries SET status = 'cancelled', updated_at = $2
      WHERE webhook_id IN (SELECT id FROM disabled) AND status = 'pending'
      RETURNING id, webhook_id, ordering_key
    ), ${laneCancels(s)}, ops AS (
      SELECT d.id AS webhook_id, d.owner, 'whisperer.webhook.disabled' AS type,
        json_build_object('webhook', ${webhookJson('d')}, 'reason', 'failing_too_long',
          'failing_since', d.failing_since, 'attempt', NULL) AS data
      FROM disabled d WHERE ${observed('d')}
    )${operationalFanOut(s, { now: '$2', payloadKey: '$3', operationsOwner: '$4', channel: '$5' })}
    SELECT (SELECT array_agg(id) FROM disabled) AS disabled, (SELECT count(*) FROM cancelled) AS cancelled,
      ${operationalColumns}`,
)

/**
 * Disables active webhooks that have failed without a single success since before `before`,
 * cancels their pending deliveries, and emits `whisperer.webhook.disabled` for each, in one
 * statement. Returns their ids.
 */
export async function webhookDisableFailing(
  sql: Sql,
  params: { before: Date; now: Date; operations: OperationsOptions },
): Promise<{ disabled: number[]; operational: Emitted }> {
  const values = bind({
    $1: params.before,
    $2: params.now,
    $3: params.operations.payloadKey,
    $4: params.operations.owner,
    $5: sql.channel,
  })
  const { rows } = await sql.query(disableFailing, values)
  const row = rows[0]
  sql.cancelled(row?.cancelled as string | undefined)
  return {
    disabled: ((row?.disabled as (string | number)[] | null) ?? []).map(Number),
    operational: toEmitted(row, params.now),
  }
}

/** The conditions the fan-out evaluates, compiled from validated filters; null when there are none. */
function conditionsJson(filters: Filters): string | null {
  const { conditions } = compileFilters(filters)
  return conditions.length > 0 ? JSON.stringify(conditions) : null
}
