export type { Authenticate, PortalScope, Principal } from './api/auth.ts'
export type { Readiness } from './api/backend.ts'
export type { DashboardHandler, DashboardOptions } from './api/dashboard.ts'
export type { DashboardTheme } from './api/dashboard-theme.ts'
export type { ApiHandler, ApiOptions } from './api/handler.ts'
export type { RateLimit } from './api/rate-limit.ts'
export type { ResolvedConfig, WhispererOptions } from './config.ts'
export type { AddressPolicy } from './core/address-policy.ts'
export type { Callback, CallbackContext } from './core/callbacks.ts'
export type { Attempt, Delivery } from './core/delivery.ts'
export type { DeliveryStatus } from './core/delivery-state.ts'
export { type ErrorCode, errorCodes, type FieldIssue, WhispererError } from './core/errors.ts'
export type { EventTypeDefinition, Subject } from './core/event-types.ts'
export type { OperationalEvent, OperationalEventName } from './core/operational-events.ts'
export type { AttemptResult, ErrorKind } from './core/outcome.ts'
export type { DeliveryBody, PayloadKey } from './core/payload.ts'
export type { Countdown, CountdownConfig, CountdownDefinition } from './core/retry-countdown.ts'
export {
  standardSignature,
  type VerifyOptions,
  type VerifyResult,
  verifySignature,
  whispererSignature,
} from './core/signature.ts'
export type { Actor, Webhook, WebhookInput } from './core/webhook.ts'
export type { OperationalListener } from './delivery/operational-events.ts'
export type { Logger } from './logger.ts'
export {
  bindEmitter,
  type EmittedEvent,
  type EmitterBindingOptions,
  type EmitterLike,
} from './model-hooks/emitter.ts'
export type { DeliveryListFilter, DeliveryOutcome } from './service/deliveries.ts'
export type { DeclaredEventType, EventTypes } from './service/event-types.ts'
export type { CreatedPortalSession, PortalSession, PortalSessionRequest } from './service/portal.ts'
export type { DeliverOptions, DeliverResult } from './service/publish.ts'
export type { WebhookListFilter } from './service/webhooks.ts'
export type { Database, Queryable } from './storage/database.ts'
export { createWhisperer, version, Whisperer } from './whisperer.ts'
