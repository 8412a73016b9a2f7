import { createHmac, timingSafeEqual } from 'node:crypto'

/** `X-Whisperer-Signature`: `sha256=` and the hex HMAC-SHA256 of the raw body, keyed by the secret's UTF-8 bytes. */
export function whispererSignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`
}

/**
 * Standard Webhooks `webhook-signature`: `v1,` and the base64 HMAC-SHA256 of `id.timestamp.body`,
 * keyed by the secret's UTF-8 bytes. A receiver verifies it with `new Webhook(base64(secret))`.
 */
export function standardSignature(secret: string, id: string, timestamp: number, body: string): string {
  return `v1,${createHmac('sha256', secret).update(`${id}.${timestamp}.${body}`).digest('base64')}`
}

export interface VerifyOptions {
  secret: string
  /** The raw request body, exactly as received. */
  body: string
  /** Request headers; names are matched case-insensitively. */
  headers: Record<string, string | string[] | undefined> | Headers
  /** Reject a `webhook-timestamp` further than this from `now` (seconds). @default 300 */
  toleranceSeconds?: number
  /**
   * Accept a request signed only with `X-Whisperer-Signature`, which carries no timestamp and so
   * cannot stop a replay (older dj-whisperer senders). @default false
   */
  allowUntimestamped?: boolean
  now?: Date
}

export type VerifyResult =
  | { ok: true; whisperer: boolean; standard: boolean }
  | { ok: false; reason: 'missing_signature' | 'bad_signature' | 'stale_timestamp' }

/**
 * Verifies a delivered request the way a receiver should: the timestamped Standard Webhooks
 * signature is required (unless `allowUntimestamped`), every signature header present must match,
 * and the timestamp must be recent. Comparisons are constant-time.
 */
export function verifySignature(options: VerifyOptions): VerifyResult {
  const header = (name: string): string | undefined => {
    if (options.headers instanceof Headers) return options.headers.get(name) ?? undefined
    const entry = Object.entries(options.headers).find(([key]) => key.toLowerCase() === name)
    const value = entry?.[1]
    return Array.isArray(value) ? value[0] : value
  }
  const legacy = header('x-whisperer-signature')
  const standard = header('webhook-signature')
  if (!standard && (!legacy || !options.allowUntimestamped)) return { ok: false, reason: 'missing_signature' }
  if (legacy && !safeEqual(legacy, whispererSignature(options.secret, options.body))) {
    return { ok: false, reason: 'bad_signature' }
  }
  if (standard) {
    const id = header('webhook-id') ?? ''
    const timestamp = Number(header('webhook-timestamp'))
    const now = (options.now ?? new Date()).getTime() / 1000
    if (!Number.isInteger(timestamp) || Math.abs(now - timestamp) > (options.toleranceSeconds ?? 300)) {
      return { ok: false, reason: 'stale_timestamp' }
    }
    const expected = standardSignature(options.secret, id, timestamp, options.body)
    const candidates = standard.split(' ')
    if (!candidates.some((candidate) => safeEqual(candidate, expected))) {
      return { ok: false, reason: 'bad_signature' }
    }
  }
  return { ok: true, whisperer: Boolean(legacy), standard: Boolean(standard) }
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a)
  const right = Buffer.from(b)
  return left.length === right.length && timingSafeEqual(left, right)
}
