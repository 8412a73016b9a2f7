import { isIP } from 'node:net'
import { Agent } from 'undici'
import { type CompiledAddressPolicy, isAddressAllowed } from '../core/address-policy.ts'
import type { AttemptResult, ErrorKind } from '../core/outcome.ts'
import type { OutgoingRequest } from '../core/request.ts'
import { guardedLookup, type ResolveAll } from './address-guard.ts'

export interface SenderOptions {
  connectTimeoutMs: number
  readTimeoutMs: number
  /** Bytes of a response body kept; the rest is discarded. */
  responseBodyLimit: number
  addressPolicy: CompiledAddressPolicy
  /** How host names are resolved before the address guard judges them. @default dns.lookup */
  resolve?: ResolveAll
}

/**
 * Sends POST requests with undici: keep-alive connections, no redirects followed, connect and read
 * timeouts, an address guard at connect time, and a capped response body. Every failure comes back
 * as an {@link AttemptResult}, never as an exception.
 */
export class Sender {
  readonly #agent: Agent
  readonly #options: SenderOptions
  readonly #targets = new Map<
    string,
    { origin: string; path: string } | { problem: { error: ErrorKind; message: string } }
  >()

  constructor(options: SenderOptions) {
    this.#options = options
    this.#agent = new Agent({
      connect: {
        timeout: options.connectTimeoutMs,
        lookup: guardedLookup(options.addressPolicy, options.resolve),
      },
      headersTimeout: options.readTimeoutMs,
      bodyTimeout: options.readTimeoutMs,
    })
  }

  /**
   * Sends one POST request; `readTimeoutMs` replaces the read timeout for it (a webhook's own
   * `timeout`), the connect timeout stays the service's.
   */
  async send(
    request: OutgoingRequest,
    options: { readTimeoutMs?: number | null } = {},
  ): Promise<AttemptResult> {
    const started = performance.now()
    const elapsed = () => Math.round(performance.now() - started)
    const target = this.#target(request.url)
    const readTimeoutMs = options.readTimeoutMs ?? this.#options.readTimeoutMs
    if ('problem' in target) return { kind: 'error', ...target.problem, durationMs: 0 }
    try {
      // The headers are bounded by the connect and headers timeouts; the body by the body timeout
      // between chunks and by the deadline checked as it is read.
      const response = await this.#agent.request({
        origin: target.origin,
        path: target.path,
        method: 'POST',
        headers: request.headers,
        body: request.body,
        ...(readTimeoutMs !== this.#options.readTimeoutMs
          ? { headersTimeout: readTimeoutMs, bodyTimeout: readTimeoutMs }
          : {}),
      })
      const deadline = started + this.#options.connectTimeoutMs + 2 * readTimeoutMs
      const { body, truncated } = await readCapped(response.body, this.#options.responseBodyLimit, deadline)
      return {
        kind: 'response',
        status: response.statusCode,
        headers: flattenHeaders(response.headers),
        body,
        truncated,
        durationMs: elapsed(),
      }
    } catch (error) {
      return { kind: 'error', error: errorKind(error), message: errorMessage(error), durationMs: elapsed() }
    }
  }

  /** A URL's origin and path, or why it cannot be sent to; kept per URL, as webhooks send many times. */
  #target(
    url: string,
  ): { origin: string; path: string } | { problem: { error: ErrorKind; message: string } } {
    let target = this.#targets.get(url)
    if (target) return target
    try {
      const parsed = new URL(url)
      // A literal address is never looked up, so the connect-time guard cannot see it: check it here.
      const literal = parsed.hostname.replace(/^\[|\]$/g, '')
      target =
        isIP(literal) && !isAddressAllowed(literal, this.#options.addressPolicy)
          ? { problem: { error: 'blocked', message: `${literal} is not an allowed target` } }
          : { origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` }
    } catch {
      target = { problem: { error: 'http', message: `Invalid URL: ${url}` } }
    }
    if (this.#targets.size >= 10_000) this.#targets.clear()
    this.#targets.set(url, target)
    return target
  }

  async close(): Promise<void> {
    await this.#agent.close()
  }
}

class TimeoutError extends Error {
  readonly code = 'WHISPERER_ATTEMPT_TIMEOUT'
}

async function readCapped(
  stream: AsyncIterable<Buffer> & { destroy(): void },
  limit: number,
  deadline: number,
): Promise<{ body: string; truncated: boolean }> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of stream) {
    if (performance.now() > deadline) {
      stream.destroy()
      throw new TimeoutError('The response took longer than its connect and read timeouts')
    }
    if (size + chunk.length > limit) {
      chunks.push(chunk.subarray(0, limit - size))
      stream.destroy()
      return { body: clean(Buffer.concat(chunks).toString('utf8')), truncated: true }
    }
    chunks.push(chunk)
    size += chunk.length
  }
  const body = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8')
  return { body: clean(body), truncated: false }
}

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const flat: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = clean(Array.isArray(value) ? value.join(', ') : value)
  }
  return flat
}

/** PostgreSQL text cannot hold NUL characters; a response that has them must still be recorded. */
function clean(text: string): string {
  return text.includes('\0') ? text.replaceAll('\0', '\uFFFD') : text
}

const timeoutCodes = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
  'WHISPERER_ATTEMPT_TIMEOUT',
])
const dnsCodes = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NODATA', 'EAI_FAIL', 'EAI_NONAME'])
const connectCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'EADDRNOTAVAIL',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
])

function errorCode(error: unknown): string {
  const value = error as { code?: unknown; cause?: { code?: unknown } }
  return String(value?.code ?? value?.cause?.code ?? '')
}

/** Which kind of failure an error from a request is. */
export function errorKind(error: unknown): ErrorKind {
  const code = errorCode(error)
  if (code === 'WHISPERER_BLOCKED_ADDRESS') return 'blocked'
  if (timeoutCodes.has(code) || (error as Error)?.name === 'TimeoutError') return 'timeout'
  if (dnsCodes.has(code)) return 'dns'
  if (connectCodes.has(code)) return 'connect'
  if (/^(ERR_TLS|ERR_SSL|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|ERR_OSSL|HOSTNAME_MISMATCH)/.test(code))
    return 'tls'
  if ((error as Error)?.name === 'AbortError') return 'timeout'
  return 'http'
}

function errorMessage(error: unknown): string {
  const code = errorCode(error)
  const message = clean(String((error as Error)?.message ?? error)).slice(0, 1000)
  return code && !message.includes(code) ? `${code}: ${message}` : message
}
