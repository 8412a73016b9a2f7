import {
  type Attributes,
  type Context,
  context,
  createTraceState,
  isSpanContextValid,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api'

/**
 * Whisperer's spans, on the OpenTelemetry API only. With no SDK registered the API hands out
 * non-recording spans with an invalid context: nothing is recorded, and no trace context is stored.
 */
export function whispererTracer(version: string): Tracer {
  return trace.getTracer('whisperer', version)
}

/** A span context as a W3C `traceparent` value (version 00); null when it is not valid. */
export function formatTraceparent(spanContext: SpanContext): string | null {
  if (!isSpanContextValid(spanContext)) return null
  const flags = (spanContext.traceFlags & 0xff).toString(16).padStart(2, '0')
  return `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`
}

/**
 * A span context as stored with an event: its `traceparent`, then its `tracestate` after a space
 * when it has one; null when it is not valid (no SDK, or no span).
 */
export function formatTraceContext(spanContext: SpanContext): string | null {
  const traceparent = formatTraceparent(spanContext)
  if (traceparent === null) return null
  const state = spanContext.traceState?.serialize()
  return state ? `${traceparent} ${state}` : traceparent
}

const traceparentPattern = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/

/**
 * A stored trace context (`traceparent[ tracestate]`) as a remote span context; null for null or
 * anything that is not a valid `traceparent`. Later versions are read as version 00, as W3C asks.
 */
export function parseTraceContext(text: string | null | undefined): SpanContext | null {
  if (!text) return null
  const space = text.indexOf(' ')
  const traceparent = space < 0 ? text : text.slice(0, space)
  const match = traceparentPattern.exec(traceparent)
  if (!match) return null
  const [, version, traceId, spanId, flags, rest] = match
  if (version === 'ff' || (version === '00' && rest !== undefined)) return null
  const spanContext: SpanContext = {
    traceId: traceId!,
    spanId: spanId!,
    traceFlags: Number.parseInt(flags!, 16) & 0x01,
    isRemote: true,
  }
  const state = space < 0 ? '' : text.slice(space + 1).trim()
  if (state) spanContext.traceState = createTraceState(state)
  return isSpanContextValid(spanContext) ? spanContext : null
}

/** Ends a span that failed: the exception recorded, the status set to error. */
function failed(span: Span, error: unknown): void {
  const exception = error instanceof Error ? error : new Error(String(error))
  span.recordException(exception)
  span.setStatus({ code: SpanStatusCode.ERROR, message: exception.message })
}

/**
 * Runs `fn` in a `whisperer.publish` span (kind producer), active for everything it calls. `fn`
 * gets the span and its trace context, to store with the event (null when nothing records).
 */
export async function inPublishSpan<T>(
  tracer: Tracer,
  eventType: string,
  fn: (span: Span, traceContext: string | null) => Promise<T>,
): Promise<T> {
  const attributes = { 'whisperer.event_type': eventType }
  return tracer.startActiveSpan(
    'whisperer.publish',
    { kind: SpanKind.PRODUCER, attributes },
    async (span) => {
      try {
        return await fn(span, formatTraceContext(span.spanContext()))
      } catch (error) {
        failed(span, error)
        throw error
      } finally {
        span.end()
      }
    },
  )
}

const urlAttributesCache = new Map<string, Attributes>()

/**
 * The attributes of an HTTP client span for a URL: never its credentials, query or fragment. Kept
 * per URL, as webhooks send many times (and most processes record no span at all).
 */
export function urlAttributes(targetUrl: string): Attributes {
  let attributes = urlAttributesCache.get(targetUrl)
  if (attributes === undefined) {
    attributes = parsedUrlAttributes(targetUrl)
    if (urlAttributesCache.size >= 10_000) urlAttributesCache.clear()
    urlAttributesCache.set(targetUrl, attributes)
  }
  return attributes
}

function parsedUrlAttributes(targetUrl: string): Attributes {
  let url: URL
  try {
    url = new URL(targetUrl)
  } catch {
    return {}
  }
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80
  return {
    'server.address': url.hostname.replace(/^\[(.*)\]$/, '$1'),
    'server.port': port,
    'url.full': `${url.protocol}//${url.host}${url.pathname}`,
  }
}

/** What an attempt span is about: its request and its delivery. */
export interface AttemptSpanTarget {
  name: 'whisperer.attempt' | 'whisperer.ping'
  targetUrl: string
  attributes: Attributes
  /** The stored publish context: the span's parent and link (the active span is the parent when null). */
  traceContext: string | null
}

/** What an attempt span records of its answer. */
export interface AttemptSpanResult {
  status: number | null
  /** The status code as a string for a non-2xx answer, or the transport error kind; null on success. */
  errorType: string | null
  delivered: boolean
}

/**
 * Runs one attempt in a span of kind client, following the HTTP client semantic conventions. Its
 * parent and link are the publish span whose context was stored with the event, so an attempt
 * joins its event's trace however late and wherever it runs. `fn` gets the `traceparent` to send.
 */
export async function inAttemptSpan<T>(
  tracer: Tracer,
  target: AttemptSpanTarget,
  fn: (traceparent: string | null) => Promise<T>,
  judge: (value: T) => AttemptSpanResult,
): Promise<T> {
  const published = parseTraceContext(target.traceContext)
  // Not the active context when there is a stored one: a worker's loop runs in the context of
  // whoever started it, which has nothing to do with the event.
  const parent: Context = published ? trace.setSpanContext(ROOT_CONTEXT, published) : context.active()
  const options = {
    kind: SpanKind.CLIENT,
    attributes: { 'http.request.method': 'POST', ...urlAttributes(target.targetUrl), ...target.attributes },
    links: published ? [{ context: published }] : [],
  }
  return tracer.startActiveSpan(target.name, options, parent, async (span) => {
    try {
      const value = await fn(
        formatTraceparent(span.spanContext()) ?? (published && formatTraceparent(published)),
      )
      const result = judge(value)
      if (result.status !== null) span.setAttribute('http.response.status_code', result.status)
      if (result.errorType !== null) span.setAttribute('error.type', result.errorType)
      if (!result.delivered) span.setStatus({ code: SpanStatusCode.ERROR })
      return value
    } catch (error) {
      failed(span, error)
      throw error
    } finally {
      span.end()
    }
  })
}
