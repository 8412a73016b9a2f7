import { z } from 'zod'
import { deliveryStatuses } from '../core/delivery-state.ts'
import { errorCodeNames } from '../core/errors.ts'
import { operationalEventTypes } from '../core/operational-events.ts'
import { maxGraceSeconds, signatureSchemes } from '../core/signing-keys.ts'
import { unstorableIssues } from '../core/storable-value.ts'
import { webhookInputSchema } from '../core/webhook-input.ts'
import { scopes } from '../service/tokens.ts'
import { storableDate } from './context.ts'
import type { webhookWireNames } from './wire.ts'

/**
 * The wire schemas of the REST API. Request bodies come from the same field schemas that validate
 * webhooks in the library, renamed to snake_case; the OpenAPI document is generated from them.
 */

const fields = webhookInputSchema.shape

/** The library's webhook field schemas under their wire names ({@link webhookWireNames}). */
const webhookFields = {
  event_type: fields.eventType,
  event_types: fields.eventTypes,
  target_url: fields.targetUrl,
  secret_key: fields.secretKey,
  signature_scheme: fields.signatureScheme,
  is_active: fields.isActive,
  retry_countdown_config: fields.retryCountdownConfig,
  callback: fields.callback,
  additional_headers: fields.additionalHeaders,
  config: fields.config,
  filters: fields.filters,
  fields: fields.fields,
  send_traceparent: fields.sendTraceparent,
  rate_limit: fields.rateLimit,
  timeout: fields.timeout,
  ordering_on_failure: fields.orderingOnFailure,
} satisfies Record<(typeof webhookWireNames)[keyof typeof webhookWireNames], z.ZodType>

export const WebhookCreate = z.object(webhookFields).meta({
  id: 'WebhookCreate',
  description:
    'A webhook to create, or every field of one to replace (PUT). Give `event_type` or `event_types` (both only when `event_type` is the first entry).',
})

export const RotateSecret = z
  .object({
    secret_key: fields.secretKey.unwrap().unwrap().min(1, 'This field may not be blank.').optional(),
    grace_seconds: z
      .int()
      .min(0)
      .max(maxGraceSeconds)
      .describe(
        'How long the keys live now keep signing beside the new one, in seconds: 86400 by default, at most 7 days.',
      )
      .optional(),
    signature_scheme: fields.signatureScheme.describe('The new key’s scheme; the current one by default.'),
  })
  .meta({
    id: 'RotateSecret',
    description:
      'A new current key: the one given, or one generated (`whsec_…`, or an ed25519 key pair). The keys live now keep signing until the grace period ends.',
  })

export const WebhookPatch = z
  .object(webhookFields)
  .partial()
  .meta({ id: 'WebhookPatch', description: 'The fields of a webhook to change.' })

const timestamp = z.iso.datetime({ offset: true })

/**
 * Input that ends up in a SQL parameter is refused here when PostgreSQL could not take it (a NUL
 * character, a year outside 1–9999, JSON with an unpaired surrogate or nested too deeply), so that
 * it is a 400 naming the field rather than a 500.
 */
const sqlText = z.string().regex(/^[^\0]*$/, 'Null characters are not allowed.')
const instant = timestamp.refine(
  (value) => storableDate(new Date(value)),
  'Enter a date/time between the years 1 and 9999.',
)
const sqlJson = z.record(z.string(), z.unknown()).superRefine((value, ctx) => {
  for (const issue of unstorableIssues(value, '')) {
    ctx.addIssue({ code: 'custom', message: issue.message, path: [issue.path] })
  }
})

export const CountdownConfig = z
  .object({ choice: z.string(), kwargs: z.record(z.string(), z.unknown()) })
  .meta({ id: 'CountdownConfig' })

