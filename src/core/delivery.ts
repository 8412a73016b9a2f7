import type { DeliveryStatus } from './delivery-state.ts'
import type { Subject } from './event-types.ts'
import type { ErrorKind } from './outcome.ts'

/** One event for one webhook: the unit that is queued, attempted and retried. */
export interface Delivery {
  id: number
  /** Shared by every attempt; the body's `event.uuid` and the `webhook-id` header carry it (without dashes). */
  uuid: string
  webhookId: number
  eventUuid: string
  eventType: string
  status: DeliveryStatus
  /** Attempts made so far. */
  retryCount: number
  /** When the next attempt is due; null unless pending, and while it waits for its turn in its lane. */
  nextAttemptAt: Date | null
  /** An ordered delivery's lane key and sequence in it; null for an unordered one. */
  ordering: { key: string; sequence: number } | null
  lastStatus: number | null
  lastErrorKind: ErrorKind | null
  lastAttemptAt: Date | null
  lastDurationMs: number | null
  subject: Subject | null
  /** The exact body every attempt sends. */
  body: string
  createdAt: Date
  updatedAt: Date
}

/** One HTTP try of a delivery, as recorded. */
export interface Attempt {
  id: number
  deliveryId: number
  /** 1 for the first attempt. */
  attempt: number
  /** When the attempt started. */
  createdAt: Date
  durationMs: number
  status: number | null
  errorKind: ErrorKind | null
  error: string | null
  requestHeaders: Record<string, string>
  responseHeaders: Record<string, string> | null
  responseBody: string | null
  responseTruncated: boolean
  callbackError: string | null
}
