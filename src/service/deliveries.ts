import type { Attempt, Delivery } from '../core/delivery.ts'
import { type DeliveryStatus, manualRetryRefusal } from '../core/delivery-state.ts'
import { type DeliveryStats, deliveryStats, type StatsWindow, statsSpan } from '../core/delivery-stats.ts'
import { WhispererError } from '../core/errors.ts'
import type { OperationalEvent } from '../core/operational-events.ts'
import type { ErrorKind } from '../core/outcome.ts'
import type { Webhook } from '../core/webhook.ts'
import type { AttemptContext, AttemptReport } from '../delivery/attempt.ts'
import { attemptNow } from '../delivery/attempt-now.ts'
import type { Recorder } from '../delivery/recorder.ts'
import type { DeliveryFilter, EventRouting, LaneState, ReplayFilter, Store } from '../storage/store.ts'
import { type ActorLike, toActor } from './actor.ts'

export type { EventRouting, RoutingReason, WebhookRouting } from '../storage/store.ts'

/** What one attempt made on request produced. */
export interface DeliveryOutcome {
  uuid: string
  webhookId: number
  /** Where the delivery is now, as stored. */
  status: DeliveryStatus
  delivered: boolean
  responseStatus: number | null
  responseBody: string | null
  errorKind: ErrorKind | null
  error: string | null
  durationMs: number
}

export type DeliveryListFilter = Omit<DeliveryFilter, 'actor' | 'limit'> & {
  /** @default 100 */
  limit?: number
}

const uuidPattern = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i

/** How a delivery is sent again by hand (see {@link DeliveryService.redeliver}). */
export interface RedeliverOptions {
  force: boolean
  mode: 'retry' | 'resend'
  async: boolean
  /** Refuse a delivery whose webhook is inactive (`webhook_inactive`). @default false */
  activeOnly?: boolean
}

/** Which deliveries a bulk replay sends again: failed ones by default. */
export type ReplayRequest = Omit<ReplayFilter, 'actor' | 'statuses'> & { statuses?: DeliveryStatus[] }

/** Reading deliveries and their attempts, and sending them again by hand, within one owner's scope. */
export class DeliveryService {
  readonly #store: Store
  readonly #context: AttemptContext
  readonly #recorder: Recorder
  readonly #leaseMs: number
  readonly #readTimeoutMs: number | undefined
  readonly #onRequeued: () => void

  constructor(options: {
    store: Store
    context: AttemptContext
    recorder: Recorder
    leaseMs: number
    /** The service's read timeout (ms): a webhook with a longer own timeout gets a longer lease. */
    readTimeoutMs?: number
    onRequeued: () => void
  }) {
    this.#store = options.store
    this.#context = options.context
    this.#recorder = options.recorder
    this.#leaseMs = options.leaseMs
    this.#readTimeoutMs = options.readTimeoutMs
    this.#onRequeued = options.onRequeued
  }

  /** A delivery by id or uuid (with or without dashes). */
  async get(actor: ActorLike, ref: number | string): Promise<Delivery> {
    const key = deliveryKey(ref)
    const delivery = key ? await this.#store.deliveryGet({ ...key, actor: toActor(actor) }) : null
    if (!delivery) throw new WhispererError('delivery_not_found', `Delivery ${ref} does not exist`)
    return delivery
  }

  /** Deliveries newest first. */
  async list(actor: ActorLike, filter: DeliveryListFilter = {}): Promise<Delivery[]> {
    if (filter.uuid !== undefined && !uuidPattern.test(filter.uuid)) return []
    return this.#store.deliveryList({ ...filter, actor: toActor(actor), limit: filter.limit ?? 100 })
  }

