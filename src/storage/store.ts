import type { Attempt, Delivery } from '../core/delivery.ts'
import type { DeliveryStatus } from '../core/delivery-state.ts'
import type { StatsRow } from '../core/delivery-stats.ts'
import type { KeyRing } from '../core/key-ring.ts'
import type { OperationalEvent } from '../core/operational-events.ts'
import type { Webhook } from '../core/webhook.ts'
import type { Database } from './database.ts'
import type {
  ApiTokenRow,
  AttemptSummary,
  ClaimedDelivery,
  ClaimedWebhook,
  PortalSessionRow,
  StoredEventType,
} from './rows.ts'
import * as attempts from './sql/attempts.ts'
import * as claimedWebhooks from './sql/claimed-webhooks.ts'
import * as completions from './sql/completions.ts'
import { Sql, type StoreObserver } from './sql/context.ts'
import * as deliveries from './sql/deliveries.ts'
import * as eventTypes from './sql/event-types.ts'
import type { Enqueued } from './sql/fan-out.ts'
import * as fanOut from './sql/fan-out.ts'
import * as idempotency from './sql/idempotency.ts'
import * as lanes from './sql/lanes.ts'
import * as metrics from './sql/metrics.ts'
import * as operational from './sql/operational.ts'
import * as portalSessions from './sql/portal-sessions.ts'
import * as rates from './sql/rates.ts'
import * as replay from './sql/replay.ts'
import * as retention from './sql/retention.ts'
import * as routing from './sql/routing.ts'
import * as secrets from './sql/secrets.ts'
import { statementTexts } from './sql/statement.ts'
import * as stats from './sql/stats.ts'
import * as tokens from './sql/tokens.ts'
import * as webhooks from './sql/webhooks.ts'

export type {
  ApiTokenRow,
  ClaimedDelivery,
  ClaimedWebhook,
  EnqueuedDelivery,
  PortalSessionRow,
  StoredEventType,
} from './rows.ts'
export type { Completed, Completion } from './sql/completions.ts'
export type { StoreObserver } from './sql/context.ts'
export type { DeliveryFilter } from './sql/deliveries.ts'
export type { IdempotencyKey, NewEvent } from './sql/fan-out.ts'
export type { StoredPublish } from './sql/idempotency.ts'
export type { Lane, LaneState } from './sql/lanes.ts'
export type { MetricsSnapshot } from './sql/metrics.ts'
export type { Emitted, OperationsOptions } from './sql/operational.ts'
export type { PortalSessionSecrets } from './sql/portal-sessions.ts'
export type { RateSignal } from './sql/rates.ts'
export type { ReplayFilter } from './sql/replay.ts'
export type { EventRouting, RoutingReason, WebhookRouting } from './sql/routing.ts'
export type { RewrapBatch } from './sql/secrets.ts'

/** The params object of a statement function. */
type Params<F> = F extends (sql: Sql, params: infer P) => unknown ? P : never

/**
 * All of Whisperer's SQL, on the one {@link Database} seam: a facade of NounVerb methods, each
 * taking one params object. Each statement and the values it binds are in `sql/`, one file per
 * entity; texts are built once per schema, and hot ones are prepared.
 */
export class Store {
  readonly db: Database
  readonly schema: string
  /** The NOTIFY channel that wakes workers when deliveries are due. */
  readonly channel: string
  readonly #sql: Sql

  /** `keys` seal secrets as they are written and open them as they are read; without, they are stored in clear. */
  constructor(db: Database, schema: string, options: { keys?: KeyRing } = {}) {
    this.#sql = new Sql(db, schema, options.keys)
    this.db = db
    this.schema = schema
    this.channel = this.#sql.channel
  }

  /** Tells `observer` of failed statements and of deliveries cancelled (for metrics). */
  observe(observer: StoreObserver): void {
    this.#sql.observer = observer
  }

  // Webhooks

