import { z } from 'zod'
import type { CompiledAddressPolicy } from './address-policy.ts'
import { type FieldIssue, validationError } from './errors.ts'
import { compileFilters, type Filters } from './filters.ts'
import { maxRateLimit, minRateLimit, timeoutBounds } from './rate-limit.ts'
import { reservedHeaders } from './request.ts'
import { type CountdownConfig, type CountdownRegistry, defaultCountdownConfig } from './retry-countdown.ts'
import {
  defaultGraceSeconds,
  maxGraceSeconds,
  type SignatureScheme,
  secretKeyProblem,
  signatureSchemes,
} from './signing-keys.ts'
import { unstorableIssues } from './storable-value.ts'
import { targetUrlProblem } from './target-url.ts'
import { isTypePattern, maxEventTypes, typeMatches, typePatternProblem } from './type-patterns.ts'
import type { WebhookInput } from './webhook.ts'
import { issuesFromZod } from './zod-issues.ts'

/** What webhook validation checks names against. */
export interface WebhookValidationContext {
  hasEventType: (type: string) => boolean
  /** Every registered event type's name, which patterns are matched against. */
  eventTypeNames: () => readonly string[]
  hasCallback: (name: string) => boolean
  /** The fields an event type exposes (filters and `fields` may name only these); null for any. */
  fieldsOf?: (type: string) => readonly string[] | null
  countdowns: CountdownRegistry
  addressPolicy: CompiledAddressPolicy
}

const headerName = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
const headerValue = /^[^\r\n\0]*$/

const headersSchema = z
  .record(z.string(), z.string().max(4096).regex(headerValue, 'Header values must not contain line breaks.'))
  .refine((headers) => Object.keys(headers).length <= 50, 'At most 50 headers are allowed.')

const text = (max: number) => z.string().min(1, 'This field may not be blank.').max(max)

const authSchema = z.discriminatedUnion('auth_type', [
  z.object({ auth_type: z.literal('basic'), username: z.string().max(256), password: z.string().max(256) }),
  z.object({ auth_type: z.literal('bearer'), token: text(4096) }),
  z.object({
    auth_type: z.literal('token'),
    url: text(2048),
    username: z.string().max(256),
    password: z.string().max(256),
    username_field: text(128).optional(),
    password_field: text(128).optional(),
    token_key: text(128).optional(),
    header_format: text(256).includes('{}', { message: 'Must contain {} where the token goes.' }).optional(),
  }),
])