export const Webhook = z
  .object({
    id: z.int(),
    owner: z.string(),
    event_type: z.string().describe('The first of `event_types`.'),
    event_types: z.array(z.string()),
    target_url: z.string(),
    secret_key: z
      .string()
      .nullable()
      .describe(
        'Masked; shown once, in the response that set it (a create, a rotation, or an update that generated one). Null when unsigned. An `ed25519` private key is never shown.',
      ),
    signed: z.boolean().describe('Whether requests carry signatures (false after `secret_key: null`).'),
    signature_scheme: z.enum(signatureSchemes).nullable(),
    public_key: z
      .string()
      .nullable()
      .describe('`ed25519`: the public key (`whpk_…`) receivers verify with. It is not a secret.'),
    secret_rotated_at: timestamp.nullable().describe('When the keys last changed.'),
    previous_keys: z
      .array(
        z.object({
          signature_scheme: z.enum(signatureSchemes),
          public_key: z.string().nullable(),
          expires_at: timestamp,
        }),
      )
      .describe(
        'Earlier keys still signing during their grace period, newest first; never the keys themselves.',
      ),
    is_active: z.boolean(),
    retry_countdown_config: CountdownConfig,
    callback: z.string().nullable(),
    additional_headers: z.record(z.string(), z.string()),
    config: z.record(z.string(), z.unknown()).describe('Passwords and tokens in `auth` are masked.'),
    filters: fields.filters.unwrap(),
    fields: z.array(z.string()).nullable(),
    send_traceparent: z.boolean(),
    rate_limit: z
      .union([z.number(), z.literal('auto')])
      .nullable()
      .describe('Requests per second for all workers together, `"auto"`, or null for no limit.'),
    rate_limit_current: z
      .number()
      .nullable()
      .describe(
        'The rate allowed now, in requests per second, when one is in force: lowered after 429 or 503 answers, it grows back while answers succeed. Null when no limit is in force.',
      ),
    timeout: z.number().nullable().describe("The request timeout in seconds; null for the service's."),
    ordering_on_failure: z
      .enum(['skip', 'block'])
      .describe('What a lane of ordered deliveries does when its head fails for good.'),
    disabled_reason: z.string().nullable(),
    failing_since: timestamp.nullable(),
    created_date: timestamp,
    modified_date: timestamp,
  })
  .meta({ id: 'Webhook' })

export const HookEvent = z
  .object({
    id: z.int(),
    uuid: z.uuid(),
    event_uuid: z.uuid(),
    event_type: z.string(),
    status: z.enum(deliveryStatuses),
    delivered: z.boolean(),
    webhook: Webhook.nullable(),
    retry_count: z.int(),
    next_attempt_at: timestamp.nullable(),
    ordering_key: z.string().nullable().describe('The ordering key of its event; null when unordered.'),
    sequence: z
      .int()
      .nullable()
      .describe(
        'Its place in its lane (webhook and ordering key), from 1; sent as `X-Whisperer-Sequence`. A pending delivery with a null `next_attempt_at` waits for the ones before it.',
      ),
    request_payload: z.unknown().describe('The body every attempt sends.'),
    response_content: z.string().nullable(),
    response_http_status: z.int().nullable(),
    response_time: z.string().nullable().describe('Of the last attempt, as HH:MM:SS.ffffff.'),
    request_datetimes: z.array(timestamp).describe('Every attempt, newest first.'),
    last_error_kind: z.string().nullable(),
    object_id: z.string().nullable(),
    content_type: z.string().nullable(),
    created_date: timestamp,
    modified_date: timestamp,
  })
  .meta({
    id: 'HookEvent',
    description: 'A delivery: one event for one webhook (dj-whisperer: WebhookEvent).',
  })

export const Attempt = z
  .object({
    attempt: z.int(),
    created_date: timestamp,
    duration_ms: z.int(),
    response_http_status: z.int().nullable(),
    error_kind: z.string().nullable(),
    error: z.string().nullable(),
    request_headers: z.record(z.string(), z.string()),
    response_headers: z.record(z.string(), z.string()).nullable(),
    response_content: z.string().nullable(),
    response_truncated: z.boolean(),
    callback_error: z.string().nullable(),
  })
  .meta({ id: 'Attempt' })

export const EventQueueItem = z
  .object({
    id: z.int(),
    uuid: z.uuid(),
    hook_id: z.int(),
    event_type: z.string(),
    object_id: z.string().nullable(),
    created_date: timestamp,
    modified_date: timestamp,
  })
  .meta({ id: 'EventQueueItem', description: 'A delivery not attempted yet (dj-whisperer: EventQueue).' })

export const RetryBody = z
  .object({ force: z.boolean().optional() })
  .meta({ id: 'RetryRequest', description: 'force: retry even while the delivery is still in its schedule.' })

export const ResendBody = z.object({ async: z.boolean().optional() }).meta({
  id: 'ResendRequest',
  description: 'async: queue the delivery (202) instead of attempting it now.',
})

