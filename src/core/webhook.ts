import type { Filters } from './filters.ts'
import type { CountdownConfig } from './retry-countdown.ts'
import type { SignatureScheme } from './signing-keys.ts'

/** A subscription: one owner's URL for some event types. */
export interface Webhook {
  id: number
  owner: string
  /** The first of {@link eventTypes}: dj-whisperer's one-type spelling. */
  eventType: string
  /** Event types and patterns (`order.*`, `*`): see {@link WebhookInput.eventTypes}. */
  eventTypes: string[]
  targetUrl: string
  /** How requests are signed; null when they are not. The keys themselves are never read back. */
  signatureScheme: SignatureScheme | null
  /** `ed25519`: the current key's public key (`whpk_…`), with which receivers verify. */
  publicKey: string | null
  /** When the keys last changed: a rotation, or a new `secretKey`; null if never. */
  secretRotatedAt: Date | null
  /** Earlier keys that still sign during their grace period, newest first, with when each expires. */
  previousKeys: PreviousKey[]
  /** Only active webhooks receive new events. */
  isActive: boolean
  retryCountdownConfig: CountdownConfig
  /** The name of a registered callback, run after each attempt. */
  callback: string | null
  /** Sent with every request; never overrides the signature headers. */
  additionalHeaders: Record<string, string>
  /** `auth` drives authentication; other keys can be matched by `deliverEvent`'s `configFilter`. */
  config: Record<string, unknown>
  /** Durian's match filters on the event's data: only matching events are delivered ({@link Filters}). */
  filters: Filters
  /** The top-level fields of the data to deliver; null for all that the event type exposes. */
  fields: string[] | null
  /** Delivered requests carry a W3C `traceparent` header, the attempt's trace context. */
  sendTraceparent: boolean
  /**
   * Requests per second to this webhook, for all workers together: a number, `auto` (found by
   * additive increase and multiplicative decrease), or null for no limit.
   */
  rateLimit: RateLimit
  /** The rate allowed now (requests per second) when one is in force, lowered after 429 or 503 answers; null otherwise. */
  rateLimitCurrent: number | null
  /** The request timeout of this webhook in seconds, instead of the service's; null for the service's. */
  timeout: number | null
  /** What an ordered lane does when its head fails for good: move on (`skip`) or wait (`block`). */
  orderingOnFailure: OrderingOnFailure
  /** Why Whisperer disabled it: `gone` after a 410, `failing` after failing too long; null if it did not. */
  disabledReason: string | null
  /** Since when every attempt has failed; null after a success. */
  failingSince: Date | null
  createdAt: Date
  updatedAt: Date
}

/** An earlier key still live after a rotation. */
export interface PreviousKey {
  scheme: SignatureScheme
  /** `ed25519`: its public key. */
  publicKey: string | null
  expiresAt: Date
}

/** A webhook as created or rotated: with the new secret in clear, shown this once. */
export interface WebhookWithSecret extends Webhook {
  /**
   * The HMAC secret now signing (given, or generated as `whsec_…`); null when unsigned and for
   * `ed25519`, whose private key never leaves Whisperer (receivers use `publicKey`).
   */
  secretKey: string | null
}

/** The fields a subscriber sets when creating or updating a webhook. */
export interface WebhookInput {
  /** One event type: the same as `eventTypes: [eventType]` (given both, it must be the first entry). */
  eventType?: string
  /**
   * The event types delivered, at most 100: registered types, patterns such as `order.*` (every
   * type beginning `order.`), or `*` (every type but Whisperer's operational `whisperer.` ones,
   * delivered only when named or matched by a pattern beginning `whisperer.`). One of `eventType`
   * and `eventTypes` is required on create.
   */
  eventTypes?: string[]
  targetUrl: string
  /**
   * The signing secret: any string, or a Standard Webhooks `whsec_…` key (`whsk_…` for `ed25519`).
   * Left out on create, one is generated; null means unsigned.
   */
  secretKey?: string | null
  /** @default "hmac-sha256" */
  signatureScheme?: SignatureScheme
  isActive?: boolean
  /** @default {"choice":"exponential","kwargs":{"base":2,"factor":1}} */
  retryCountdownConfig?: CountdownConfig
  callback?: string | null
  additionalHeaders?: Record<string, string>
  config?: Record<string, unknown>
  filters?: Filters
  fields?: string[] | null
  /** Send a W3C `traceparent` header with each delivered request. @default false */
  sendTraceparent?: boolean
  /** Requests per second for all workers together, `auto`, or null for no limit. @default null */
  rateLimit?: RateLimit
  /** The request timeout in seconds (1 to 60), instead of the service's; null for the service's. @default null */
  timeout?: number | null
  /**
   * What an ordered lane (its deliveries of one ordering key) does when its head fails for good:
   * `skip` moves on, the failed delivery staying failed and visible; `block` waits for a manual
   * retry or resend of it. @default "skip"
   */
  orderingOnFailure?: OrderingOnFailure
}

/** What an ordered lane does when its head fails for good. */
export type OrderingOnFailure = 'skip' | 'block'

/** A webhook's rate limit: requests per second, `auto` (adaptive), or null (none). */
export type RateLimit = number | 'auto' | null

/** Who is asking: every webhook and delivery belongs to an owner; an admin sees all owners. */
export interface Actor {
  owner: string
  admin?: boolean
  /**
   * The only event types whose webhooks and deliveries it sees and may subscribe to (a portal
   * session's); every one when left out.
   */
  eventTypes?: readonly string[]
}
