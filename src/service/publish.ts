import { randomUUID } from 'node:crypto'
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
}

export interface DeliverResult {
  /** The new event's uuid; null when re-sending, or when no webhook matched (nothing is stored then). */
  eventUuid: string | null
  deliveries: { uuid: string; webhookId: number }[]
  /** With `async: false`, what each delivery's attempt produced. */
  outcomes?: DeliveryOutcome[]
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
  /** Called after deliveries were queued outside a caller's transaction: wakes the local worker. */
  onEnqueued: () => void
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
      const { deliveries } = await options.store.eventsInsert({ events: items, now: options.context.clock() })
      return items.map(({ event }) => deliveries.get(event.uuid) ?? [])
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
    }
    const configFilter = options.configFilter ?? null
    const tx = options.tx
    const now = this.#o.context.clock()
    const lease = sync ? new Date(now.getTime() + this.#o.leaseMs) : undefined
    let deliveries: EnqueuedDelivery[]
    let claimed: ClaimedDelivery[] = []
    if (definition.customizePayload) {
      const customize = definition.customizePayload
      const targets = await this.#o.store.webhookTargets({ tx, eventType: type, configFilter, dataJson })
      const bodies = targets.map(({ webhookId, fields }) => {
        const uuid = randomUUID()
        const data = fields ? toJson(pickFields(JSON.parse(dataJson), fields)) : dataJson
        const body = toJson(customize(JSON.parse(buildBody(type, uuid, event.payloadKey, data))))
        return { uuid, webhookId, body }
      })
      const stored = await this.#o.store.eventInsertBodies({ tx, event, configFilter, bodies, now, lease })
      deliveries = stored.deliveries.get(event.uuid) ?? []
      claimed = stored.claimed
    } else if (!tx && !sync) {
      // Concurrent calls share one statement.
      deliveries = await this.#batch.submit({ event, configFilter })
    } else {
      const stored = await this.#o.store.eventsInsert({ tx, events: [{ event, configFilter }], now, lease })
      deliveries = stored.deliveries.get(event.uuid) ?? []
      claimed = stored.claimed
    }
    span.setAttribute('whisperer.deliveries', deliveries.length)
    // An event is stored only when it has deliveries.
    if (deliveries.length > 0) this.#o.context.metrics?.published(type, deliveries.length)
    const result: DeliverResult = { eventUuid: deliveries.length > 0 ? event.uuid : null, deliveries }
    if (!sync) {
      if (!tx && deliveries.length > 0) this.#o.onEnqueued()
      return result
    }
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
