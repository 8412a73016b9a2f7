import type { CountdownRegistry } from '../core/retry-countdown.ts'
import type { Logger } from '../logger.ts'
import type { DeliveryService } from '../service/deliveries.ts'
import type { EventTypes } from '../service/event-types.ts'
import type { PortalService } from '../service/portal.ts'
import type { DeliverOptions, DeliverResult } from '../service/publish.ts'
import type { TokenService } from '../service/tokens.ts'
import type { WebhookService } from '../service/webhooks.ts'

/**
 * Whether a Whisperer can serve: the database answers and its migrations are current; and whether
 * secrets are stored encrypted or in clear.
 */
export type Readiness =
  | { ready: true; secrets: 'encrypted' | 'clear' }
  | { ready: false; reason: 'database_unavailable' | 'migrations_pending' }

/**
 * What the REST API needs of a Whisperer: its services, its countdowns, one setting and its
 * logger. The routes see nothing else (no storage, no delivery engine).
 */
export interface ApiBackend {
  readonly webhooks: Pick<
    WebhookService,
    'list' | 'get' | 'create' | 'update' | 'replace' | 'delete' | 'check' | 'ping' | 'rotateSecret'
  >
  readonly deliveries: Pick<
    DeliveryService,
    | 'list'
    | 'get'
    | 'attempts'
    | 'retry'
    | 'resend'
    | 'replay'
    | 'replayCount'
    | 'stats'
    | 'webhooksOf'
    | 'summaries'
    | 'operationalEvents'
    | 'routing'
  >
  readonly eventTypes: Pick<EventTypes, 'list' | 'declare' | 'remove'>
  readonly tokens: Pick<TokenService, 'list' | 'create' | 'revoke'>
  readonly portal: Pick<PortalService, 'createSession' | 'exchange' | 'verify' | 'revoke'>
  readonly countdowns: Pick<CountdownRegistry, 'list' | 'validate' | 'schedule'>
  readonly config: { readonly maxAttempts: number }
  readonly logger: Logger
  /** Whether the database answers and the schema's migrations are current (`health/ready/`). */
  ready(): Promise<Readiness>
  /** Publishes an event, as `POST events/` does. */
  deliverEvent(
    instance: unknown,
    type: string,
    options?: Pick<DeliverOptions, 'configFilter' | 'idempotencyKey' | 'idempotencyOwner'>,
  ): Promise<DeliverResult>
}
