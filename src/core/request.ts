import { uuidHex } from './payload.ts'
import { signatures, whispererSignature } from './signature.ts'
import type { Signer } from './signing-keys.ts'

/** Headers Whisperer sets itself; `additional_headers` can never replace them. */
export const reservedHeaders: ReadonlySet<string> = new Set([
  'content-type',
  'content-length',
  'host',
  'connection',
  'transfer-encoding',
  'x-whisperer-event',
  'x-whisperer-signature',
  'x-whisperer-ordering-key',
  'x-whisperer-sequence',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
])

/** One request, ready to send. */
export interface OutgoingRequest {
  url: string
  headers: Record<string, string>
  body: string
}

/**
 * Builds the request for one attempt. `webhook-id` is the delivery uuid, so a receiver
 * de-duplicates on it; the timestamp is the attempt's own, so both signatures are fresh each time.
 */
export function buildRequest(params: {
  targetUrl: string
  eventType: string
  deliveryUuid: string
  body: string
  /** The keys live at the attempt, newest first; none for an unsigned webhook. */
  signers: readonly Signer[]
  additionalHeaders: Record<string, string>
  authorization: string | null
  /** Unix seconds. */
  timestamp: number
  userAgent: string
  /** A W3C `traceparent` to send; it overrides any additional header of that name. */
  traceparent?: string | null
  /** An ordered delivery's lane key and sequence, sent so that a receiver can spot a gap or a repeat. */
  ordering?: { key: string; sequence: number } | null
}): OutgoingRequest {
  const id = uuidHex(params.deliveryUuid)
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': params.userAgent,
    'x-whisperer-event': params.eventType,
  }
  for (const [name, value] of Object.entries(params.additionalHeaders)) {
    const key = name.toLowerCase()
    if (!reservedHeaders.has(key)) headers[key] = value
  }
  if (params.authorization) headers.authorization = params.authorization
  if (params.traceparent) headers.traceparent = params.traceparent
  if (params.ordering) {
    headers['x-whisperer-ordering-key'] = params.ordering.key
    headers['x-whisperer-sequence'] = String(params.ordering.sequence)
  }
  headers['webhook-id'] = id
  headers['webhook-timestamp'] = String(params.timestamp)
  if (params.signers.length > 0) {
    headers['webhook-signature'] = signatures(params.signers, id, params.timestamp, params.body)
    const secret = params.signers.find((signer) => signer.secret !== null)?.secret
    if (secret) headers['x-whisperer-signature'] = whispererSignature(secret, params.body)
  }
  return { url: params.targetUrl, headers, body: params.body }
}

/** The `Authorization` header for `basic` and `bearer` auth; null for none. Token auth needs a login first. */
export function staticAuthorization(auth: unknown): string | null {
  if (!auth || typeof auth !== 'object') return null
  const config = auth as Record<string, unknown>
  if (config.auth_type === 'basic') {
    const credentials = `${String(config.username ?? '')}:${String(config.password ?? '')}`
    return `Basic ${Buffer.from(credentials).toString('base64')}`
  }
  if (config.auth_type === 'bearer') return `Bearer ${String(config.token ?? '')}`
  return null
}

const sensitiveHeader = /authorization|cookie|token|secret|password|api[-_]?key/i

/** Request headers as recorded on an attempt: credentials are masked, everything else kept. */
export function maskHeaders(headers: Record<string, string>): Record<string, string> {
  const masked: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (!sensitiveHeader.test(name)) masked[name] = value
    else if (name.toLowerCase() === 'authorization') masked[name] = `${value.split(' ')[0]} ********`
    else masked[name] = '********'
  }
  return masked
}