export const RetryResult = z
  .object({
    detail: z.string(),
    delivered: z.boolean(),
    status: z.enum(deliveryStatuses),
    response_status: z.int().nullable(),
    response_content: z.string().nullable(),
    response_time: z.string().describe('Seconds, as a decimal string.'),
    error: z.string().nullable(),
  })
  .meta({ id: 'RetryResult' })

export const ReplayBody = z
  .object({
    webhook: z.int().positive().optional(),
    event_type: sqlText.max(124).optional(),
    created_date__gte: instant.optional(),
    created_date__lt: instant.optional(),
    status: z
      .array(z.enum(['failed', 'cancelled', 'delivered']))
      .min(1)
      .optional(),
    limit: z.int().min(1).max(10_000).optional(),
    owner: sqlText.optional().describe('Admins only: one owner’s deliveries.'),
  })
  .meta({ id: 'ReplayRequest', description: 'Which deliveries to send again; failed ones by default.' })

export const ReplayResult = z
  .object({ replayed: z.int(), more: z.boolean().describe('Call again: the limit was reached.') })
  .meta({ id: 'ReplayResult' })

export const ReplayCountQuery = z.object({
  webhook: z.coerce.number().int().positive().optional(),
  event_type: sqlText.max(124).optional(),
  created_date__gte: instant.optional(),
  created_date__lt: instant.optional(),
  status: z
    .string()
    .transform((value) => value.split(','))
    .pipe(z.array(z.enum(['failed', 'cancelled', 'delivered'])))
    .optional()
    .describe('Comma-separated: failed, cancelled, delivered. Failed by default.'),
  owner: sqlText.optional().describe('Admins only: one owner’s deliveries.'),
})

export const ReplayCount = z
  .object({ count: z.int().describe('Deliveries a replay with this filter would send again, in all.') })
  .meta({ id: 'ReplayCount' })

export const StatsQuery = z.object({
  window: z.enum(['1h', '24h']).optional().describe('The last hour (by minute) or day (by 15 minutes).'),
  owner: sqlText.optional().describe('Admins only: one owner’s deliveries.'),
})

const operationalEventTypeNames = operationalEventTypes.map((t) => t.type) as [string, ...string[]]

export const OperationalEventQuery = z.object({
  type: z.enum(operationalEventTypeNames).optional().describe('Only events of this type.'),
  limit: z.coerce.number().int().min(1).max(100).optional().describe('How many, newest first. Default 20.'),
  owner: sqlText.optional().describe('Admins only: events about one owner’s webhooks.'),
})

export const OperationalEvent = z
  .object({
    uuid: z.string(),
    type: z.enum(operationalEventTypeNames),
    webhook_id: z.int().describe('The webhook the event is about.'),
    created_at: z.string(),
    data: z
      .record(z.string(), z.unknown())
      .describe('The delivered data, as the event type’s JSON Schema says.'),
  })
  .meta({ id: 'OperationalEvent' })

const statsCounts = {
  total: z.int(),
  delivered: z.int(),
  failed: z.int(),
  pending: z.int().describe('Still being attempted.'),
  cancelled: z.int(),
}

export const Stats = z
  .object({
    window: z.enum(['1h', '24h']),
    since: timestamp,
    until: timestamp,
    bucket_seconds: z.int(),
    buckets: z.array(
      z.object({
        start: timestamp,
        ...statsCounts,
        p50_ms: z.int().nullable(),
        p99_ms: z.int().nullable(),
      }),
    ),
    totals: z.object(statsCounts),
    success_rate: z
      .number()
      .nullable()
      .describe('Delivered among delivered and failed; null if none finished.'),
    per_minute: z.number(),
    time_to_deliver_ms: z
      .object({ p50: z.int().nullable(), p99: z.int().nullable() })
      .describe('From a delivery’s creation to the end of its successful attempt.'),
  })
  .meta({
    id: 'Stats',
    description: 'Deliveries created in the window, by bucket of time and by what became of them.',
  })

export const Countdowns = z
  .object({
    default: CountdownConfig,
    max_attempts: z.int().describe('Attempts a delivery gets before it is failed.'),
    countdowns: z.array(
      z.object({ choice: z.string(), kwargs_schema: z.unknown().describe('A JSON Schema of the kwargs.') }),
    ),
  })
  .meta({ id: 'Countdowns' })

export const ScheduleBody = z
  .object({ retry_countdown_config: fields.retryCountdownConfig.unwrap() })
  .meta({ id: 'ScheduleRequest' })