/** The fields of a webhook input and what each accepts; cross-field rules are in {@link parseWebhookInput}. */
export const webhookInputSchema = z.object({
  eventType: text(124)
    .describe(
      'The one-type spelling of `event_types` (dj-whisperer’s): setting it sets `event_types` to this one type; read back, it is the first entry.',
    )
    .optional(),
  eventTypes: z
    .array(text(124))
    .describe(
      'The event types delivered: each a registered type, a pattern such as `order.*` (every type beginning `order.`), or `*` (every type but the operational `whisperer.` ones, which are delivered only when named, or matched by a pattern beginning `whisperer.`).',
    )
    .min(1, 'Name at least one event type.')
    .max(maxEventTypes, `At most ${maxEventTypes} event types are allowed.`)
    .refine((types) => new Set(types).size === types.length, 'Event types must not repeat.')
    .optional(),
  targetUrl: text(2048),
  secretKey: z
    .string()
    .max(256)
    .describe(
      'The signing secret: any string, or a Standard Webhooks `whsec_` key (base64 of 24 to 64 bytes); `whsk_` and a 32-byte seed for `ed25519`. Left out on create, a `whsec_` secret is generated; null means unsigned.',
    )
    .nullish(),
  signatureScheme: z
    .enum(signatureSchemes)
    .describe(
      '`hmac-sha256` (Standard Webhooks `v1`, with a shared secret) or `ed25519` (`v1a`: receivers verify with the public key).',
    )
    .optional(),
  isActive: z.boolean().optional(),
  retryCountdownConfig: z
    .object({ choice: text(64), kwargs: z.record(z.string(), z.unknown()).default({}) })
    .optional(),
  callback: z.string().max(64).nullish(),
  additionalHeaders: headersSchema.optional(),
  config: z.record(z.string(), z.unknown()).optional(),
  filters: z
    .record(z.string(), z.unknown())
    .describe(
      'Match filters on the event data (durian): `{"field": value}` for equality, or operators `any`, `is`, `startswith`, `endswith`, `contains`, `like` (a regular expression): `{"name": {"startswith": "J"}}`. Nested objects and dotted paths reach into the data; every condition must match.',
    )
    .optional(),
  fields: z
    .array(text(200))
    .describe('The top-level fields of the event data to deliver; null for all that the event type exposes.')
    .min(1, 'Name at least one field, or null for all.')
    .max(200)
    .refine((names) => new Set(names).size === names.length, 'Fields must not repeat.')
    .nullish(),
  sendTraceparent: z
    .boolean()
    .describe(
      'Send a W3C `traceparent` header with each delivered request, so that the receiver joins the trace of the attempt.',
    )
    .optional(),
  rateLimit: z
    .union(
      [
        z
          .number()
          .min(minRateLimit, `Must be at least ${minRateLimit} requests per second, or "auto", or null.`)
          .max(maxRateLimit, `Must be at most ${maxRateLimit} requests per second.`),
        z.literal('auto'),
      ],
      { error: 'Expected a number of requests per second, "auto", or null.' },
    )
    .describe(
      'Requests per second to this webhook, for all workers together; `"auto"` finds the rate by additive increase and multiplicative decrease; null for no limit. Deliveries held back by it wait in the queue: they are not attempts. A 429 or 503 answer halves the rate in force (and starts limiting a webhook without one) until answers succeed again.',
    )
    .nullish(),
  timeout: z
    .number()
    .min(timeoutBounds.min, `Must be at least ${timeoutBounds.min} second.`)
    .max(timeoutBounds.max, `Must be at most ${timeoutBounds.max} seconds.`)
    .describe(
      "The request timeout of this webhook in seconds (1 to 60), instead of the service's read timeout; null for the service's.",
    )
    .nullish(),
  orderingOnFailure: z
    .enum(['skip', 'block'], { error: 'Expected "skip" or "block".' })
    .describe(
      'What a lane of ordered deliveries (those of one ordering key) does when its head fails for good: `skip` moves on to the next one (the failed delivery stays failed and visible); `block` waits until it is retried or resent by hand.',
    )
    .optional(),
})

/** A whole webhook input, validated: every field set, except the secret (left out: generated on create, kept on replace). */
export type ParsedWebhookInput = Required<Omit<WebhookInput, 'secretKey' | 'signatureScheme' | 'eventType'>> &
  Pick<WebhookInput, 'secretKey' | 'signatureScheme'>

/** On update: the stored webhook's values, which the changed fields are checked against. */
export interface StoredWebhookFields {
  eventTypes: string[]
  signatureScheme?: SignatureScheme | null
  filters: Filters
  fields: string[] | null
}

/**
 * Validates a webhook for create (`partial: false`) or update (`partial: true`) and returns it
 * normalized; every failing field is reported at once, in one validation error.
 */