  webhookInsert(params: Params<typeof webhooks.webhookInsert>): Promise<Webhook> {
    return webhooks.webhookInsert(this.#sql, params)
  }

  webhookGet(params: Params<typeof webhooks.webhookGet>): Promise<Webhook | null> {
    return webhooks.webhookGet(this.#sql, params)
  }

  webhookGetMany(params: Params<typeof webhooks.webhookGetMany>): Promise<Webhook[]> {
    return webhooks.webhookGetMany(this.#sql, params)
  }

  webhookList(params: Params<typeof webhooks.webhookList>): Promise<Webhook[]> {
    return webhooks.webhookList(this.#sql, params)
  }

  webhookUpdate(params: Params<typeof webhooks.webhookUpdate>): Promise<Webhook | null> {
    return webhooks.webhookUpdate(this.#sql, params)
  }

  webhookDelete(params: Params<typeof webhooks.webhookDelete>): Promise<boolean> {
    return webhooks.webhookDelete(this.#sql, params)
  }

  webhookRotateSecret(params: Params<typeof webhooks.webhookRotateSecret>): Promise<Webhook | null> {
    return webhooks.webhookRotateSecret(this.#sql, params)
  }

  webhookKeysExpire(params: Params<typeof webhooks.webhookKeysExpire>): Promise<number> {
    return webhooks.webhookKeysExpire(this.#sql, params)
  }

  webhookForSending(
    params: Params<typeof claimedWebhooks.webhookForSending>,
  ): Promise<ClaimedWebhook | null> {
    return claimedWebhooks.webhookForSending(this.#sql, params)
  }

  // Routing

  /** How a stored event was routed to the actor's webhooks; null when it is not stored. */
  eventRouting(params: Params<typeof routing.eventRouting>): Promise<routing.EventRouting | null> {
    return routing.eventRouting(this.#sql, params)
  }

  // Idempotency keys

  idempotencyKeyGet(
    params: Params<typeof idempotency.idempotencyKeyGet>,
  ): ReturnType<typeof idempotency.idempotencyKeyGet> {
    return idempotency.idempotencyKeyGet(this.#sql, params)
  }

  idempotencyKeysExpire(params: Params<typeof idempotency.idempotencyKeysExpire>): Promise<number> {
    return idempotency.idempotencyKeysExpire(this.#sql, params)
  }

  // Secrets

  /** Whether secrets are sealed as they are written. */
  get encrypting(): boolean {
    return this.#sql.keys.encrypting
  }

  secretsPending(): Promise<number> {
    return secrets.secretsPending(this.#sql)
  }

  secretsRewrap(params: Params<typeof secrets.secretsRewrap>): ReturnType<typeof secrets.secretsRewrap> {
    return secrets.secretsRewrap(this.#sql, params)
  }

  webhookDisableFailing(
    params: Params<typeof webhooks.webhookDisableFailing>,
  ): ReturnType<typeof webhooks.webhookDisableFailing> {
    return webhooks.webhookDisableFailing(this.#sql, params)
  }

  // Events, fanned out to deliveries

  eventsInsert(params: Params<typeof fanOut.eventsInsert>): Promise<Enqueued> {
    return fanOut.eventsInsert(this.#sql, params)
  }

  eventInsertBodies(params: Params<typeof fanOut.eventInsertBodies>): Promise<Enqueued> {
    return fanOut.eventInsertBodies(this.#sql, params)
  }

  webhookTargets(
    params: Params<typeof fanOut.webhookTargets>,
  ): Promise<{ webhookId: number; fields: string[] | null }[]> {
    return fanOut.webhookTargets(this.#sql, params)
  }

  patternProblems(patterns: Params<typeof fanOut.patternProblems>): Promise<Map<string, string>> {
    return fanOut.patternProblems(this.#sql, patterns)
  }

  // Deliveries

  deliveryClaim(params: Params<typeof deliveries.deliveryClaim>): Promise<ClaimedDelivery[]> {
    return deliveries.deliveryClaim(this.#sql, params)
  }

  deliveryClaimOne(params: Params<typeof deliveries.deliveryClaimOne>): Promise<ClaimedDelivery | null> {
    return deliveries.deliveryClaimOne(this.#sql, params)
  }

  deliveryRequeue(params: Params<typeof deliveries.deliveryRequeue>): Promise<boolean> {
    return deliveries.deliveryRequeue(this.#sql, params)
  }

  deliveryRelease(params: Params<typeof deliveries.deliveryRelease>): Promise<void> {
    return deliveries.deliveryRelease(this.#sql, params)
  }

  deliveryStatuses(params: Params<typeof deliveries.deliveryStatuses>): Promise<Map<number, DeliveryStatus>> {
    return deliveries.deliveryStatuses(this.#sql, params)
  }

  deliveryNextDue(): Promise<Date | null> {
    return deliveries.deliveryNextDue(this.#sql)
  }

  deliveryGet(params: Params<typeof deliveries.deliveryGet>): Promise<Delivery | null> {
    return deliveries.deliveryGet(this.#sql, params)
  }

  deliveryList(filter: Params<typeof deliveries.deliveryList>): Promise<Delivery[]> {
    return deliveries.deliveryList(this.#sql, filter)
  }

  deliveryComplete(params: Params<typeof completions.deliveryComplete>): Promise<completions.Completed> {
    return completions.deliveryComplete(this.#sql, params)
  }

  webhookRatesAdjust(params: Params<typeof rates.webhookRatesAdjust>): Promise<number> {
    return rates.webhookRatesAdjust(this.#sql, params)
  }

  webhookRateGet(params: Params<typeof rates.webhookRateGet>): ReturnType<typeof rates.webhookRateGet> {
    return rates.webhookRateGet(this.#sql, params)
  }

  operationalEventList(params: Params<typeof operational.operationalEventList>): Promise<OperationalEvent[]> {
    return operational.operationalEventList(this.#sql, params)
  }

  /** The lane of an ordered delivery (null for an unordered one). */
  laneOf(params: Params<typeof lanes.laneOf>): Promise<lanes.LaneState | null> {
    return lanes.laneOf(this.#sql, params)
  }

  /** Blocked lanes, longest blocked first. */
  lanesBlocked(params: Params<typeof lanes.lanesBlocked>): Promise<lanes.LaneState[]> {
    return lanes.lanesBlocked(this.#sql, params)
  }

  /** Releases the parked heads of the lanes given, or of every open lane. */
  lanesWake(params: Params<typeof lanes.lanesWake>): Promise<number> {
    return lanes.lanesWake(this.#sql, params)
  }

  deliveryReplay(params: Params<typeof replay.deliveryReplay>): Promise<number> {
    return replay.deliveryReplay(this.#sql, params)
  }

  deliveryReplayCount(params: Params<typeof replay.deliveryReplayCount>): Promise<number> {
    return replay.deliveryReplayCount(this.#sql, params)
  }

  deliveryStats(params: Params<typeof stats.deliveryStats>): Promise<StatsRow[]> {
    return stats.deliveryStats(this.#sql, params)
  }

  // Attempts

  attemptSummaries(params: Params<typeof attempts.attemptSummaries>): Promise<Map<number, AttemptSummary>> {
    return attempts.attemptSummaries(this.#sql, params)
  }

  attemptList(params: Params<typeof attempts.attemptList>): Promise<Attempt[]> {
    return attempts.attemptList(this.#sql, params)
  }

  attemptNoteCallbackError(params: Params<typeof attempts.attemptNoteCallbackError>): Promise<void> {
    return attempts.attemptNoteCallbackError(this.#sql, params)
  }

  attemptPartitionsEnsure(params: Params<typeof attempts.attemptPartitionsEnsure>): Promise<void> {
    return attempts.attemptPartitionsEnsure(this.#sql, params)
  }

  attemptPartitionsDrop(params: Params<typeof attempts.attemptPartitionsDrop>): Promise<string[]> {
    return attempts.attemptPartitionsDrop(this.#sql, params)
  }

  // API tokens and stored event types (the standalone service)

  tokenInsert(params: Params<typeof tokens.tokenInsert>): Promise<ApiTokenRow> {
    return tokens.tokenInsert(this.#sql, params)
  }

  tokenGet(params: Params<typeof tokens.tokenGet>): Promise<(ApiTokenRow & { secretHash: Buffer }) | null> {
    return tokens.tokenGet(this.#sql, params)
  }

  tokenList(): Promise<ApiTokenRow[]> {
    return tokens.tokenList(this.#sql)
  }

  tokenRevoke(params: Params<typeof tokens.tokenRevoke>): Promise<boolean> {
    return tokens.tokenRevoke(this.#sql, params)
  }

  tokenTouch(params: Params<typeof tokens.tokenTouch>): Promise<void> {
    return tokens.tokenTouch(this.#sql, params)
  }

  // Portal sessions

  portalSessionInsert(params: Params<typeof portalSessions.portalSessionInsert>): Promise<PortalSessionRow> {
    return portalSessions.portalSessionInsert(this.#sql, params)
  }

  portalSessionGet(
    params: Params<typeof portalSessions.portalSessionGet>,
  ): Promise<portalSessions.PortalSessionSecrets | null> {
    return portalSessions.portalSessionGet(this.#sql, params)
  }

  portalSessionExchange(
    params: Params<typeof portalSessions.portalSessionExchange>,
  ): Promise<PortalSessionRow | null> {
    return portalSessions.portalSessionExchange(this.#sql, params)
  }

  portalSessionRevoke(params: Params<typeof portalSessions.portalSessionRevoke>): Promise<boolean> {
    return portalSessions.portalSessionRevoke(this.#sql, params)
  }

  portalSessionsExpire(params: Params<typeof portalSessions.portalSessionsExpire>): Promise<number> {
    return portalSessions.portalSessionsExpire(this.#sql, params)
  }

  eventTypeUpsert(params: Params<typeof eventTypes.eventTypeUpsert>): Promise<void> {
    return eventTypes.eventTypeUpsert(this.#sql, params)
  }

  eventTypeList(params: Params<typeof eventTypes.eventTypeList> = {}): Promise<StoredEventType[]> {
    return eventTypes.eventTypeList(this.#sql, params)
  }

  eventTypeDelete(params: Params<typeof eventTypes.eventTypeDelete>): Promise<boolean> {
    return eventTypes.eventTypeDelete(this.#sql, params)
  }

  // Maintenance

  retentionDelete(params: Params<typeof retention.retentionDelete>): Promise<number> {
    return retention.retentionDelete(this.#sql, params)
  }

  vacuum(): Promise<void> {
    return retention.vacuum(this.#sql)
  }

  // Metrics and readiness

  metricsSnapshot(params: Params<typeof metrics.metricsSnapshot>): Promise<metrics.MetricsSnapshot> {
    return metrics.metricsSnapshot(this.#sql, params)
  }

  schemaVersionGet(): Promise<number | null> {
    return metrics.schemaVersionGet(this.#sql)
  }
}

/** Every statement of the store, by name, with its text for one schema (the bench counts by it). */
export function storeStatements(schema: string): Map<string, string> {
  return statementTexts(schema)
}