export const Schedule = z
  .object({
    retry_countdown_config: CountdownConfig.describe(
      'As it would be stored: kwargs parsed, defaults written.',
    ),
    max_attempts: z.int(),
    retries: z.array(
      z.object({
        attempt: z.int().describe('2 for the first retry.'),
        wait_seconds: z.number(),
        wait_min_seconds: z.number(),
        wait_max_seconds: z.number(),
        at_seconds: z.number().describe('After the first attempt.'),
        at_min_seconds: z.number(),
        at_max_seconds: z.number(),
      }),
    ),
  })
  .meta({
    id: 'Schedule',
    description:
      'When each retry would come. A countdown that draws at random is shown at its middle draw, with the least and the most.',
  })

export const Caller = z
  .object({
    owner: z.string(),
    admin: z.boolean(),
    scopes: z.array(z.enum(scopes)),
    portal: z
      .object({
        event_types: z.array(z.string()).nullable(),
        read_only: z.boolean(),
        expires_date: z.iso.datetime({ offset: true }),
      })
      .nullable()
      .describe(
        'For a portal session: its event types (null for every one), whether it is read-only, its expiry.',
      ),
  })
  .meta({ id: 'Caller' })

export const PingResult = z
  .object({
    delivered: z.boolean(),
    response_status: z.int().nullable(),
    response_content: z.string().nullable(),
    duration_ms: z.int(),
    error_kind: z.string().nullable(),
    error: z.string().nullable(),
  })
  .meta({ id: 'PingResult' })

export const PublishBody = z
  .object({
    event_type: z.string().min(1).max(124),
    data: z.unknown().describe('The event data; validated by the event type’s schema when it has one.'),
    config_filter: sqlJson.optional(),
    idempotency_key: sqlText
      .min(1)
      .max(255)
      .describe(
        'Makes the publish idempotent (or the `Idempotency-Key` header): a repeat within 24 h answers as the first publish did, with `idempotent_replay: true`, and stores nothing.',
      )
      .optional(),
    ordering_key: sqlText
      .min(1, 'This field may not be blank.')
      .max(255, 'Ensure this field has no more than 255 characters.')
      .describe(
        'Orders the event within its key (for example `order:42`): for each webhook, the deliveries of one key are attempted one at a time, in publish order (the order the publishes commit), and carry `X-Whisperer-Ordering-Key` and `X-Whisperer-Sequence`. Every webhook orders keyed events; events without a key are not ordered.',
      )
      .optional(),
  })
  .meta({ id: 'PublishRequest' })

export const PublishHeaders = z.object({
  'idempotency-key': sqlText
    .min(1, 'Idempotency-Key may not be blank.')
    .max(255)
    .describe('Makes the publish idempotent, as `idempotency_key` does.')
    .optional(),
})

export const PublishResult = z
  .object({
    event_uuid: z.uuid().nullable().describe('Null when no webhook is subscribed (nothing is stored).'),
    deliveries: z.array(z.object({ uuid: z.uuid(), webhook: z.int() })),
    idempotent_replay: z
      .boolean()
      .describe('True when an earlier publish of the same idempotency key answered: nothing was stored now.'),
  })
  .meta({ id: 'PublishResult' })

export const EventTypeBody = z
  .object({
    type: z.string().min(1).max(124),
    description: sqlText.max(1000).nullish(),
    json_schema: sqlJson.nullish(),
    fields: z.array(sqlText.min(1).max(200)).max(500).nullish(),
  })
  .meta({ id: 'EventTypeRequest' })

export const EventType = z
  .object({
    type: z.string(),
    description: z.string().nullable(),
    json_schema: z.unknown().nullable(),
    fields: z.array(z.string()).nullable(),
  })
  .meta({ id: 'EventType' })

/** An OpenAPI response whose body is JSON of `schema`. */
export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
})

export const ErrorBody = z
  .object({
    code: z.enum(errorCodeNames).describe('Stable: one of the catalogue (docs/errors.md).'),
    message: z.string(),
    errors: z
      .record(z.string(), z.array(z.string()))
      .optional()
      .describe('Per field, for validation errors.'),
  })
  .meta({ id: 'Error' })

export function page<T extends z.ZodType>(item: T, id: string) {
  return z
    .object({
      results: z.array(item),
      next: z.string().nullable().describe('The URL of the next page, or null.'),
    })
    .meta({ id })
}

