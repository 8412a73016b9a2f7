import type { DeliveryStatus } from '../../core/delivery-state.ts'
import type { Actor } from '../../core/webhook.ts'
import type { Sql } from './context.ts'
import { bind, eventTypeScope, ownerScope, statement } from './statement.ts'

/** Why an event was not delivered to a webhook, each with a stable code. */
export type RoutingReason =
  | { code: 'not_subscribed'; eventTypes: string[] }
  | { code: 'inactive'; disabledReason: string | null }
  | { code: 'deleted'; deletedAt: Date }
  | { code: 'created_after'; createdAt: Date }
  | { code: 'config_filter'; key: string; expected: unknown; actual: unknown }
  | { code: 'filter'; path: string[]; op: string; expected: unknown; actual: unknown }

/** One webhook subscribed to an event's type: whether it got the event and, if not, why. */
export interface WebhookRouting {
  webhookId: number
  owner: string
  targetUrl: string
  /** Its delivery of the event, when there is one. */
  delivery: { uuid: string; status: DeliveryStatus } | null
  /** Why it got no delivery, as the webhook is now (empty when delivered). */
  reasons: RoutingReason[]
  /** The webhook's state at publish time is not stored: it is evaluated as it is now. */
  evaluated: 'now'
  /** Whether it was changed after the event was published (so `reasons` may differ from then). */
  changedSincePublish: boolean
}

/** How an event was routed to the webhooks of its type (or to the one webhook asked about). */
export interface EventRouting {
  eventUuid: string
  eventType: string
  publishedAt: Date
  configFilter: Record<string, unknown> | null
  webhooks: WebhookRouting[]
}

// The event, then (one row each) every webhook of its type in the actor's scope and any webhook
// it was delivered to; or the one webhook asked for, whatever its types. The mismatched config
// keys and the failed conditions are evaluated here, each condition on its own by filters_match,
// the function the fan-out decides with.
const routing = statement(
  'eventRouting',
  (s) => `
  WITH e AS (
    SELECT id, uuid, type, ${s}.type_patterns(type) AS patterns, data::jsonb AS doc, config_filter, created_at
    FROM ${s}.events
    WHERE uuid = $1 AND ($3::text[] IS NULL OR type = ANY($3::text[]))
  )
  SELECT e.uuid::text AS event_uuid, e.type, e.config_filter, e.created_at AS published_at, w.id, w.owner, w.target_url, w.is_active,
    w.disabled_reason, w.deleted_at, w.created_at, w.updated_at > e.created_at AS changed,
    w.event_types, w.event_types && e.patterns AS subscribed,
    d.uuid::text AS delivery_uuid, d.status,
    (SELECT json_agg(json_build_object('key', f.key, 'expected', f.value,
        'actual', w.config #> string_to_array(f.key, '__')) ORDER BY f.key)
      FROM jsonb_each(e.config_filter) f
      WHERE w.config #> string_to_array(f.key, '__') IS DISTINCT FROM f.value) AS config_mismatches,
    (SELECT json_agg(json_build_object('path', c.condition -> 'path', 'op', c.condition ->> 'op',
        'expected', c.condition -> 'value',
        'actual', e.doc #> ARRAY(SELECT jsonb_array_elements_text(c.condition -> 'path')))
        ORDER BY c.n)
      FROM jsonb_array_elements(w.conditions) WITH ORDINALITY AS c(condition, n)
      WHERE NOT ${s}.filters_match(jsonb_build_array(c.condition), e.doc)) AS failed_conditions
  FROM e
  LEFT JOIN ${s}.webhooks w ON ($2::text IS NULL OR w.owner = $2) AND ($4::bigint IS NULL OR w.id = $4)
    AND (w.event_types && e.patterns
      OR w.id IN (SELECT webhook_id FROM ${s}.deliveries WHERE event_id = e.id)
      OR $4::bigint IS NOT NULL)
  LEFT JOIN ${s}.deliveries d ON d.event_id = e.id AND d.webhook_id = w.id
  ORDER BY w.id`,
)

/**
 * How the event was routed to the actor's webhooks (every owner's for an admin, only to those of
 * its type unless `webhookId` asks for one); null when no such event is stored.
 */
export async function eventRouting(
  sql: Sql,
  params: { eventUuid: string; actor: Actor; webhookId?: number },
): Promise<EventRouting | null> {
  const values = bind({
    $1: params.eventUuid,
    $2: ownerScope(params.actor),
    $3: eventTypeScope(params.actor),
    $4: params.webhookId ?? null,
  })
  const { rows } = await sql.query(routing, values)
  const first = rows[0]
  if (!first) return null
  const publishedAt = new Date(first.published_at as string | Date)
  return {
    eventUuid: String(first.event_uuid),
    eventType: String(first.type),
    publishedAt,
    configFilter: parsed(first.config_filter) as Record<string, unknown> | null,
    webhooks: rows.filter((row) => row.id !== null).map((row) => toWebhookRouting(row, publishedAt)),
  }
}

function toWebhookRouting(row: Record<string, unknown>, publishedAt: Date): WebhookRouting {
  const delivery = row.delivery_uuid
    ? { uuid: String(row.delivery_uuid), status: row.status as DeliveryStatus }
    : null
  return {
    webhookId: Number(row.id),
    owner: String(row.owner),
    targetUrl: String(row.target_url),
    delivery,
    reasons: delivery ? [] : reasonsOf(row, publishedAt),
    evaluated: 'now',
    changedSincePublish: row.changed === true,
  }
}

function reasonsOf(row: Record<string, unknown>, publishedAt: Date): RoutingReason[] {
  const reasons: RoutingReason[] = []
  if (row.subscribed !== true)
    reasons.push({ code: 'not_subscribed', eventTypes: row.event_types as string[] })
  // A deleted webhook is inactive too: it is said once, as deleted.
  if (row.deleted_at !== null)
    reasons.push({ code: 'deleted', deletedAt: new Date(row.deleted_at as string) })
  else if (row.is_active !== true) {
    reasons.push({ code: 'inactive', disabledReason: (row.disabled_reason as string | null) ?? null })
  }
  const createdAt = new Date(row.created_at as string)
  if (createdAt > publishedAt) reasons.push({ code: 'created_after', createdAt })
  const mismatches = (parsed(row.config_mismatches) ?? []) as {
    key: string
    expected: unknown
    actual: unknown
  }[]
  for (const m of mismatches) {
    reasons.push({ code: 'config_filter', key: m.key, expected: m.expected, actual: m.actual })
  }
  const failed = (parsed(row.failed_conditions) ?? []) as {
    path: string[]
    op: string
    expected: unknown
    actual: unknown
  }[]
  for (const c of failed) {
    reasons.push({ code: 'filter', path: c.path, op: c.op, expected: c.expected, actual: c.actual })
  }
  return reasons
}

/** A json value as the driver gives it: parsed by node-postgres and PGlite alike, or text. */
function parsed(value: unknown): unknown {
  return typeof value === 'string' ? JSON.parse(value) : (value ?? null)
}