export function parseWebhookInput(
  input: unknown,
  context: WebhookValidationContext,
  options: { partial: true; current?: StoredWebhookFields },
): Partial<WebhookInput>
export function parseWebhookInput(
  input: unknown,
  context: WebhookValidationContext,
  options?: { partial?: false; signatureScheme?: SignatureScheme | null },
): ParsedWebhookInput
export function parseWebhookInput(
  input: unknown,
  context: WebhookValidationContext,
  options: {
    partial?: boolean
    current?: StoredWebhookFields
    signatureScheme?: SignatureScheme | null
  } = {},
): Partial<WebhookInput> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw validationError([{ path: '', message: 'Expected an object.' }])
  }
  // Each field on its own, so that every failing field is reported, whatever else fails.
  const raw = input as Record<string, unknown>
  const issues: FieldIssue[] = []
  const value: Record<string, unknown> = {}
  for (const [field, schema] of Object.entries(webhookInputSchema.shape)) {
    if (options.partial && raw[field] === undefined) continue
    // One of the two spellings of the event types is required on create: the one-type one is named.
    if (
      field === 'eventType' &&
      raw.eventType === undefined &&
      raw.eventTypes === undefined &&
      !options.partial
    ) {
      issues.push({ path: 'eventType', message: 'This field is required.' })
      continue
    }
    const parsed = (schema as z.ZodType).safeParse(raw[field])
    if (parsed.success) {
      if (parsed.data !== undefined) value[field] = parsed.data
    } else issues.push(...issuesFromZod(parsed.error, field))
  }
  const result = value as Partial<WebhookInput>
  // What PostgreSQL could not store (NUL, an unpaired surrogate, deep nesting) is refused here, not when stored.
  for (const [field, fieldValue] of Object.entries(value)) {
    const unstorable = unstorableIssues(fieldValue, field)
    if (unstorable.length > 0) {
      issues.push(...unstorable)
      delete value[field]
    }
  }

  issues.push(...eventTypeIssues(result, context))
  if (result.targetUrl !== undefined) {
    const problem = targetUrlProblem(result.targetUrl, context.addressPolicy)
    if (problem) issues.push({ path: 'targetUrl', message: problem })
  }
  if (result.secretKey !== undefined) result.secretKey = result.secretKey || null
  if (result.secretKey) {
    const scheme =
      result.signatureScheme ?? options.current?.signatureScheme ?? options.signatureScheme ?? 'hmac-sha256'
    const problem = secretKeyProblem(result.secretKey, scheme)
    if (problem) issues.push({ path: 'secretKey', message: problem })
  }
  if (result.callback !== undefined) {
    result.callback = result.callback || null
    if (result.callback && !context.hasCallback(result.callback)) {
      issues.push({ path: 'callback', message: `"${result.callback}" is not a registered callback.` })
    }
  }
  if (result.retryCountdownConfig !== undefined) {
    const checked = context.countdowns.validate(result.retryCountdownConfig, 'retryCountdownConfig')
    if ('issues' in checked) issues.push(...checked.issues)
    else result.retryCountdownConfig = checked.config
  }
  for (const name of Object.keys(result.additionalHeaders ?? {})) {
    if (!headerName.test(name)) {
      issues.push({
        path: `additionalHeaders.${name}`,
        message: "Header names may contain only letters, digits and !#$%&'*+.^_`|~-.",
      })
    } else if (reservedHeaders.has(name.toLowerCase())) {
      issues.push({
        path: `additionalHeaders.${name}`,
        message: `"${name}" is set by Whisperer and cannot be overridden.`,
      })
    }
  }
  if (result.config?.auth !== undefined && result.config.auth !== null) {
    const auth = authSchema.safeParse(result.config.auth)
    if (!auth.success) issues.push(...issuesFromZod(auth.error, 'config.auth'))
    else if (auth.data.auth_type === 'token') {
      const problem = targetUrlProblem(auth.data.url, context.addressPolicy)
      if (problem) issues.push({ path: 'config.auth.url', message: problem })
    }
  }
  issues.push(...selectionIssues(result, context, options.current))
  if (issues.length > 0) throw validationError(issues)

  delete result.eventType
  if (options.partial) return result
  return {
    eventTypes: result.eventTypes!,
    targetUrl: result.targetUrl!,
    ...(result.secretKey !== undefined ? { secretKey: result.secretKey } : {}),
    ...(result.signatureScheme !== undefined ? { signatureScheme: result.signatureScheme } : {}),
    isActive: result.isActive ?? true,
    retryCountdownConfig: result.retryCountdownConfig ?? (defaultCountdownConfig satisfies CountdownConfig),
    callback: result.callback ?? null,
    additionalHeaders: result.additionalHeaders ?? {},
    config: result.config ?? {},
    filters: result.filters ?? {},
    fields: result.fields ?? null,
    sendTraceparent: result.sendTraceparent ?? false,
    rateLimit: result.rateLimit ?? null,
    timeout: result.timeout ?? null,
    orderingOnFailure: result.orderingOnFailure ?? 'skip',
  }
}

/**
 * Settles `eventTypes` from either spelling (`eventType` is the one-type one; given both, it must
 * be the first entry) and checks each entry: a registered type, or a pattern matching at least one.
 * An entry's issue is named as the caller spelled it.
 */
