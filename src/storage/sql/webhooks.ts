import { WhispererError } from '../../core/errors.ts'
import { compileFilters, type Filters } from '../../core/filters.ts'
import type { Actor, Webhook, WebhookInput } from '../../core/webhook.ts'
import { toWebhook, webhookColumns } from '../rows.ts'
import type { Sql } from './context.ts'
import {
  type Emitted,
  type OperationsOptions,
  observed,
  operationalColumns,
  operationalFanOut,
  toEmitted,
  webhookJson,
} from './operational.ts'
import { bind, ownerScope, statement } from './statement.ts'

const insert = statement(
  'webhookInsert',
  (s) => `
    INSERT INTO ${s}.webhooks (owner, event_type, target_url, secret_key, is_active, retry_countdown_config,
      callback, additional_headers, config, filters, conditions, fields, send_traceparent, created_at, updated_at)
    VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8::jsonb, $9::jsonb, $11::jsonb, $12::jsonb, $13::text[], $14, $10, $10)
    RETURNING ${webhookColumns}`,
)

export async function webhookInsert(
  sql: Sql,
  params: { owner: string; input: Required<WebhookInput>; now: Date },
): Promise<Webhook> {
  const { input } = params
  const values = bind({
    $1: params.owner,
    $2: input.eventType,
    $3: input.targetUrl,
    $4: input.secretKey,
    $5: input.isActive,
    $6: JSON.stringify(input.retryCountdownConfig),
    $7: input.callback,
    $8: JSON.stringify(input.additionalHeaders),
    $9: JSON.stringify(input.config),
    $10: params.now,
    $11: JSON.stringify(input.filters),
    $12: conditionsJson(input.filters),
    $13: input.fields,
    $14: input.sendTraceparent,
  })
  try {
    const { rows } = await sql.query(insert, values)
    return toWebhook(rows[0]!)
  } catch (error) {
    throw duplicateWebhook(error)
  }
}

const get = statement(
  'webhookGet',
  (s) => `
    SELECT ${webhookColumns} FROM ${s}.webhooks
    WHERE id = $1 AND deleted_at IS NULL AND ($2::text IS NULL OR owner = $2)`,
)

export async function webhookGet(sql: Sql, params: { id: number; actor: Actor }): Promise<Webhook | null> {
  const { rows } = await sql.query(get, bind({ $1: params.id, $2: ownerScope(params.actor) }))
  return rows[0] ? toWebhook(rows[0]) : null
}

const getMany = statement(
  'webhookGetMany',
  (s) => `SELECT ${webhookColumns} FROM ${s}.webhooks WHERE id = ANY($1::bigint[])`,
)

export async function webhookGetMany(sql: Sql, params: { ids: number[] }): Promise<Webhook[]> {
  if (params.ids.length === 0) return []
  const { rows } = await sql.query(getMany, bind({ $1: params.ids }))
  return rows.map(toWebhook)
}

const list = statement(
  'webhookList',
  (s) => `
    SELECT ${webhookColumns} FROM ${s}.webhooks
    WHERE deleted_at IS NULL AND ($1::text IS NULL OR owner = $1)
      AND ($2::text IS NULL OR lower(event_type) = lower($2))
      AND ($3::text IS NULL OR lower(target_url) = lower($3))
      AND ($4::boolean IS NULL OR is_active = $4)
      AND id > $5
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
  })
  const { rows } = await sql.query(list, values)
  return rows.map(toWebhook)
}

// A patch: null leaves a column as it is; a flag says whether a nullable column is set.
const update = statement(
  'webhookUpdate',
  (s) => `
    WITH updated AS (
      UPDATE ${s}.webhooks SET
        event_type = coalesce($3, event_type),
        target_url = coalesce($4, target_url),
        secret_key = CASE WHEN $5 THEN $6 ELSE secret_key END,
        is_active = coalesce($7, is_active),
        disabled_reason = CASE WHEN $7 THEN NULL ELSE disabled_reason END,
        failing_since = CASE WHEN $7 THEN NULL ELSE failing_since END,
        retry_countdown_config = coalesce($8::jsonb, retry_countdown_config),
        callback = CASE WHEN $9 THEN $10 ELSE callback END,
        additional_headers = coalesce($11::jsonb, additional_headers),
        config = coalesce($12::jsonb, config),
        filters = coalesce($14::jsonb, filters),
        conditions = CASE WHEN $14::jsonb IS NULL THEN conditions ELSE $15::jsonb END,
        fields = CASE WHEN $16 THEN $17::text[] ELSE fields END,
        send_traceparent = coalesce($18, send_traceparent),
        updated_at = $13
      WHERE id = $1 AND deleted_at IS NULL AND ($2::text IS NULL OR owner = $2)
      RETURNING ${webhookColumns}
    ), cancelled AS (
      UPDATE ${s}.deliveries SET status = 'cancelled', updated_at = $13
      WHERE webhook_id = $1 AND status = 'pending' AND EXISTS (SELECT 1 FROM updated WHERE NOT updated.is_active)
      RETURNING 1
    )
    SELECT *, (SELECT count(*) FROM cancelled) AS cancelled FROM updated`,
)

/**
 * Applies a validated patch. Deactivating a webhook cancels its pending deliveries in the same
 * statement; they can be retried by hand later.
 */
export async function webhookUpdate(
  sql: Sql,
  params: { id: number; actor: Actor; patch: Partial<WebhookInput>; now: Date },
): Promise<Webhook | null> {
  const { patch } = params
  const json = (value: unknown) => (value === undefined ? null : JSON.stringify(value))
  const values = bind({
    $1: params.id,
    $2: ownerScope(params.actor),
    $3: patch.eventType ?? null,
    $4: patch.targetUrl ?? null,
    $5: patch.secretKey !== undefined,
    $6: patch.secretKey ?? null,
    $7: patch.isActive ?? null,
    $8: json(patch.retryCountdownConfig),
    $9: patch.callback !== undefined,
    $10: patch.callback ?? null,
    $11: json(patch.additionalHeaders),
    $12: json(patch.config),
    $13: params.now,
    $14: json(patch.filters),
    $15: patch.filters === undefined ? null : conditionsJson(patch.filters),
    $16: patch.fields !== undefined,
    $17: patch.fields ?? null,
    $18: patch.sendTraceparent ?? null,
  })
  try {
    const { rows } = await sql.query(update, values)
    sql.cancelled(rows[0]?.cancelled as string | undefined)
    return rows[0] ? toWebhook(rows[0]) : null
  } catch (error) {
    throw duplicateWebhook(error)
  }
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
      RETURNING 1
    )
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
      RETURNING id, owner, event_type, target_url, failing_since
    ), cancelled AS (
      UPDATE ${s}.deliveries SET status = 'cancelled', updated_at = $2
      WHERE webhook_id IN (SELECT id FROM disabled) AND status = 'pending'
      RETURNING id
    ), ops AS (
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

const uniqueViolation = '23505'

function duplicateWebhook(error: unknown): unknown {
  if ((error as { code?: string }).code === uniqueViolation) {
    return new WhispererError(
      'webhook_already_registered',
      'Webhook already registered: this owner already has a webhook for this target_url and event_type',
      { cause: error },
    )
  }
  return error
}