  /** The webhooks of these deliveries (deleted ones included), by id. */
  async webhooksOf(deliveries: Delivery[]): Promise<Map<number, Webhook>> {
    const webhooks = await this.#store.webhookGetMany({
      ids: [...new Set(deliveries.map((d) => d.webhookId))],
    })
    return new Map(webhooks.map((webhook) => [webhook.id, webhook]))
  }

  /** Each delivery's attempt times (newest first) and last response body, as dj-whisperer shows them. */
  summaries(
    deliveries: Delivery[],
  ): Promise<Map<number, { times: Date[]; lastResponseBody: string | null }>> {
    return this.#store.attemptSummaries({ deliveries })
  }

  /**
   * Bulk replay: sends again, through the queue, up to `limit` deliveries matching the filter
   * (failed ones by default). Returns how many were queued; call again while it returns `limit`.
   */
  async replay(actor: ActorLike, filter: ReplayRequest & { limit?: number } = {}): Promise<number> {
    const replayed = await this.#store.deliveryReplay({
      ...filter,
      actor: toActor(actor),
      statuses: filter.statuses ?? ['failed'],
      limit: filter.limit ?? 1000,
      now: this.#context.clock(),
    })
    if (replayed > 0) this.#onRequeued()
    return replayed
  }

  /** How many deliveries {@link replay} would send again with this filter (all of them, not one batch). */
  async replayCount(actor: ActorLike, filter: ReplayRequest = {}): Promise<number> {
    return this.#store.deliveryReplayCount({
      ...filter,
      actor: toActor(actor),
      statuses: filter.statuses ?? ['failed'],
    })
  }

  /**
   * Deliveries created over the last hour or day, per bucket and in all: what became of them, the
   * success rate and the time to deliver (median and 99th percentile).
   */
  async stats(actor: ActorLike, window: StatsWindow): Promise<DeliveryStats> {
    const span = statsSpan(window, this.#context.clock())
    const rows = await this.#store.deliveryStats({ ...span, actor: toActor(actor) })
    return deliveryStats(window, span, rows)
  }

  /**
   * The latest operational events (`whisperer.webhook.disabled` and the like) about the actor's
   * webhooks, or every owner's for an admin, newest first; delivered to a webhook or not.
   */
  operationalEvents(
    actor: ActorLike,
    options: { type?: string; before?: Date; limit?: number } = {},
  ): Promise<OperationalEvent[]> {
    return this.#store.operationalEventList({ actor: toActor(actor), ...options, limit: options.limit ?? 20 })
  }

  /**
   * Why an event did or did not reach each webhook of its type in the actor's scope: its delivery,
   * or the reasons, evaluated against each webhook as it is now. An event that matched no webhook
   * is not stored: it is `event_not_found`, as is an unknown uuid.
   */
  async routing(
    actor: ActorLike,
    eventUuid: string,
    options: { webhookId?: number } = {},
  ): Promise<EventRouting> {
    const routing = uuidPattern.test(eventUuid)
      ? await this.#store.eventRouting({ eventUuid, actor: toActor(actor), ...options })
      : null
    if (!routing) {
      throw new WhispererError(
        'event_not_found',
        `Event ${eventUuid} is not stored: an event that matched no webhook is not stored (its publish answered event_uuid: null)`,
      )
    }
    return routing
  }

  /**
   * Lanes of ordered deliveries that wait for a manual retry or resend of their failed head (their
   * webhook's `orderingOnFailure` is `block`), longest blocked first; of the actor's webhooks, or
   * of every owner's for an admin.
   */
  blockedLanes(actor: ActorLike, options: { limit?: number } = {}): Promise<LaneState[]> {
    const scoped = toActor(actor)
    return this.#store.lanesBlocked({
      owner: scoped.admin ? null : scoped.owner,
      limit: options.limit ?? 100,
    })
  }

  /** Every attempt of a delivery, oldest first. */
  async attempts(actor: ActorLike, ref: number | string): Promise<Attempt[]> {
    const delivery = await this.get(actor, ref)
    return this.#store.attemptList({ deliveryId: delivery.id, since: delivery.createdAt })
  }

  /**
   * dj-whisperer's manual retry: one attempt now, whose outcome is returned and recorded like any
   * other. Refused for a delivered delivery, and for one still in its retry schedule unless forced.
   */
  async retry(
    actor: ActorLike,
    ref: number | string,
    options: { force?: boolean } = {},
  ): Promise<DeliveryOutcome> {
    const outcome = await this.redeliver(actor, ref, {
      force: options.force ?? false,
      mode: 'retry',
      async: false,
    })
    return outcome!
  }

  /**
   * Sends a delivered, failed, cancelled or pending delivery again as a new attempt of it: the same
   * body and `webhook-id`, so a receiver can de-duplicate, and the next attempt number. Attempted now
   * and its outcome returned, or with `async: true` queued (due now) and `null` returned. Refused
   * while it is being attempted (`delivery_in_flight`), and when its webhook was deleted
   * (`webhook_not_found`) or is inactive (`webhook_inactive`).
   */
  async resend(
    actor: ActorLike,
    ref: number | string,
    options: { async?: boolean } = {},
  ): Promise<DeliveryOutcome | null> {
    return this.redeliver(actor, ref, {
      force: true,
      mode: 'resend',
      async: options.async ?? false,
      activeOnly: true,
    })
  }

  /**
   * Sends a delivery again, now (`async: false`, returning the outcome) or through the queue. In
   * `resend` mode (`deliverEvent` with `eventUuid`) a delivered delivery is sent again when forced.
   * With `activeOnly`, a delivery whose webhook is inactive is refused.
   */
  async redeliver(
    actor: ActorLike,
    ref: number | string,
    options: RedeliverOptions,
  ): Promise<DeliveryOutcome | null> {
    const delivery = await this.get(actor, ref)
    await this.#refuseUnlessAllowed(delivery, options)
    const statuses: DeliveryStatus[] = ['failed', 'cancelled']
    if (options.mode === 'resend' || options.force) statuses.push('pending')
    if (options.mode === 'resend' && options.force) statuses.push('delivered')
    const now = this.#context.clock()
    if (options.async) {
      const requeued = await this.#store.deliveryRequeue({ id: delivery.id, statuses, now })
      if (!requeued) return this.#raced(actor, delivery, options)
      this.#onRequeued()
      return null
    }
    const claimed = await this.#store.deliveryClaimOne({
      id: delivery.id,
      statuses,
      now,
      leaseUntil: new Date(now.getTime() + this.#leaseMs),
      readTimeoutMs: this.#readTimeoutMs,
    })
    if (!claimed) return this.#raced(actor, delivery, options)
    const [attempted] = await attemptNow({
      deliveries: [claimed],
      context: this.#context,
      recorder: this.#recorder,
      store: this.#store,
      concurrency: 1,
    })
    // Held, not attempted: its webhook's secrets cannot be opened (the error names the key id).
    if (!attempted) throw claimed.webhook.secretsError!
    return toOutcome(attempted.report, attempted.status)
  }

  async #refuseUnlessAllowed(delivery: Delivery, options: RedeliverOptions): Promise<void> {
    const refusal = manualRetryRefusal(
      { status: delivery.status, inFlight: delivery.status === 'delivering' },
      options,
    )
    if (refusal) throw new WhispererError(refusal)
    if (delivery.ordering && !(await this.#laneAllows(delivery)))
      throw new WhispererError('delivery_out_of_order')
    const webhook = await this.#store.webhookGet({
      id: delivery.webhookId,
      actor: { owner: '', admin: true },
    })
    if (!webhook) {
      throw new WhispererError(
        'webhook_not_found',
        `Webhook ${delivery.webhookId} of this delivery was deleted`,
      )
    }
    if (options.activeOnly && !webhook.isActive) {
      const why = webhook.disabledReason ? `disabled by Whisperer (${webhook.disabledReason})` : 'deactivated'
      throw new WhispererError(
        'webhook_inactive',
        `Webhook ${webhook.id} of this delivery is ${why}: reactivate it to resend`,
      )
    }
  }

  /**
   * Whether an ordered delivery may be sent again by hand without overtaking its lane: when it is
   * its lane's head (the pending one due, or the failed one a blocked lane waits for), or when it
   * is finished and its lane idle (it then joins the lane at the back, with the next sequence).
   * Sending an old delivery while later ones of its key are unfinished would deliver an older state
   * after, or beside, a newer one: that is refused rather than reordered behind them, so that a
   * synchronous retry stays one attempt now, and its outcome is the caller's to see.
   */
  async #laneAllows(delivery: Delivery): Promise<boolean> {
    const lane = await this.#store.laneOf({ deliveryId: delivery.id })
    if (!lane) return true
    if (lane.blockedDeliveryId === delivery.id) return true
    if (delivery.status === 'pending') return delivery.nextAttemptAt !== null
    return delivery.status !== 'delivering' && lane.unfinished === 0
  }

  /** The delivery changed between the check and the claim: report why, as of now. */
  async #raced(actor: ActorLike, delivery: Delivery, options: RedeliverOptions): Promise<never> {
    const current = await this.get(actor, delivery.id)
    await this.#refuseUnlessAllowed(current, options)
    throw new WhispererError('delivery_in_flight')
  }
}

export function toOutcome(report: AttemptReport, status: DeliveryStatus): DeliveryOutcome {
  const { result, delivery } = report
  return {
    uuid: delivery.uuid,
    webhookId: delivery.webhook.id,
    status,
    delivered: status === 'delivered',
    responseStatus: result.kind === 'response' ? result.status : null,
    responseBody: result.kind === 'response' ? result.body : null,
    errorKind: report.completion.attempt.errorKind,
    error: result.kind === 'error' ? result.message : null,
    durationMs: result.durationMs,
  }
}

function deliveryKey(ref: number | string): { id: number } | { uuid: string } | null {
  if (typeof ref === 'number') return Number.isSafeInteger(ref) && ref > 0 ? { id: ref } : null
  if (/^\d+$/.test(ref))
    return Number.isSafeInteger(Number(ref)) && Number(ref) > 0 ? { id: Number(ref) } : null
  return uuidPattern.test(ref) ? { uuid: ref } : null
}