function eventTypeIssues(result: Partial<WebhookInput>, context: WebhookValidationContext): FieldIssue[] {
  const { eventType, eventTypes } = result
  if (eventType === undefined && eventTypes === undefined) return []
  if (eventType !== undefined && eventTypes !== undefined && eventTypes[0] !== eventType) {
    return [{ path: 'eventType', message: 'Must be the first entry of event_types, or be left out.' }]
  }
  const entries = eventTypes ?? [eventType!]
  const named = (i: number) => (eventTypes ? `eventTypes.${i}` : 'eventType')
  const issues: FieldIssue[] = []
  const names = entries.some(isTypePattern) ? context.eventTypeNames() : []
  entries.forEach((entry, i) => {
    if (!isTypePattern(entry)) {
      if (!context.hasEventType(entry))
        issues.push({ path: named(i), message: `"${entry}" is not a valid choice.` })
      return
    }
    const problem = typePatternProblem(entry)
    if (problem) issues.push({ path: named(i), message: problem })
    else if (!names.some((type) => typeMatches(entry, type))) {
      issues.push({ path: named(i), message: `"${entry}" matches no registered event type.` })
    }
  })
  result.eventTypes = entries
  return issues
}

/** The registered types a webhook's entries match. */
function matchedTypes(entries: readonly string[], context: WebhookValidationContext): string[] {
  if (!entries.some(isTypePattern)) return entries.filter((entry) => context.hasEventType(entry))
  return context.eventTypeNames().filter((type) => entries.some((entry) => typeMatches(entry, type)))
}

/**
 * Checks `filters` and `fields` against the fields the matched event types expose (any of them:
 * an event of a type without the field does not match a filter on it). On update they are
 * checked together with the stored values the update keeps, so that changing the event types
 * cannot leave filters on fields the new types do not have.
 */
function selectionIssues(
  input: Partial<WebhookInput>,
  context: WebhookValidationContext,
  current: StoredWebhookFields | undefined,
): FieldIssue[] {
  const touched = input.eventTypes !== undefined || input.filters !== undefined || input.fields !== undefined
  if (!touched) return []
  const types = matchedTypes(input.eventTypes ?? current?.eventTypes ?? [], context)
  if (types.length === 0) return []
  const each = types.map((type) => context.fieldsOf?.(type) ?? null)
  const exposed = each.includes(null) ? null : [...new Set(each.flatMap((fields) => fields ?? []))]
  const issues = compileFilters(input.filters ?? current?.filters ?? {}, { fields: exposed }).issues
  const fields = input.fields !== undefined ? input.fields : current?.fields
  const described = types.length === 1 ? `event type "${types[0]}"` : 'any of its event types'
  for (const name of fields ?? []) {
    if (exposed && !exposed.includes(name)) {
      issues.push({ path: 'fields', message: `"${name}" is not a field of ${described}.` })
    }
  }
  return issues
}

/** What a rotation takes: the new secret (generated when left out), how long the old keys keep signing, and the scheme. */
export interface RotateSecretOptions {
  /** The new secret; left out, one is generated (`whsec_…`, or an ed25519 key pair). */
  secretKey?: string
  /** How long the keys live now keep signing beside the new one. @default 86400 (at most 7 days) */
  graceSeconds?: number
  /** The new key's scheme. @default the webhook's current scheme, or `hmac-sha256` */
  signatureScheme?: SignatureScheme
}

const rotationSchema = z.object({
  secretKey: z.string().min(1, 'This field may not be blank.').max(256).optional(),
  graceSeconds: z
    .number()
    .int('Expected a whole number of seconds.')
    .min(0, 'Must be 0 or more.')
    .max(maxGraceSeconds, `Must be at most ${maxGraceSeconds} (7 days).`)
    .optional(),
  signatureScheme: z.enum(signatureSchemes).optional(),
})

/** Validates a rotation against the webhook's current scheme; every failing field is named. */
export function parseRotation(
  input: unknown,
  current: SignatureScheme | null,
): { secretKey: string | undefined; graceSeconds: number; signatureScheme: SignatureScheme } {
  const parsed = rotationSchema.safeParse(input ?? {})
  if (!parsed.success) throw validationError(issuesFromZod(parsed.error))
  // What PostgreSQL could not store (an unpaired surrogate, NUL) is refused here, not when stored.
  const unstorable = unstorableIssues(parsed.data.secretKey, 'secretKey')
  if (unstorable.length > 0) throw validationError(unstorable)
  const scheme = parsed.data.signatureScheme ?? current ?? 'hmac-sha256'
  const problem = parsed.data.secretKey ? secretKeyProblem(parsed.data.secretKey, scheme) : null
  if (problem) throw validationError([{ path: 'secretKey', message: problem }])
  return {
    secretKey: parsed.data.secretKey,
    graceSeconds: parsed.data.graceSeconds ?? defaultGraceSeconds,
    signatureScheme: scheme,
  }
}