const flag = z.enum(['true', 'false', '1', '0', 'True', 'False'])

export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).optional(),
  cursor: z.coerce.number().int().positive().optional(),
})

export const WebhookQuery = PageQuery.extend({
  event_type: sqlText.optional(),
  target_url: sqlText.optional(),
  is_active: flag.optional(),
  owner: sqlText.optional().describe('Admins only: one owner’s webhooks.'),
})

export const HookEventQuery = PageQuery.extend({
  event_type: sqlText.optional(),
  uuid: z.string().optional(),
  response_http_status: z.coerce.number().int().min(100).max(999).optional(),
  delivered: flag.optional(),
  status: z.enum(deliveryStatuses).optional(),
  webhook: z.coerce.number().int().positive().optional(),
  created_date: z.string().optional(),
  created_date__gt: z.string().optional(),
  created_date__gte: z.string().optional(),
  created_date__lt: z.string().optional(),
  created_date__lte: z.string().optional(),
  owner: sqlText.optional().describe('Admins only: one owner’s deliveries.'),
})

export const EventQueueQuery = PageQuery.extend({
  event_type: sqlText.optional(),
  owner: sqlText.optional(),
})

export const IdParam = z.object({ id: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER) })

const uuidPattern = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i

export const DeliveryRefParam = z.object({
  id: z
    .string()
    .refine((ref) => (/^\d+$/.test(ref) ? Number.isSafeInteger(Number(ref)) : uuidPattern.test(ref)))
    .describe('The delivery’s id or uuid.'),
})

export const TypeParam = z.object({ type: sqlText })

export function isTrue(value: string | undefined): boolean | undefined {
  return value === undefined ? undefined : ['true', '1', 'True'].includes(value)
}

export const EventUuidParam = z.object({ uuid: z.string().describe('The event’s uuid (from its publish).') })

export const RoutingQuery = z.object({
  webhook: z.coerce
    .number()
    .int()
    .positive()
    .max(Number.MAX_SAFE_INTEGER)
    .optional()
    .describe('Only this webhook, whatever its event types (`not_subscribed` when they do not match).'),
})

const RoutingReason = z
  .discriminatedUnion('code', [
    z.object({
      code: z.literal('not_subscribed'),
      event_types: z
        .array(z.string())
        .describe('The webhook’s event types, none of which matches the event’s.'),
    }),
    z.object({ code: z.literal('inactive'), disabled_reason: z.string().nullable() }),
    z.object({ code: z.literal('deleted'), deleted_at: timestamp }),
    z.object({
      code: z.literal('created_after'),
      created_at: timestamp.describe('After the publish: the webhook did not exist then.'),
    }),
    z.object({
      code: z.literal('config_filter'),
      key: z.string().describe('The config filter’s key (`a__b` is the config’s `a.b`).'),
      expected: z.unknown(),
      actual: z.unknown().describe('The webhook’s config value; null when it has none.'),
    }),
    z.object({
      code: z.literal('filter'),
      path: z.array(z.string()),
      op: z.string(),
      expected: z.unknown(),
      actual: z.unknown().describe('The value at `path` in the event’s data; null when it is missing.'),
    }),
  ])
  .meta({ id: 'RoutingReason', description: 'Why an event was not delivered to a webhook.' })

export const EventRouting = z
  .object({
    event_uuid: z.uuid(),
    event_type: z.string(),
    published_at: timestamp,
    config_filter: z.record(z.string(), z.unknown()).nullable(),
    webhooks: z.array(
      z.object({
        webhook: z.int(),
        owner: z.string(),
        target_url: z.string(),
        delivered: z.boolean().describe('Whether a delivery of the event to this webhook exists.'),
        delivery: z.object({ uuid: z.uuid(), status: z.enum(deliveryStatuses) }).nullable(),
        reasons: z.array(RoutingReason).describe('Why it was not delivered; empty when it was.'),
        evaluated: z
          .literal('now')
          .describe('The webhook’s state at publish time is not stored: it is evaluated as it is now.'),
        changed_since_publish: z
          .boolean()
          .describe(
            'Whether the webhook was changed after the publish, so the reasons may differ from then.',
          ),
      }),
    ),
  })
  .meta({
    id: 'EventRouting',
    description:
      'For every webhook of the event’s type (of the caller’s owner; every owner’s for an admin), whether the event was delivered to it and, if not, why.',
  })
