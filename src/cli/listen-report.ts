import type { IncomingHttpHeaders } from 'node:http'
import type { styleText } from 'node:util'
import { maskHeaders } from '../core/request.ts'
import { type VerifyResult, verifySignature } from '../core/signature.ts'

/** A request `whisperer listen` received, with its raw body. */
export interface ListenedRequest {
  receivedAt: Date
  method: string
  path: string
  headers: IncomingHttpHeaders
  body: string
}

/** One signature header, checked on its own. */
export interface SignatureCheck {
  valid: boolean
  reason: 'missing_signature' | 'bad_signature' | 'stale_timestamp' | null
}

export interface SignatureChecks {
  /** The verdict a receiver acts on: `verifySignature` on the whole request. */
  verified: VerifyResult
  whisperer: SignatureCheck
  standard: SignatureCheck
}

/** What the listener made of one request, and how it answered. */
export interface ListenReport {
  request: ListenedRequest
  eventType: string | null
  eventUuid: string | null
  webhookId: string | null
  /** How many requests with this `webhook-id` arrived so far, this one included; 0 off the path. */
  seen: number
  signatures: SignatureChecks | null
  answer: Answer
}

export interface Answer {
  status: number
  /** Why this status, for the person watching. */
  why: string
}

export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? value[0] : value
}

/**
 * Checks the request with `verifySignature`, then each signature header alone, so that the
 * listener can say which one failed and why.
 */
export function checkSignatures(params: {
  secret: string
  body: string
  headers: IncomingHttpHeaders
  now: Date
}): SignatureChecks {
  const { secret, body, headers, now } = params
  const only = (names: string[], allowUntimestamped: boolean): SignatureCheck => {
    if (header(headers, names[0]!) === undefined) return { valid: false, reason: 'missing_signature' }
    const picked = Object.fromEntries(names.map((name) => [name, header(headers, name)]))
    const result = verifySignature({ secret, body, headers: picked, allowUntimestamped, now })
    return result.ok ? { valid: true, reason: null } : { valid: false, reason: result.reason }
  }
  return {
    verified: verifySignature({ secret, body, headers, now }),
    whisperer: only(['x-whisperer-signature'], true),
    standard: only(['webhook-signature', 'webhook-id', 'webhook-timestamp'], false),
  }
}

/**
 * The status to answer: 401 for a bad signature (unless `status` is set), then 500 for the first
 * `failFirst` requests of a delivery, then `status`, 200 by default.
 */
export function chooseAnswer(params: {
  status?: number
  failFirst?: number
  signatures: SignatureChecks | null
  seen: number
}): Answer {
  const { status, failFirst, signatures, seen } = params
  if (status === undefined && signatures && !signatures.verified.ok) {
    return { status: 401, why: `signature ${signatures.verified.reason}` }
  }
  if (failFirst !== undefined && seen <= failFirst) {
    return { status: 500, why: `--fail-first ${failFirst}: request ${seen} of this delivery` }
  }
  return status === undefined ? { status: 200, why: 'ok' } : { status, why: `--status ${status}` }
}

