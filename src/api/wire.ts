import type { FieldIssue } from '../core/errors.ts'
import type { WebhookInput } from '../core/webhook.ts'

/** A webhook field's name in TypeScript and over the wire (snake_case, as in dj-whisperer). */
export const webhookWireNames = {
  eventType: 'event_type',
  eventTypes: 'event_types',
  targetUrl: 'target_url',
  secretKey: 'secret_key',
  signatureScheme: 'signature_scheme',
  isActive: 'is_active',
  retryCountdownConfig: 'retry_countdown_config',
  callback: 'callback',
  additionalHeaders: 'additional_headers',
  config: 'config',
  filters: 'filters',
  fields: 'fields',
  sendTraceparent: 'send_traceparent',
  rateLimit: 'rate_limit',
  timeout: 'timeout',
  orderingOnFailure: 'ordering_on_failure',
} as const satisfies Record<keyof WebhookInput, string>

const fromWireNames: Record<string, string> = Object.fromEntries(
  Object.entries(webhookWireNames).map(([name, wire]) => [wire, name]),
)

/** A webhook body as sent over the wire, in the library's field names; unknown fields are left out. */
export function webhookInputFromWire(body: unknown): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return body
  const input: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(body)) {
    const name = fromWireNames[key]
    if (name) input[name] = value
  }
  return input
}

const wireNames = { ...webhookWireNames, graceSeconds: 'grace_seconds' }

/** Field issues with their first path segment in wire names. */
export function issuesToWire(issues: readonly FieldIssue[]): FieldIssue[] {
  return issues.map((issue) => {
    const [first, ...rest] = issue.path.split('.')
    const wire = wireNames[first as keyof typeof wireNames] ?? first
    return { path: [wire, ...rest].filter(Boolean).join('.'), message: issue.message }
  })
}

/** A duration as Django REST framework writes one: `HH:MM:SS.ffffff`. */
export function drfDuration(ms: number | null): string | null {
  if (ms === null) return null
  const total = Math.max(0, Math.round(ms * 1000))
  const micros = total % 1_000_000
  const seconds = Math.floor(total / 1_000_000)
  const pad = (n: number, width = 2) => String(n).padStart(width, '0')
  return `${pad(Math.floor(seconds / 3600))}:${pad(Math.floor(seconds / 60) % 60)}:${pad(seconds % 60)}.${pad(micros, 6)}`
}
