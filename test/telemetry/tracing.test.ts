import { context, SpanKind, SpanStatusCode, TraceFlags, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { tokenAuthenticate } from '../../src/server/token-auth.ts'
import {
  formatTraceContext,
  formatTraceparent,
  parseTraceContext,
  urlAttributes,
} from '../../src/telemetry/tracing.ts'
import type { Whisperer } from '../../src/whisperer.ts'
import { caller } from '../api/support.ts'
import { forEachDatabase } from '../support/databases.ts'
import { type Receiver, startReceiver } from '../support/receiver.ts'

const traceId = '4bf92f3577b34da6a3ce929d0e0e4736'
const spanId = '00f067aa0ba902b7'

describe('trace context', () => {
  test('a traceparent round-trips, with its tracestate', () => {
    const parsed = parseTraceContext(`00-${traceId}-${spanId}-01 congo=t61rcWkgMzE,rojo=00f067aa0ba902b7`)
    expect(parsed).toMatchObject({ traceId, spanId, traceFlags: TraceFlags.SAMPLED, isRemote: true })
    expect(parsed?.traceState?.get('congo')).toBe('t61rcWkgMzE')
    expect(formatTraceparent(parsed!)).toBe(`00-${traceId}-${spanId}-01`)
    expect(formatTraceContext(parsed!)).toBe(
      `00-${traceId}-${spanId}-01 congo=t61rcWkgMzE,rojo=00f067aa0ba902b7`,
    )
    expect(formatTraceContext(parseTraceContext(`00-${traceId}-${spanId}-00`)!)).toBe(
      `00-${traceId}-${spanId}-00`,
    )
  })

  test('anything but a valid traceparent reads as none', () => {
    for (const text of [
      null,
      '',
      'garbage',
      `00-${'0'.repeat(32)}-${spanId}-01`,
      `00-${traceId}-${'0'.repeat(16)}-01`,
      `ff-${traceId}-${spanId}-01`,
      `00-${traceId}-${spanId}-01-extra`,
      `00-${traceId.toUpperCase()}-${spanId}-01`,
    ]) {
      expect(parseTraceContext(text)).toBeNull()
    }
    // A later version is read as far as version 00 goes.
    expect(parseTraceContext(`01-${traceId}-${spanId}-01-extra`)?.traceId).toBe(traceId)
    expect(formatTraceparent({ traceId: '0'.repeat(32), spanId, traceFlags: 1 })).toBeNull()
  })

  test('URL attributes keep no credentials, query or fragment', () => {
    expect(urlAttributes('https://user:pass@hooks.example.com/in/?token=secret#frag')).toEqual({
      'server.address': 'hooks.example.com',
      'server.port': 443,
      'url.full': 'https://hooks.example.com/in/',
    })
    expect(urlAttributes('http://[::1]:8080/x?a=1')).toEqual({
      'server.address': '::1',
      'server.port': 8080,
      'url.full': 'http://[::1]:8080/x',
    })
  })
})

/** Every attribute value of every span, as one string, to look for what must never be there. */
const allAttributes = (spans: ReadableSpan[]) =>
  JSON.stringify(spans.map((span) => [span.attributes, span.links.map((link) => link.attributes ?? {})]))

forEachDatabase((db) => {
  let receivers: Receiver[]
  beforeEach(async () => {
    receivers = [await startReceiver(), await startReceiver()]
  })
  afterEach(() => Promise.all(receivers.map((r) => r.close())))

  const subscribed = async (
    whisperer: Whisperer,
    fields: { sendTraceparent?: boolean; url?: string } = {},
  ) => {
    if (!whisperer.eventTypes.registry.has('order-created'))
      whisperer.eventTypes.register({ type: 'order-created' })
    return whisperer.webhooks.create('acme', {
      eventType: 'order-created',
      targetUrl: fields.url ?? receivers[0]!.url,
      sendTraceparent: fields.sendTraceparent ?? false,
    })
  }
  const storedTraceContexts = async (whisperer: Whisperer) =>
    (
      await db.sql<{ trace_context: string | null }>(
        `SELECT trace_context FROM "${whisperer.config.schema}".events`,
      )
    ).map((row) => row.trace_context)

  describe('with no OpenTelemetry SDK', () => {
    test('nothing is stored with the event and no traceparent is sent', async () => {
      const whisperer = await db.whisperer()
      await subscribed(whisperer, { sendTraceparent: true })
      await whisperer.deliverEvent({ id: 1 }, 'order-created')
      await whisperer.deliverEvent({ id: 2 }, 'order-created', { async: false })
      await whisperer.processDue()
      expect(await storedTraceContexts(whisperer)).toEqual([null, null])
      expect(receivers[0]!.requests).toHaveLength(2)
      expect(receivers[0]!.requests.map((r) => r.headers.traceparent)).toEqual([undefined, undefined])
    })
  })

  describe('with the OpenTelemetry SDK', () => {
    const exporter = new InMemorySpanExporter()
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
    beforeAll(() => {
      context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
      trace.setGlobalTracerProvider(provider)
    })
    afterAll(() => {
      trace.disable()
      context.disable()
    })
    beforeEach(() => exporter.reset())

    const spans = (name: string) => exporter.getFinishedSpans().filter((span) => span.name === name)

    test('a publish is a producer span with its event type and deliveries, its context stored with the event', async () => {
      const whisperer = await db.whisperer()
      await subscribed(whisperer)
      await subscribed(whisperer, { url: receivers[1]!.url })
      await whisperer.deliverEvent({ id: 1 }, 'order-created')
      const [publish] = spans('whisperer.publish')
      expect(spans('whisperer.publish')).toHaveLength(1)
      expect(publish!.kind).toBe(SpanKind.PRODUCER)
      expect(publish!.attributes).toEqual({
        'whisperer.event_type': 'order-created',
        'whisperer.deliveries': 2,
      })
      expect(publish!.status.code).toBe(SpanStatusCode.UNSET)
      const { traceId, spanId } = publish!.spanContext()
      expect(await storedTraceContexts(whisperer)).toEqual([`00-${traceId}-${spanId}-01`])
    })

    test('an event type that customizes its payload stores the context too, and its attempts join it', async () => {
      const whisperer = await db.whisperer()
      whisperer.eventTypes.register({
        type: 'order-created',
        customizePayload: (payload) => ({ ...payload, custom: true }),
      })
      await subscribed(whisperer)
      await whisperer.deliverEvent({ id: 1 }, 'order-created')
      await whisperer.deliverEvent({ id: 2 }, 'order-created', { async: false })
      const published = spans('whisperer.publish').map((span) => span.spanContext())
      expect(published).toHaveLength(2)
      expect((await storedTraceContexts(whisperer)).sort()).toEqual(
        published.map(({ traceId: id, spanId: span }) => `00-${id}-${span}-01`).sort(),
      )
      await whisperer.processDue()
      const attempts = spans('whisperer.attempt')
      expect(attempts).toHaveLength(2)
      for (const attempt of attempts) {
        const publish = published.find((context) => context.traceId === attempt.spanContext().traceId)
        expect(attempt.parentSpanContext?.spanId).toBe(publish!.spanId)
        expect(attempt.links.map((link) => link.context.spanId)).toEqual([publish!.spanId])
      }
    })

    test('a failed publish records its exception', async () => {
      const whisperer = await db.whisperer()
      await expect(whisperer.deliverEvent({}, 'no-such-type')).rejects.toThrow()
      const [publish] = spans('whisperer.publish')
      expect(publish!.status.code).toBe(SpanStatusCode.ERROR)
      expect(publish!.events.map((event) => event.name)).toEqual(['exception'])
    })

    test('concurrent publishes that share one statement each store their own context', async () => {
      const whisperer = await db.whisperer()
      await subscribed(whisperer)
      await Promise.all([1, 2, 3, 4].map((id) => whisperer.deliverEvent({ id }, 'order-created')))
      const published = spans('whisperer.publish').map((span) => {
        const { traceId, spanId } = span.spanContext()
        return `00-${traceId}-${spanId}-01`
      })
      expect(published).toHaveLength(4)
      expect((await storedTraceContexts(whisperer)).sort()).toEqual(published.sort())
    })

    test('an attempt made by another process later is a client span whose parent and link are the publish', async () => {
      const source = await db.source()
      const publisher = await db.whisperer(source)
      await subscribed(publisher)
      const { deliveries } = await publisher.deliverEvent({ id: 1 }, 'order-created')
      await publisher.close()
      const [publish] = spans('whisperer.publish')
      exporter.reset()

      const worker = await db.whisperer({ ...source, migrate: false })
      worker.eventTypes.register({ type: 'order-created' })
      await worker.processDue()
      expect(spans('whisperer.publish')).toHaveLength(0)
      const [attempt] = spans('whisperer.attempt')
      expect(spans('whisperer.attempt')).toHaveLength(1)
      const url = new URL(receivers[0]!.url)
      expect(attempt!.kind).toBe(SpanKind.CLIENT)
      expect(attempt!.attributes).toEqual({
        'http.request.method': 'POST',
        'server.address': url.hostname,
        'server.port': Number(url.port),
        'url.full': `${url.origin}${url.pathname}`,
        'http.response.status_code': 200,
        'whisperer.delivery.uuid': deliveries[0]!.uuid,
        'whisperer.event_type': 'order-created',
        'whisperer.attempt': 1,
      })
      expect(attempt!.status.code).toBe(SpanStatusCode.UNSET)
      const published = publish!.spanContext()
      expect(attempt!.spanContext().traceId).toBe(published.traceId)
      expect(attempt!.parentSpanContext).toMatchObject({
        traceId: published.traceId,
        spanId: published.spanId,
      })
      expect(attempt!.links.map((link) => link.context)).toEqual([
        expect.objectContaining({ traceId: published.traceId, spanId: published.spanId }),
      ])
    })

    test('an attempt made inside the publish call is a child of the publish span, linked to it', async () => {
      const whisperer = await db.whisperer()
      await subscribed(whisperer)
      await whisperer.deliverEvent({ id: 1 }, 'order-created', { async: false })
      const [publish] = spans('whisperer.publish')
      const [attempt] = spans('whisperer.attempt')
      const published = publish!.spanContext()
      expect(attempt!.parentSpanContext?.spanId).toBe(published.spanId)
      expect(attempt!.spanContext().traceId).toBe(published.traceId)
      expect(attempt!.links.map((link) => link.context.spanId)).toEqual([published.spanId])
    })

    test('a 500 is an error span with error.type "500"; a transport error names its kind', async () => {
      receivers[0]!.respond(() => ({ status: 500 }))
      const whisperer = await db.whisperer()
      await subscribed(whisperer)
      const refused = await startReceiver()
      await refused.close()
      await subscribed(whisperer, { url: refused.url })
      await whisperer.deliverEvent({ id: 1 }, 'order-created')
      await whisperer.processDue()
      const attempts = spans('whisperer.attempt')
      const byPort = (port: number) => attempts.find((span) => span.attributes['server.port'] === port)!
      const failed = byPort(receivers[0]!.port)
      expect(failed.attributes['http.response.status_code']).toBe(500)
      expect(failed.attributes['error.type']).toBe('500')
      expect(failed.status.code).toBe(SpanStatusCode.ERROR)
      const unreachable = byPort(refused.port)
      expect(unreachable.attributes['http.response.status_code']).toBeUndefined()
      expect(unreachable.attributes['error.type']).toBe('connect')
      expect(unreachable.status.code).toBe(SpanStatusCode.ERROR)
    })

    test('the query string and credentials of a target URL are never recorded', async () => {
      const whisperer = await db.whisperer()
      const { origin, host } = new URL(receivers[0]!.url)
      const webhook = await subscribed(whisperer, { url: `${origin}/in/?token=secret#part` })
      // Validation refuses credentials in a URL; one stored before that rule still must not leak.
      await db.sql(`UPDATE "${whisperer.config.schema}".webhooks SET target_url = $1 WHERE id = $2`, [
        `http://user:pass@${host}/in/?token=secret#part`,
        webhook.id,
      ])
      await whisperer.deliverEvent({ id: 1 }, 'order-created')
      await whisperer.processDue()
      const [attempt] = spans('whisperer.attempt')
      expect(attempt!.attributes['url.full']).toBe(`${origin}/in/`)
      const recorded = allAttributes(exporter.getFinishedSpans())
      for (const secret of ['secret', 'token=', 'user', 'pass', 'part'])
        expect(recorded).not.toContain(secret)
    })

    test('send_traceparent sends the attempt’s trace context, in the publish’s trace; other webhooks get none', async () => {
      const whisperer = await db.whisperer()
      whisperer.eventTypes.register({ type: 'order-created' })
      const call = caller(whisperer.api({ authenticate: tokenAuthenticate(whisperer), rateLimit: false }))
      const { token } = await whisperer.tokens.create({ owner: 'acme', scopes: ['subscriber'] })
      const headers = { authorization: `Token ${token}` }
      const traced = await call('POST', 'hooks/', {
        as: null,
        headers,
        json: {
          event_type: 'order-created',
          target_url: receivers[0]!.url,
          send_traceparent: true,
          additional_headers: { traceparent: `00-${traceId}-${spanId}-01` },
        },
      })
      expect(traced.status).toBe(201)
      expect(traced.body.send_traceparent).toBe(true)
      await subscribed(whisperer, { url: receivers[1]!.url })
      await whisperer.deliverEvent({ id: 1 }, 'order-created')
      await whisperer.processDue()
      const [publish] = spans('whisperer.publish')
      const attempt = spans('whisperer.attempt').find(
        (span) => span.attributes['server.port'] === receivers[0]!.port,
      )!
      const sent = receivers[0]!.requests[0]!.headers.traceparent
      const { spanId: attemptSpanId } = attempt.spanContext()
      expect(sent).toBe(`00-${publish!.spanContext().traceId}-${attemptSpanId}-01`)
      expect(receivers[1]!.requests[0]!.headers.traceparent).toBeUndefined()
      // The header is recorded with the attempt, like every other request header.
      const [recorded] = await db.sql<{ headers: Record<string, string> }>(
        `SELECT a.request_headers::jsonb AS headers FROM "${whisperer.config.schema}".attempts a
         JOIN "${whisperer.config.schema}".deliveries d ON d.id = a.delivery_id WHERE d.webhook_id = $1`,
        [traced.body.id],
      )
      expect(recorded!.headers.traceparent).toBe(sent)
    })

    test('a worker without the SDK sends the stored publish context as the traceparent', async () => {
      const source = await db.source()
      const publisher = await db.whisperer(source)
      await subscribed(publisher, { sendTraceparent: true })
      await publisher.deliverEvent({ id: 1 }, 'order-created')
      await publisher.close()
      const [stored] = await db.sql<{ trace_context: string }>(
        `SELECT trace_context FROM "${source.schema}".events`,
      )
      trace.disable()
      try {
        const worker = await db.whisperer({ ...source, migrate: false })
        worker.eventTypes.register({ type: 'order-created' })
        await worker.processDue()
      } finally {
        trace.setGlobalTracerProvider(provider)
      }
      expect(spans('whisperer.attempt')).toHaveLength(0)
      expect(receivers[0]!.requests[0]!.headers.traceparent).toBe(stored!.trace_context)
    })

    test('the events/ route publishes in a span too', async () => {
      const whisperer = await db.whisperer()
      await subscribed(whisperer)
      const call = caller(whisperer.api({ authenticate: tokenAuthenticate(whisperer), rateLimit: false }))
      const { token } = await whisperer.tokens.create({ owner: 'shop', scopes: ['publisher'] })
      const published = await call('POST', 'events/', {
        as: null,
        headers: { authorization: `Token ${token}` },
        json: { event_type: 'order-created', data: { id: 1 } },
      })
      expect(published.status).toBe(202)
      const [publish] = spans('whisperer.publish')
      expect(publish!.attributes).toEqual({
        'whisperer.event_type': 'order-created',
        'whisperer.deliveries': 1,
      })
      const { traceId: id, spanId: span } = publish!.spanContext()
      expect(await storedTraceContexts(whisperer)).toEqual([`00-${id}-${span}-01`])
    })

    test('a ping is a client span of its own', async () => {
      const whisperer = await db.whisperer()
      const webhook = await subscribed(whisperer, { sendTraceparent: true })
      await whisperer.webhooks.ping({ owner: 'acme' }, webhook.id)
      const [ping] = spans('whisperer.ping')
      expect(ping!.kind).toBe(SpanKind.CLIENT)
      expect(ping!.attributes).toMatchObject({
        'whisperer.event_type': 'whisperer.ping',
        'http.response.status_code': 200,
      })
      const { traceId: id, spanId: span } = ping!.spanContext()
      expect(receivers[0]!.requests[0]!.headers.traceparent).toBe(`00-${id}-${span}-01`)
    })
  })
})
