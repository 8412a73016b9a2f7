import { validationError, WhispererError } from '../core/errors.ts'
import { compileFilters, type Filters } from '../core/filters.ts'
import type { AttemptResult } from '../core/outcome.ts'
import { newSigningKey, type SigningKey } from '../core/signing-keys.ts'
import type { Actor, Webhook, WebhookInput, WebhookWithSecret } from '../core/webhook.ts'
import {
  parseRotation,
  parseWebhookInput,
  type RotateSecretOptions,
  type WebhookValidationContext,
} from '../core/webhook-input.ts'
import type { Store } from '../storage/store.ts'
import { type ActorLike, toActor } from './actor.ts'

/** An updated webhook; with the new HMAC secret when the update generated one (a new scheme without a secret). */
export type Updated = Webhook & { secretKey?: string | null }

export interface WebhookListFilter {
  /** Webhooks that receive this event type (named, or matched by a pattern). */
  eventType?: string
  targetUrl?: string
  isActive?: boolean
  /** @default 100 */
  limit?: number
  /** Keyset pagination: webhooks with a greater id. */
  afterId?: number
}

/** Creating, reading, changing and deleting webhooks, always within one owner's scope. */
export class WebhookService {
  readonly #store: Store
  readonly #validation: WebhookValidationContext
  readonly #clock: () => Date

  readonly #ping: (webhook: Webhook) => Promise<AttemptResult>
  readonly #freshEventType: (types: readonly string[] | undefined) => Promise<void>

  constructor(options: {
    store: Store
    validation: WebhookValidationContext
    clock: () => Date
    ping: (webhook: Webhook) => Promise<AttemptResult>
    /** Makes the validation agree with the stored event types these names and patterns may mean. */
    freshEventType: (types: readonly string[] | undefined) => Promise<void>
  }) {
    this.#store = options.store
    this.#validation = options.validation
    this.#clock = options.clock
    this.#ping = options.ping
    this.#freshEventType = options.freshEventType
  }

  /** Sends a signed test ping (event type `whisperer.ping`) to a webhook now; nothing is stored. */
  async ping(actor: ActorLike, id: number): Promise<AttemptResult> {
    return this.#ping(await this.get(actor, id))
  }

