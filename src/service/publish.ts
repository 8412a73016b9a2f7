import { createHash, randomUUID } from 'node:crypto'
import type { Span } from '@opentelemetry/api'
import { WhispererError } from '../core/errors.ts'
import { pickFields } from '../core/filters.ts'
import { buildBody, type PayloadKey, toJson } from '../core/payload.ts'
import type { AttemptContext } from '../delivery/attempt.ts'
import { attemptNow } from '../delivery/attempt-now.ts'
import type { Recorder } from '../delivery/recorder.ts'
import type { Queryable } from '../storage/database.ts'
import type { ClaimedDelivery, EnqueuedDelivery, NewEvent, Store } from '../storage/store.ts'
import { inPublishSpan } from '../telemetry/tracing.ts'
import { type DeliveryOutcome, type DeliveryService, toOutcome } from './deliveries.ts'
import { type EventTypes, refuseReserved } from './event-types.ts'
import { GroupCommit } from './group-commit.ts'

export interface DeliverOptions {
  /** Queue the deliveries for the workers (true) or attempt them before returning (false). @default true */
  async?: boolean
  /** Send this existing delivery again (dj-whisperer's `event_uuid`) instead of a new event. */
  eventUuid?: string
  /** With `eventUuid`: send it even if it was delivered already. @default false */
  force?: boolean
  /** Only webhooks whose `config` has these values; `a__b` reaches into nested keys. */
  configFilter?: Record<string, unknown>
  /** The caller's transaction: the event and its deliveries commit or roll back with it. */
  tx?: Queryable
  /**
   * Makes the publish idempotent: a repeat of the key (by the same `idempotencyOwner`) while it
   * lives (`idempotencyTtl`) stores and sends nothing and returns the first publish's result, with
   * `idempotentReplay: true`; a repeat with other data is `idempotency_key_reused`. The key is
   * stored by the statement that stores the event. At most 255 characters.
   */
  idempotencyKey?: string
  /** Whose key it is: keys of different owners never meet. @default '' */
  idempotencyOwner?: string
  /**
   * Orders the event within its key (for example `order:42`), at most 255 characters: for each
   * webhook, the deliveries of one key are attempted one at a time, in publish order. Publish order
   * is the order the publishes commit: to control it, await each publish, or publish the events in
   * one transaction (`tx`), in order. With `async: false`, a delivery behind others of its key is
   * queued, not attempted (it has no outcome).
   */
  orderingKey?: string
}

export interface DeliverResult {
  /** The new event's uuid; null when re-sending, or when no webhook matched (nothing is stored then). */
  eventUuid: string | null
  deliveries: { uuid: string; webhookId: number }[]
  /** With `async: false`, what each delivery's attempt produced. */
  outcomes?: DeliveryOutcome[]
  /** True when an earlier publish of the same idempotency key answered: nothing was stored or sent now. */
  idempotentReplay?: boolean
}

export interface PublisherOptions {
  store: Store
  eventTypes: EventTypes
  deliveries: DeliveryService
  payloadKey: PayloadKey
  context: AttemptContext
  recorder: Recorder
  concurrency: number
  leaseMs: number
  /** The service's read timeout (ms): a webhook with a longer own timeout gets a longer lease. */
  readTimeoutMs?: number
  /** How long an idempotency key lives (ms). */
  idempotencyTtlMs: number
  /** Called after deliveries were queued outside a caller's transaction: wakes the local worker. */
  onEnqueued: () => void
  /**
   * This process's worker, when the deliveries published here may go straight to it, claimed in
   * the statement that inserts them (PGlite: no other process can claim them).
   */
  handOff?: { reserve: () => number; accept: (claimed: ClaimedDelivery[], reserved: number) => Promise<void> }
}

/** `deliverEvent`: turns an instance into an event and its deliveries, one per matching webhook. */
export class Publisher {
  readonly #o: PublisherOptions

  readonly #batch: GroupCommit<
    { event: NewEvent; configFilter: Record<string, unknown> | null },
    EnqueuedDelivery[]
  >

