import { createHmac, type KeyObject, sign, timingSafeEqual, verify } from 'node:crypto'
import { ed25519PublicKey, hmacKeyBytes, type Signer } from './signing-keys.ts'

/**
 * `X-Whisperer-Signature`: `sha256=` and the hex HMAC-SHA256 of the raw body, keyed by the secret
 * string exactly as given (its UTF-8 bytes, `whsec_` and all), as dj-whisperer computes it.
 */
export function whispererSignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`
}

/**
 * Standard Webhooks `webhook-signature` for one HMAC secret: `v1,` and the base64 HMAC-SHA256 of
 * `id.timestamp.body`. The key of a `whsec_` secret is the bytes its base64 encodes, so a receiver
 * verifies with `new Webhook('whsec_…')`; any other secret's key is its UTF-8 bytes.
 */
export function standardSignature(secret: string, id: string, timestamp: number, body: string): string {
  return `v1,${createHmac('sha256', hmacKeyBytes(secret)).update(`${id}.${timestamp}.${body}`).digest('base64')}`
}

/**
 * The `webhook-signature` of a request signed by every signer given (newest first): one `v1,`
 * (HMAC) or `v1a,` (ed25519) signature each, space-separated, as the spec allows.
 */
export function signatures(signers: readonly Signer[], id: string, timestamp: number, body: string): string {
  const signed = `${id}.${timestamp}.${body}`
  let header = ''
  for (const signer of signers) {
    if (header) header += ' '
    header +=
      signer.scheme === 'ed25519'
        ? `v1a,${sign(null, Buffer.from(signed), signer.key).toString('base64')}`
        : `v1,${createHmac('sha256', signer.key).update(signed).digest('base64')}`
  }
  return header
}

export interface VerifyOptions {
  /** An HMAC secret, or several (during a rotation): plain or `whsec_…`, exactly as the webhook has it. */
  secret?: string | readonly string[]
  /** An ed25519 public key (`whpk_…`), or several, for webhooks signed with `ed25519`. */
  publicKey?: string | readonly string[]
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
 * Verifies a delivered request the way a receiver should. The timestamped Standard Webhooks
 * signature decides: one of its signatures (`v1` with a secret, `v1a` with a public key) must
 * match, and its timestamp must be recent. `X-Whisperer-Signature` has no timestamp, so it cannot
 * stop a replay, and during a rotation it carries the newest key only: it is checked instead only
 * when `webhook-signature` is absent and `allowUntimestamped` is set. `whisperer` says whether it
 * matched. Comparisons are constant-time.
 */
export function verifySignature(options: VerifyOptions): VerifyResult {
  const header = (name: string): string | undefined => {
    if (options.headers instanceof Headers) return options.headers.get(name) ?? undefined
    const entry = Object.entries(options.headers).find(([key]) => key.toLowerCase() === name)
    const value = entry?.[1]
    return Array.isArray(value) ? value[0] : value
  }
  const secrets = list(options.secret)
  const legacy = header('x-whisperer-signature')
  const standard = header('webhook-signature')
  const legacyMatches =
    legacy !== undefined &&
    secrets.some((secret) => safeEqual(legacy, whispererSignature(secret, options.body)))
  if (!standard) {
    if (!legacy || !options.allowUntimestamped) return { ok: false, reason: 'missing_signature' }
    return legacyMatches
      ? { ok: true, whisperer: true, standard: false }
      : { ok: false, reason: 'bad_signature' }
  }
  const id = header('webhook-id') ?? ''
  const timestamp = Number(header('webhook-timestamp'))
  const now = (options.now ?? new Date()).getTime() / 1000
  if (!Number.isInteger(timestamp) || Math.abs(now - timestamp) > (options.toleranceSeconds ?? 300)) {
    return { ok: false, reason: 'stale_timestamp' }
  }
  const signed = `${id}.${timestamp}.${options.body}`
  const publicKeys = list(options.publicKey).map(ed25519PublicKey)
  if (!standard.split(' ').some((candidate) => matches(candidate, signed, secrets, publicKeys))) {
    return { ok: false, reason: 'bad_signature' }
  }
  return { ok: true, whisperer: legacyMatches, standard: true }
}

function matches(candidate: string, signed: string, secrets: string[], publicKeys: KeyObject[]): boolean {
  const comma = candidate.indexOf(',')
  const version = candidate.slice(0, comma)
  const value = candidate.slice(comma + 1)
  if (version === 'v1') {
    // A `whsec_` secret stored before Standard Webhooks keys were understood still signs with its
    // UTF-8 bytes: either keying of the same secret is accepted.
    const keys = secrets.flatMap((secret) =>
      secret.startsWith('whsec_')
        ? [hmacKeyBytes(secret), hmacKeyBytes(secret, true)]
        : [hmacKeyBytes(secret)],
    )
    return keys.some((key) => safeEqual(value, createHmac('sha256', key).update(signed).digest('base64')))
  }
  if (version === 'v1a') {
    const signature = Buffer.from(value, 'base64')
    return publicKeys.some((key) => verify(null, Buffer.from(signed), key, signature))
  }
  return false
}

function list(value: string | readonly string[] | undefined): string[] {
  return value === undefined ? [] : typeof value === 'string' ? [value] : [...value]
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a)
  const right = Buffer.from(b)
  return left.length === right.length && timingSafeEqual(left, right)
}