  /**
   * Validates webhook input as `create` (or, with `partial`, `update`) would, without storing it:
   * throws a validation error naming every failing field.
   */
  async check(input: unknown, options: { partial?: boolean } = {}): Promise<void> {
    await this.#freshEventType(eventTypesOf(input))
    if (options.partial) parseWebhookInput(input, this.#validation, { partial: true })
    else parseWebhookInput(input, this.#validation)
  }

  /**
   * Validates and stores a webhook; one whose event types overlap those of another of the owner's
   * webhooks for the same target URL is `webhook_already_registered`. Without `secretKey`, a
   * `whsec_` secret (or, with `ed25519`, a key pair) is generated; the result shows the HMAC secret
   * this once. `secretKey: null` is unsigned.
   */
  async create(actor: ActorLike, input: unknown): Promise<WebhookWithSecret> {
    await this.#freshEventType(eventTypesOf(input))
    const parsed = parseWebhookInput(input, this.#validation)
    assertEventTypesInScope(toActor(actor), parsed.eventTypes)
    await this.#checkPatterns(parsed.filters)
    const now = this.#clock()
    const key =
      parsed.secretKey === null
        ? null
        : newSigningKey(parsed.signatureScheme ?? 'hmac-sha256', parsed.secretKey, now)
    const webhook = await this.#store.webhookInsert({
      owner: toActor(actor).owner,
      input: parsed,
      keys: key ? [key] : [],
      now,
    })
    return withSecret(webhook, key)
  }

  /**
   * Makes a new key the webhook's current one (given, or generated); the keys live now keep
   * signing beside it for `graceSeconds` (a day by default), so receivers can switch without a
   * failed verification. The result shows the new HMAC secret this once.
   */
  async rotateSecret(
    actor: ActorLike,
    id: number,
    options: RotateSecretOptions = {},
  ): Promise<WebhookWithSecret> {
    const current = await this.get(actor, id)
    const rotation = parseRotation(options, current.signatureScheme)
    const now = this.#clock()
    const key = newSigningKey(rotation.signatureScheme, rotation.secretKey, now)
    const webhook = await this.#store.webhookRotateSecret({
      id,
      actor: toActor(actor),
      key,
      graceUntil: new Date(now.getTime() + rotation.graceSeconds * 1000),
      now,
    })
    if (!webhook) throw notFound(id)
    return withSecret(webhook, key)
  }

  async get(actor: ActorLike, id: number): Promise<Webhook> {
    const webhook = await this.#store.webhookGet({ id, actor: toActor(actor) })
    if (!webhook) throw notFound(id)
    return webhook
  }

  async list(actor: ActorLike, filter: WebhookListFilter = {}): Promise<Webhook[]> {
    return this.#store.webhookList({ actor: toActor(actor), ...filter, limit: filter.limit ?? 100 })
  }

  /**
   * Changes the fields given; deactivating cancels the webhook's pending deliveries. A new
   * `secretKey` (or `signatureScheme`) replaces the keys at once, with no grace period: use
   * {@link rotateSecret} for that. A generated secret is shown in the result this once.
   */
  async update(actor: ActorLike, id: number, patch: unknown): Promise<Updated> {
    // Filters and fields are checked against the event type the webhook will have, and a secret against its scheme.
    const touches = (
      ['eventType', 'eventTypes', 'filters', 'fields', 'secretKey', 'signatureScheme'] as const
    ).some(
      (field) =>
        typeof patch === 'object' &&
        patch !== null &&
        (patch as Record<string, unknown>)[field] !== undefined,
    )
    // An actor scoped to some event types changes only the webhooks it sees.
    const scoped = toActor(actor).eventTypes !== undefined
    const current = touches || scoped ? await this.get(actor, id) : undefined
    await this.#freshEventType(eventTypesOf(patch) ?? current?.eventTypes)
    const parsed = parseWebhookInput(patch, this.#validation, { partial: true, current })
    if (parsed.eventTypes !== undefined) assertEventTypesInScope(toActor(actor), parsed.eventTypes)
    await this.#checkPatterns(parsed.filters)
    return this.#save(actor, id, parsed, current)
  }

  /**
   * Replaces every field (HTTP PUT): omitted optional fields return to their defaults, except the
   * secret and its scheme, which stay unless given.
   */
  async replace(actor: ActorLike, id: number, input: unknown): Promise<Updated> {
    await this.#freshEventType(eventTypesOf(input))
    const current = await this.get(actor, id)
    const parsed = parseWebhookInput(input, this.#validation, { signatureScheme: current.signatureScheme })
    assertEventTypesInScope(toActor(actor), parsed.eventTypes)
    await this.#checkPatterns(parsed.filters)
    return this.#save(actor, id, parsed, current)
  }

  async #save(
    actor: ActorLike,
    id: number,
    input: Partial<WebhookInput>,
    current: Webhook | undefined,
  ): Promise<Updated> {
    const { secretKey, signatureScheme, ...patch } = input
    const now = this.#clock()
    const key = keysChange(secretKey, signatureScheme, current?.signatureScheme ?? null, now)
    const webhook = await this.#store.webhookUpdate({
      id,
      actor: toActor(actor),
      patch,
      ...(key !== undefined ? { keys: key ? [key] : [] } : {}),
      now,
    })
    if (!webhook) throw notFound(id)
    // Only a secret generated here is shown: one given is the caller's already.
    return key && secretKey === undefined ? withSecret(webhook, key) : webhook
  }

  /** Refuses `like` patterns that the database, which evaluates them, cannot compile. */
  async #checkPatterns(filters: Filters | undefined): Promise<void> {
    const likes = filters
      ? compileFilters(filters).conditions.filter((condition) => condition.op === 'like')
      : []
    if (likes.length === 0) return
    const problems = await this.#store.patternProblems(likes.map((condition) => String(condition.value)))
    const issues = likes
      .filter((condition) => problems.has(String(condition.value)))
      .map((condition) => ({
        path: `filters.${condition.path.join('.')}.like`,
        message: `PostgreSQL cannot use this regular expression: ${problems.get(String(condition.value))}.`,
      }))
    if (issues.length > 0) throw validationError(issues)
  }

  /** Deletes a webhook: history stays, pending deliveries are cancelled, and the same URL may subscribe again. */
  async delete(actor: ActorLike, id: number): Promise<void> {
    if (toActor(actor).eventTypes !== undefined) await this.get(actor, id)
    const deleted = await this.#store.webhookDelete({ id, actor: toActor(actor), now: this.#clock() })
    if (!deleted) throw notFound(id)
  }
}

/**
 * The key an update sets: undefined to keep the keys, null for unsigned, or a new key (given, or
 * generated when only the scheme changes).
 */
function keysChange(
  secretKey: string | null | undefined,
  scheme: WebhookInput['signatureScheme'],
  current: Webhook['signatureScheme'],
  now: Date,
): SigningKey | null | undefined {
  if (secretKey === null) return null
  if (secretKey !== undefined) return newSigningKey(scheme ?? current ?? 'hmac-sha256', secretKey, now)
  if (scheme !== undefined && scheme !== current) return newSigningKey(scheme, undefined, now)
  return undefined
}

/** A webhook with the HMAC secret of a key just set, to show once; null for none or for ed25519. */
function withSecret(webhook: Webhook, key: SigningKey | null): WebhookWithSecret {
  return { ...webhook, secretKey: key?.scheme === 'hmac-sha256' ? key.secret : null }
}

/** The event types an input names (either spelling), if it names any. */
function eventTypesOf(input: unknown): string[] | undefined {
  if (typeof input !== 'object' || input === null) return undefined
  const { eventType, eventTypes } = input as { eventType?: unknown; eventTypes?: unknown }
  const named = [eventType, ...(Array.isArray(eventTypes) ? eventTypes : [])].filter(
    (type): type is string => typeof type === 'string',
  )
  return named.length > 0 ? named : undefined
}

/**
 * Refuses event types outside the actor's scope (a portal session's event types), naming the
 * entry: each must be one of them, by name (a pattern could match types outside the scope).
 */
function assertEventTypesInScope(actor: Actor, eventTypes: readonly string[]): void {
  const scope = actor.eventTypes
  if (!scope) return
  const issues = eventTypes.flatMap((entry, i) =>
    scope.includes(entry)
      ? []
      : [
          {
            path: eventTypes.length === 1 ? 'eventType' : `eventTypes.${i}`,
            message: `This session may not subscribe to "${entry}".`,
          },
        ],
  )
  if (issues.length > 0) throw validationError(issues)
}

function notFound(id: number): WhispererError {
  return new WhispererError('webhook_not_found', `Webhook ${id} does not exist`)
}
