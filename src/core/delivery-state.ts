import type { ErrorCode } from './errors.ts'
import type { AttemptOutcome } from './outcome.ts'

export const deliveryStatuses = ['pending', 'delivering', 'delivered', 'failed', 'cancelled'] as const
export type DeliveryStatus = (typeof deliveryStatuses)[number]

export interface RetryPolicy {
  /** Attempts a delivery gets before it is `failed`. */
  maxAttempts: number
  /** The longest wait a `Retry-After` header can impose (seconds). */
  retryAfterMaxSeconds: number
}

/** Where a delivery goes after an attempt. */
export interface Transition {
  status: 'delivered' | 'pending' | 'failed'
  /** Attempts made, this one included. */
  retryCount: number
  /** When the next attempt is due (pending); otherwise when this one finished. */
  nextAttemptAt: Date
  /** A 410 Gone: the webhook is disabled and its other pending deliveries cancelled. */
  disableWebhook: boolean
}

/**
 * The transition after an attempt. Retry `n` (0 = the first) waits `countdown(n)` seconds after the
 * attempt that failed, or longer when the receiver asked for it with `Retry-After`, up to the
 * policy's bound. After `maxAttempts` attempts the delivery is `failed`.
 */
export function nextTransition(params: {
  outcome: AttemptOutcome
  /** Attempts made before this one. */
  retryCount: number
  countdown: (retry: number) => number
  policy: RetryPolicy
  finishedAt: Date
}): Transition {
  const { outcome, policy, finishedAt } = params
  const retryCount = params.retryCount + 1
  if (outcome.kind === 'delivered') {
    return { status: 'delivered', retryCount, nextAttemptAt: finishedAt, disableWebhook: false }
  }
  if (outcome.kind === 'give-up' || retryCount >= policy.maxAttempts) {
    const disableWebhook = outcome.kind === 'give-up' && outcome.reason === 'gone'
    return { status: 'failed', retryCount, nextAttemptAt: finishedAt, disableWebhook }
  }
  const scheduled = params.countdown(retryCount - 1)
  const asked = Math.min(outcome.retryAfterSeconds ?? 0, policy.retryAfterMaxSeconds)
  const delayMs = Math.max(scheduled, asked) * 1000
  return {
    status: 'pending',
    retryCount,
    nextAttemptAt: new Date(finishedAt.getTime() + delayMs),
    disableWebhook: false,
  }
}

/**
 * Whether a delivery may be sent again by hand, following dj-whisperer: a delivered one is refused
 * (a re-send may override that with `force`), one still in its retry schedule is refused unless
 * forced, and one being attempted right now is always refused.
 */
export function manualRetryRefusal(
  delivery: { status: DeliveryStatus; inFlight: boolean },
  options: { force: boolean; mode: 'retry' | 'resend' },
): ErrorCode | null {
  if (delivery.inFlight) return 'delivery_in_flight'
  if (delivery.status === 'delivered') {
    return options.mode === 'resend' && options.force ? null : 'event_already_delivered'
  }
  if (delivery.status === 'pending' && options.mode === 'retry' && !options.force)
    return 'event_still_in_progress'
  return null
}