/** The event's type and uuid, from the body when it is Whisperer's, else from the headers. */
export function describeEvent(request: ListenedRequest): { type: string | null; uuid: string | null } {
  const event = (parseJson(request.body) as { event?: { type?: unknown; uuid?: unknown } } | undefined)?.event
  const type = typeof event?.type === 'string' ? event.type : header(request.headers, 'x-whisperer-event')
  const uuid = typeof event?.uuid === 'string' ? event.uuid : header(request.headers, 'webhook-id')
  return { type: type ?? null, uuid: uuid ?? null }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

const reasons = {
  missing_signature: 'the header is absent',
  bad_signature: 'it does not match --secret',
  stale_timestamp: 'webhook-timestamp is missing or outside the tolerance',
} as const

/** `valid`, or `invalid (reason: explanation)`. */
function verdict(check: SignatureCheck): string {
  return check.valid ? 'valid' : `invalid (${check.reason}: ${reasons[check.reason!]})`
}

/** The headers worth reading, in the order a person checks them. */
const shownHeaders = [
  'user-agent',
  'content-type',
  'x-whisperer-event',
  'x-whisperer-signature',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
  'authorization',
]

export type Paint = (format: Parameters<typeof styleText>[0], text: string) => string

/** The report as a person reads it: a heading line, labelled rows, the body pretty-printed. */
export function formatReport(report: ListenReport, paint: Paint): string {
  const { request, answer } = report
  const time = request.receivedAt.toTimeString().slice(0, 8)
  const colour = answer.status < 300 ? 'green' : answer.status < 500 ? 'yellow' : 'red'
  const lines = [
    `${paint('dim', time)}  ${paint('bold', `${request.method} ${request.path}`)}  → ${paint(
      ['bold', colour],
      String(answer.status),
    )}${answer.why === 'ok' ? '' : paint('dim', ` (${answer.why})`)}`,
  ]
  const row = (label: string, value: string) => lines.push(`  ${paint('cyan', label.padEnd(22))} ${value}`)
  if (report.eventType || report.eventUuid)
    row('event', `${report.eventType ?? '?'} (uuid ${report.eventUuid ?? '?'})`)
  if (report.webhookId && report.seen > 0) row('attempt', `request ${report.seen} of this delivery seen here`)
  const masked = maskHeaders(flatHeaders(request.headers))
  for (const name of shownHeaders) {
    const value = masked[name]
    if (value === undefined) continue
    const timestamp = Number(value)
    row(
      name,
      name === 'webhook-timestamp' && Number.isInteger(timestamp)
        ? `${value} ${paint('dim', `(${new Date(timestamp * 1000).toISOString()})`)}`
        : value,
    )
  }
  if (report.signatures) {
    for (const [name, check] of [
      ['x-whisperer-signature', report.signatures.whisperer],
      ['webhook-signature', report.signatures.standard],
    ] as const) {
      row('signature', `${name} ${paint(check.valid ? 'green' : 'red', verdict(check))}`)
    }
  }
  const body = parseJson(request.body)
  const text = body === undefined ? request.body : highlightJson(JSON.stringify(body, null, 2), paint)
  if (text) lines.push(...text.split('\n').map((line) => `  ${line}`))
  return `${lines.join('\n')}\n\n`
}

/** The report as one JSON line, for piping; every header is kept, credentials masked. */
export function reportJson(report: ListenReport): string {
  const { request, signatures } = report
  const check = (c: SignatureCheck) => ({ valid: c.valid, reason: c.reason })
  return `${JSON.stringify({
    time: request.receivedAt.toISOString(),
    method: request.method,
    path: request.path,
    status: report.answer.status,
    reason: report.answer.why,
    event_type: report.eventType,
    event_uuid: report.eventUuid,
    webhook_id: report.webhookId,
    seen: report.seen,
    headers: maskHeaders(flatHeaders(request.headers)),
    signatures: signatures && {
      verified: signatures.verified.ok,
      reason: signatures.verified.ok ? null : signatures.verified.reason,
      x_whisperer_signature: check(signatures.whisperer),
      webhook_signature: check(signatures.standard),
    },
    body: parseJson(request.body) ?? request.body,
  })}\n`
}

function flatHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value
  }
  return flat
}

/** Colours the tokens of pretty-printed JSON: keys, strings, numbers and literals. */
function highlightJson(json: string, paint: Paint): string {
  return json.replace(
    /("(?:\\.|[^"\\])*")(\s*:)?|\b(?:true|false|null)\b|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g,
    (token, string?: string, colon?: string) => {
      if (string) return colon ? `${paint('cyan', string)}${colon}` : paint('green', string)
      return paint(/\d/.test(token) ? 'yellow' : 'magenta', token)
    },
  )
}
