/** Why an attempt got no usable answer. `http` is a response that was not a 2xx, or a broken one. */
export type ErrorKind = 'timeout' | 'connect' | 'dns' | 'tls' | 'blocked' | 'http'

/** What one HTTP try produced: a response (of any status) or a transport error. Never an exception. */
export type AttemptResult =
  | {
      kind: 'response'
      status: number
      headers: Record<string, string>
      /** The response body, cut at the configured cap. */
      body: string
      truncated: boolean
      durationMs: number
    }
  | { kind: 'error'; error: ErrorKind; message: string; durationMs: number }

/** What an attempt means for its delivery. */
export type AttemptOutcome =
  | { kind: 'delivered'; status: number }
  | { kind: 'retry'; errorKind: ErrorKind; status?: number; retryAfterSeconds?: number }
  | { kind: 'give-up'; reason: 'gone' | 'blocked'; errorKind: ErrorKind; status?: number }

/**
 * Classifies an attempt. Any 2xx is success. A 410 Gone gives up (and disables the webhook, as the
 * Standard Webhooks spec recommends); so does a target the address guard refuses. Everything else,
 * redirects included (they are never followed), is retried, after `Retry-After` when one is given.
 */
export function classifyAttempt(result: AttemptResult, now: Date): AttemptOutcome {
  if (result.kind === 'error') {
    return result.error === 'blocked'
      ? { kind: 'give-up', reason: 'blocked', errorKind: 'blocked' }
      : { kind: 'retry', errorKind: result.error }
  }
  const { status } = result
  if (status >= 200 && status < 300) return { kind: 'delivered', status }
  if (status === 410) return { kind: 'give-up', reason: 'gone', errorKind: 'http', status }
  const retryAfterSeconds = parseRetryAfter(result.headers['retry-after'], now)
  return retryAfterSeconds === undefined
    ? { kind: 'retry', errorKind: 'http', status }
    : { kind: 'retry', errorKind: 'http', status, retryAfterSeconds }
}

/** A `Retry-After` value (delta-seconds or an HTTP date) as seconds from `now`; undefined if absent or invalid. */
export function parseRetryAfter(value: string | undefined, now: Date): number | undefined {
  if (value === undefined) return undefined
  const trimmed = value.trim()
  if (/^\d+$/.test(trimmed)) return Number(trimmed)
  const date = Date.parse(trimmed)
  if (Number.isNaN(date) || !/[a-z]/i.test(trimmed)) return undefined
  return Math.max(0, Math.ceil((date - now.getTime()) / 1000))
}
