/** How many requests one caller may make: a steady rate and a burst. */
export interface RateLimit {
  /** @default 50 */
  requestsPerSecond: number
  /** @default 100 */
  burst: number
}

/**
 * A token bucket per caller, in memory: each request takes a token, tokens refill at the steady
 * rate up to the burst. Returns the seconds to wait when a caller is out of tokens.
 */
export class RateLimiter {
  readonly #limit: RateLimit
  readonly #buckets = new Map<string, { tokens: number; at: number }>()

  constructor(limit: RateLimit) {
    this.#limit = limit
  }

  /**
   * Takes a token for `key` for a request that arrived at `arrivedAt` (ms, `performance.now()`):
   * null if allowed, else the seconds until the next one. Requests are charged at their arrival, so
   * requests held up together (by a slow database) and charged late are charged as they came; one
   * charged after a later one gets no refill of its own, so a reordering is absorbed by the burst.
   */
  take(key: string, arrivedAt = performance.now()): number | null {
    const { requestsPerSecond, burst } = this.#limit
    const bucket = this.#buckets.get(key) ?? { tokens: burst, at: arrivedAt }
    const elapsed = Math.max(0, arrivedAt - bucket.at)
    bucket.tokens = Math.min(burst, bucket.tokens + (elapsed / 1000) * requestsPerSecond)
    bucket.at = Math.max(bucket.at, arrivedAt)
    if (this.#buckets.size > 100_000) this.#buckets.clear()
    this.#buckets.set(key, bucket)
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1
      return null
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / requestsPerSecond))
  }
}
