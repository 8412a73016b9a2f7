/**
 * Per-webhook rate limits: the bounds of what a subscriber may set, and the constants of the
 * adaptive rate (additive increase, multiplicative decrease), which the claim and the completion
 * statements apply in the database so that every worker shares one budget.
 */

/** The lowest rate limit a webhook may set, in requests per second (one every 10 s). */
export const minRateLimit = 0.1
/** The highest rate limit a webhook may set, in requests per second. */
export const maxRateLimit = 10_000
/** Where `rate_limit: "auto"` starts, in requests per second. */
export const autoStartRate = 10
/** What `rate_limit: "auto"` grows to at most, in requests per second. */
export const autoCeilingRate = 1_000
// Additive increase: while answers succeed, a rate grows by a twentieth of the rate it was last
// halved from (at least 1 request per second) each second, so that it recovers from halving in
// about ten seconds whatever its size; an `auto` rate climbs from its start by 1 per second.
/** The lowest rate a 429 or 503 can push a webhook down to, in requests per second. */
export const floorRate = 0.1
/** Multiplicative decrease happens at most once per this many ms (a burst of 429s halves once). */
export const decreaseIntervalMs = 1_000
/** A rate grows at most once per this many ms (or once per slot, when slots are further apart). */
export const growthIntervalMs = 1_000
/**
 * The share of a rate's slots that the claims must have handed out for it to grow: below it, the
 * workers did not use the rate (they could not keep up), so a higher one would be untried.
 */
export const bindingUse = 0.8
/** How far ahead a claim hands out send slots, in ms; later deliveries are held back in the queue. */
export const slotHorizonMs = 250
/** The longest a `Retry-After` from a 429 or 503 pauses a whole webhook, in ms. */
export const maxPauseMs = 60_000
/** The bounds of a webhook's own request timeout, in seconds. */
export const timeoutBounds = { min: 1, max: 60 } as const

/** Whether an answer asks the sender to slow down. */
export function isThrottle(status: number | null): boolean {
  return status === 429 || status === 503
}

/**
 * The longest one attempt to a webhook can take, in ms, given the service's (`attemptMaxMs`, made
 * of the connect timeout and twice the read timeout `readMs`, doubled for safety): a webhook's own
 * `timeout` (seconds) replaces the read timeout in it.
 */
export function webhookAttemptMaxMs(
  attemptMaxMs: number,
  readMs: number,
  webhookTimeoutSeconds: number | null,
): number {
  return webhookTimeoutSeconds === null
    ? attemptMaxMs
    : attemptMaxMs + 4 * (webhookTimeoutSeconds * 1000 - readMs)
}