  constructor(options: PublisherOptions) {
    this.#o = options
    this.#batch = new GroupCommit(async (items) => {
      const now = options.context.clock()
      const handOff = options.handOff
      const room = handOff?.reserve() ?? 0
      let claimed: ClaimedDelivery[] = []
      try {
        const stored = await options.store.eventsInsert({
          events: items,
          now,
          ...(room > 0
            ? {
                lease: new Date(now.getTime() + options.leaseMs),
                claimLimit: room,
                readTimeoutMs: options.readTimeoutMs,
              }
            : {}),
        })
        claimed = stored.claimed
        let total = 0
        for (const list of stored.deliveries.values()) total += list.length
        // Those left pending are for the workers' claims.
        if (total > claimed.length) options.onEnqueued()
        return items.map(({ event }) => stored.deliveries.get(event.uuid) ?? [])
      } finally {
        handOff
          ?.accept(claimed, room)
          .catch((error) =>
            options.context.logger.error({ err: error }, 'handing deliveries to the worker failed'),
          )
      }
    }, 500)
  }

  /**
   * In a `whisperer.publish` span, whose trace context is stored with the event so that its
   * attempts, wherever and whenever they run, join its trace.
   */
  deliverEvent(instance: unknown, type: string, options: DeliverOptions = {}): Promise<DeliverResult> {
    return inPublishSpan(this.#o.context.tracer, type, (span, traceContext) =>
      this.#deliver(instance, type, options, span, traceContext),
    )
  }

  async #deliver(
    instance: unknown,
    type: string,
    options: DeliverOptions,
    span: Span,
    traceContext: string | null,
  ): Promise<DeliverResult> {
    const sync = options.async === false
    if (sync && options.tx) {
      throw new WhispererError(
        'invalid_options',
        'async: false cannot be combined with tx: the event would be sent before the transaction commits',
      )
    }
    refuseReserved(type)
    // A type declared elsewhere (another process, the API) is read before it is refused.
    await this.#o.eventTypes.ready(type, options.tx)
    const registry = this.#o.eventTypes.registry
    const definition = registry.get(type)
    if (options.eventUuid !== undefined) {
      span.setAttribute('whisperer.deliveries', 1)
      return this.#resend(type, options.eventUuid, options, sync)
    }

    const { dataJson, subject } = registry.serialize(type, instance)
    const event: NewEvent = {
      uuid: randomUUID(),
      type,
      dataJson,
      payloadKey: this.#o.payloadKey,
      subject,
      traceContext,
      orderingKey: options.orderingKey === undefined ? null : checkedOrderingKey(options.orderingKey),
    }
    const configFilter = options.configFilter ?? null
    const tx = options.tx
    const now = this.#o.context.clock()
    const lease = sync ? new Date(now.getTime() + this.#o.leaseMs) : undefined
    if (options.idempotencyKey !== undefined) {
      event.idempotency = {
        owner: options.idempotencyOwner ?? '',
        key: checkedKey(options.idempotencyKey),
        requestHash: requestHash(type, dataJson, configFilter),
        expiredBefore: new Date(now.getTime() - this.#o.idempotencyTtlMs),
      }
    }
    let deliveries: EnqueuedDelivery[]
    let claimed: ClaimedDelivery[] = []
    let batched = false
    if (definition.customizePayload) {
      const customize = definition.customizePayload
      const targets = await this.#o.store.webhookTargets({ tx, eventType: type, configFilter, dataJson })
      const bodies = targets.map(({ webhookId, fields }) => {
        const uuid = randomUUID()
        const data = fields ? toJson(pickFields(JSON.parse(dataJson), fields)) : dataJson
        const body = toJson(customize(JSON.parse(buildBody(type, uuid, event.payloadKey, data))))
        return { uuid, webhookId, body }
      })
      const stored = await this.#o.store.eventInsertBodies({
        tx,
        event,
        configFilter,
        bodies,
        now,
        lease,
        readTimeoutMs: this.#o.readTimeoutMs,
      })
      deliveries = stored.deliveries.get(event.uuid) ?? []
      claimed = stored.claimed
    } else if (!tx && !sync && !event.idempotency) {
      // Concurrent calls share one statement (a keyed publish has one of its own), which wakes
      // the workers itself.
      deliveries = await this.#batch.submit({ event, configFilter })
      batched = true
    } else {
      const stored = await this.#o.store.eventsInsert({
        tx,
        events: [{ event, configFilter }],
        now,
        lease,
        readTimeoutMs: this.#o.readTimeoutMs,
      })
      deliveries = stored.deliveries.get(event.uuid) ?? []
      claimed = stored.claimed
    }
    if (event.idempotency && deliveries.length === 0) {
      const replay = await this.#replay(event, tx)
      if (replay) {
        span.setAttribute('whisperer.idempotent_replay', true)
        return replay
      }
    }
    span.setAttribute('whisperer.deliveries', deliveries.length)
    // An event is stored only when it has deliveries.
    if (deliveries.length > 0) this.#o.context.metrics?.published(type, deliveries.length)
    const result: DeliverResult = { eventUuid: deliveries.length > 0 ? event.uuid : null, deliveries }
    if (!sync) {
      if (!tx && !batched && deliveries.length > 0) this.#o.onEnqueued()
      return result
    }
    // Deliveries to rate-limited webhooks were left pending, for the workers to send within the budget.
    if (claimed.length < deliveries.length) this.#o.onEnqueued()
    const attempted = await attemptNow({
      deliveries: claimed,
      context: this.#o.context,
      recorder: this.#o.recorder,
      store: this.#o.store,
      concurrency: this.#o.concurrency,
      instance,
    })
    return { ...result, outcomes: attempted.map(({ report, status }) => toOutcome(report, status)) }
  }

  /**
   * After a keyed publish stored no delivery: the earlier publish of the key when it was not this
   * one (its result, or `idempotency_key_reused` when it published other data); null when this
   * publish stored the key and matched no webhook.
   */
  async #replay(event: NewEvent, tx: Queryable | undefined): Promise<DeliverResult | null> {
    const { owner, key, requestHash } = event.idempotency!
    // The key was live when this publish found it, and maintenance deletes keys only an hour after
    // their lifetime: it is there.
    const stored = await this.#o.store.idempotencyKeyGet({ owner, key, tx })
    if (!stored || stored.eventUuid === event.uuid) return null
    if (stored.requestHash !== requestHash) {
      throw new WhispererError(
        'idempotency_key_reused',
        `The idempotency key "${key}" was used for a publish of other data; use a new key for a new event`,
      )
    }
    return {
      eventUuid: stored.deliveries.length > 0 ? stored.eventUuid : null,
      deliveries: stored.deliveries,
      idempotentReplay: true,
    }
  }

  async #resend(
    type: string,
    eventUuid: string,
    options: DeliverOptions,
    sync: boolean,
  ): Promise<DeliverResult> {
    const admin = { owner: '', admin: true }
    const delivery = await this.#o.deliveries.get(admin, eventUuid)
    if (delivery.eventType !== type) {
      throw new WhispererError(
        'invalid_options',
        `Delivery ${eventUuid} is of event type "${delivery.eventType}", not "${type}"`,
      )
    }
    const outcome = await this.#o.deliveries.redeliver(admin, delivery.id, {
      force: options.force ?? false,
      mode: 'resend',
      async: !sync,
    })
    const deliveries = [{ uuid: delivery.uuid, webhookId: delivery.webhookId }]
    return outcome ? { eventUuid: null, deliveries, outcomes: [outcome] } : { eventUuid: null, deliveries }
  }
}

/** An idempotency key as given, or `invalid_options` saying why it cannot be one. */
function checkedKey(key: unknown): string {
  if (typeof key !== 'string' || key.length === 0 || key.length > 255 || key.includes('\0')) {
    throw new WhispererError('invalid_options', 'idempotencyKey: expected 1 to 255 characters, without NUL')
  }
  return key
}

/** An ordering key as given, or `invalid_options` saying why it cannot be one. */
function checkedOrderingKey(key: unknown): string {
  if (typeof key !== 'string' || key.length === 0 || key.length > 255 || key.includes('\0')) {
    throw new WhispererError('invalid_options', 'orderingKey: expected 1 to 255 characters, without NUL')
  }
  return key
}

/** What a publish published, hashed: a repeat of its key must publish the same. */
function requestHash(type: string, dataJson: string, configFilter: Record<string, unknown> | null): string {
  return createHash('sha256')
    .update(JSON.stringify([type, dataJson, configFilter]))
    .digest('hex')
}
