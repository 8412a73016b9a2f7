import { validationError, WhispererError } from '../core/errors.ts'
import { compileFilters, type Filters } from '../core/filters.ts'
import type { AttemptResult } from '../core/outcome.ts'
import type { Webhook } from '../core/webhook.ts'
import { parseWebhookInput, type WebhookValidationContext } from '../core/webhook-input.ts'
import type { Store } from '../storage/store.ts'
import { type ActorLike, toActor } from './actor.ts'

export interface WebhookListFilter {
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
  readonly #freshEventType: (type: string | undefined) => Promise<void>

  constructor(options: {
    store: Store
    validation: WebhookValidationContext
    clock: () => Date
    ping: (webhook: Webhook) => Promise<AttemptResult>
    /** Makes the validation agree with the stored event types for this name (one declared elsewhere). */
    freshEventType: (type: string | undefined) => Promise<void>
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
    await this.#freshEventType(eventTypeOf(input))
    if (options.partial) parseWebhookInput(input, this.#validation, { partial: true })
    else parseWebhookInput(input, this.#validation)
  }

  /** Validates and stores a webhook; a duplicate (owner, target URL, event type) is `webhook_already_registered`. */
  async create(actor: ActorLike, input: unknown): Promise<Webhook> {
    await this.#freshEventType(eventTypeOf(input))
    const parsed = parseWebhookInput(input, this.#validation)
    await this.#checkPatterns(parsed.filters)
    return this.#store.webhookInsert({ owner: toActor(actor).owner, input: parsed, now: this.#clock() })
  }

  async get(actor: ActorLike, id: number): Promise<Webhook> {
    const webhook = await this.#store.webhookGet({ id, actor: toActor(actor) })
    if (!webhook) throw notFound(id)
    return webhook
  }

  async list(actor: ActorLike, filter: WebhookListFilter = {}): Promise<Webhook[]> {
    return this.#store.webhookList({ actor: toActor(actor), ...filter, limit: filter.limit ?? 100 })
  }

  /** Changes the fields given; deactivating cancels the webhook's pending deliveries. */
  async update(actor: ActorLike, id: number, patch: unknown): Promise<Webhook> {
    // Filters and fields are checked against the event type the webhook will have.
    const touches = (['eventType', 'filters', 'fields'] as const).some(
      (field) =>
        typeof patch === 'object' &&
        patch !== null &&
        (patch as Record<string, unknown>)[field] !== undefined,
    )
    const current = touches ? await this.get(actor, id) : undefined
    await this.#freshEventType(eventTypeOf(patch) ?? current?.eventType)
    const parsed = parseWebhookInput(patch, this.#validation, { partial: true, current })
    await this.#checkPatterns(parsed.filters)
    const webhook = await this.#store.webhookUpdate({
      id,
      actor: toActor(actor),
      patch: parsed,
      now: this.#clock(),
    })
    if (!webhook) throw notFound(id)
    return webhook
  }

  /** Replaces every field (HTTP PUT): omitted optional fields return to their defaults. */
  async replace(actor: ActorLike, id: number, input: unknown): Promise<Webhook> {
    await this.#freshEventType(eventTypeOf(input))
    const parsed = parseWebhookInput(input, this.#validation)
    await this.#checkPatterns(parsed.filters)
    const webhook = await this.#store.webhookUpdate({
      id,
      actor: toActor(actor),
      patch: parsed,
      now: this.#clock(),
    })
    if (!webhook) throw notFound(id)
    return webhook
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
    const deleted = await this.#store.webhookDelete({ id, actor: toActor(actor), now: this.#clock() })
    if (!deleted) throw notFound(id)
  }
}

/** The event type an input names, if it names one. */
function eventTypeOf(input: unknown): string | undefined {
  const type =
    typeof input === 'object' && input !== null ? (input as { eventType?: unknown }).eventType : undefined
  return typeof type === 'string' ? type : undefined
}

function notFound(id: number): WhispererError {
  return new WhispererError('webhook_not_found', `Webhook ${id} does not exist`)
}
