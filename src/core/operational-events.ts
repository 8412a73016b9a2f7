import type { EventTypeDefinition } from './event-types.ts'

/** The prefix of Whisperer's own event types: no other event type may start with it. */
export const operationalPrefix = 'whisperer.'

/** Whether an event type name is reserved for operational events. */
export function isOperationalType(type: string): boolean {
  return typeof type === 'string' && type.startsWith(operationalPrefix)
}

/** The operational events, by their name without the prefix (as `whisperer.on` takes them). */
export const operationalEventNames = [
  'webhook.failing',
  'webhook.disabled',
  'webhook.recovered',
  'delivery.exhausted',
  'lane.blocked',
] as const
export type OperationalEventName = (typeof operationalEventNames)[number]

/** One operational event as it was stored (and delivered): its data is the payload's snake_case data. */
export interface OperationalEvent {
  uuid: string
  /** The full event type, such as `whisperer.webhook.disabled`. */
  type: `whisperer.${OperationalEventName}`
  /** The id of the webhook it is about. */
  webhookId: number
  data: Record<string, unknown>
  createdAt: Date
}

const webhookSchema = {
  type: 'object',
  description: 'The webhook the event is about.',
  properties: {
    id: { type: 'integer' },
    owner: { type: 'string' },
    event_type: { type: 'string', description: 'The first of its event types.' },
    event_types: { type: 'array', items: { type: 'string' } },
    target_url: { type: 'string' },
  },
  required: ['id', 'owner', 'event_type', 'event_types', 'target_url'],
}

const attemptSchema = {
  type: 'object',
  description: 'The attempt that caused the event.',
  properties: {
    delivery_uuid: { type: 'string' },
    at: { type: 'string', format: 'date-time' },
    status: { type: ['integer', 'null'], description: 'The HTTP status answered; null when none was.' },
    error_kind: {
      type: ['string', 'null'],
      enum: ['timeout', 'connect', 'dns', 'tls', 'blocked', 'http', null],
    },
  },
  required: ['delivery_uuid', 'at', 'status', 'error_kind'],
}

const timestamp = { type: 'string', format: 'date-time' }

/** A webhook's health changed: since when it has been failing, and the attempt that says so. */
const healthSchema = {
  type: 'object',
  properties: { webhook: webhookSchema, failing_since: timestamp, attempt: attemptSchema },
  required: ['webhook', 'failing_since', 'attempt'],
}

/** The built-in event types, with the JSON Schema of their data. */
export const operationalEventTypes: EventTypeDefinition<unknown>[] = [
  {
    type: 'whisperer.webhook.failing',
    description:
      'A webhook’s first failed attempt after a success (or since it was created), then at most once an hour while it keeps failing.',
    jsonSchema: healthSchema,
  },
  {
    type: 'whisperer.webhook.disabled',
    description:
      'Whisperer disabled a webhook: its target answered 410 Gone (`gone`), or it kept failing longer than allowed (`failing_too_long`).',
    jsonSchema: {
      type: 'object',
      properties: {
        webhook: webhookSchema,
        reason: { type: 'string', enum: ['gone', 'failing_too_long'] },
        failing_since: { type: ['string', 'null'], format: 'date-time' },
        attempt: { ...attemptSchema, type: ['object', 'null'] },
      },
      required: ['webhook', 'reason', 'failing_since', 'attempt'],
    },
  },
  {
    type: 'whisperer.webhook.recovered',
    description: 'A webhook that was failing answered with a success again.',
    jsonSchema: healthSchema,
  },
  {
    type: 'whisperer.delivery.exhausted',
    description:
      'A delivery failed after its last attempt: its retries ran out (`max_attempts`), its target answered 410 Gone (`gone`), or the address guard refused it (`blocked`).',
    jsonSchema: {
      type: 'object',
      properties: {
        webhook: webhookSchema,
        reason: { type: 'string', enum: ['max_attempts', 'gone', 'blocked'] },
        delivery: {
          type: 'object',
          properties: {
            uuid: { type: 'string' },
            event_type: { type: 'string' },
            attempts: { type: 'integer' },
            created_at: timestamp,
          },
          required: ['uuid', 'event_type', 'attempts', 'created_at'],
        },
        attempt: attemptSchema,
      },
      required: ['webhook', 'reason', 'delivery', 'attempt'],
    },
  },
  {
    type: 'whisperer.lane.blocked',
    description:
      'The head of an ordered lane (a webhook’s deliveries of one ordering key) failed for good, and the webhook’s `ordering_on_failure` is `block`: the lane waits until the delivery is retried or resent by hand.',
    jsonSchema: {
      type: 'object',
      properties: {
        webhook: webhookSchema,
        ordering_key: { type: 'string' },
        delivery: {
          type: 'object',
          properties: {
            uuid: { type: 'string' },
            event_type: { type: 'string' },
            sequence: { type: 'integer' },
            attempts: { type: 'integer' },
          },
          required: ['uuid', 'event_type', 'sequence', 'attempts'],
        },
        attempt: attemptSchema,
      },
      required: ['webhook', 'ordering_key', 'delivery', 'attempt'],
    },
  },
]
