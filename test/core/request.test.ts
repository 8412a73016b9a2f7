import { createHmac } from 'node:crypto'
import { Webhook } from 'standardwebhooks'
import { describe, expect, test } from 'vitest'
import { buildBody } from '../../src/core/payload.ts'
import { buildRequest, maskHeaders, reservedHeaders, staticAuthorization } from '../../src/core/request.ts'
import { verifySignature } from '../../src/core/signature.ts'
import { type Signer, toSigner } from '../../src/core/signing-keys.ts'

const signer = (secret: string): Signer =>
  toSigner({ scheme: 'hmac-sha256', secret, publicKey: null, createdAt: new Date(0), expiresAt: null })

const deliveryUuid = 'da81e851-3982-4c61-87dd-1e58a7d3f971'
const hex = 'da81e85139824c6187dd1e58a7d3f971'
const body = buildBody('package-created', deliveryUuid, 'data', '{"id":61}')
const timestamp = 1_767_225_600

const base = {
  targetUrl: 'https://receiver.example.com/hooks',
  eventType: 'package-created',
  deliveryUuid,
  body,
  signers: [signer('a-long-random-secret')] as Signer[],
  additionalHeaders: {} as Record<string, string>,
  authorization: null as string | null,
  timestamp,
  userAgent: 'Whisperer/0.1.0',
}

const hmacHex = (secret: string, text: string) =>
  createHmac('sha256', Buffer.from(secret, 'utf8')).update(text, 'utf8').digest('hex')

describe('buildRequest', () => {
  test('sends the url and the body unchanged', () => {
    const request = buildRequest(base)
    expect(request.url).toBe('https://receiver.example.com/hooks')
    expect(request.body).toBe(body)
  })

  test('sets exactly the expected headers with a secret', () => {
    expect(buildRequest(base).headers).toEqual({
      'content-type': 'application/json',
      'user-agent': 'Whisperer/0.1.0',
      'x-whisperer-event': 'package-created',
      'x-whisperer-signature': `sha256=${hmacHex('a-long-random-secret', body)}`,
      'webhook-id': hex,
      'webhook-timestamp': '1767225600',
      'webhook-signature': new Webhook(Buffer.from('a-long-random-secret').toString('base64')).sign(
        hex,
        new Date(timestamp * 1000),
        body,
      ),
    })
  })

  test('a traceparent is sent when given, over an additional header of that name', () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
    const additionalHeaders = { Traceparent: '00-ffffffffffffffffffffffffffffffff-ffffffffffffffff-01' }
    expect(buildRequest({ ...base, additionalHeaders, traceparent }).headers.traceparent).toBe(traceparent)
    expect(buildRequest(base).headers.traceparent).toBeUndefined()
  })

  test('webhook-id is the delivery uuid without dashes', () => {
    expect(buildRequest({ ...base, deliveryUuid: deliveryUuid.toUpperCase() }).headers['webhook-id']).toBe(
      hex,
    )
  })

  test('an unsigned webhook sends no signature headers but keeps webhook-id and webhook-timestamp', () => {
    expect(buildRequest({ ...base, signers: [] }).headers).toEqual({
      'content-type': 'application/json',
      'user-agent': 'Whisperer/0.1.0',
      'x-whisperer-event': 'package-created',
      'webhook-id': hex,
      'webhook-timestamp': '1767225600',
    })
  })

  test('a receiver verifies the request with standardwebhooks', () => {
    const now = Math.floor(Date.now() / 1000)
    const request = buildRequest({ ...base, timestamp: now })
    const receiver = new Webhook(Buffer.from('a-long-random-secret').toString('base64'))
    expect(receiver.verify(request.body, request.headers)).toEqual(JSON.parse(body))
  })

  test('a receiver verifies the request with verifySignature', () => {
    const request = buildRequest(base)
    expect(
      verifySignature({
        secret: 'a-long-random-secret',
        body: request.body,
        headers: request.headers,
        now: new Date(timestamp * 1000),
      }),
    ).toEqual({ ok: true, whisperer: true, standard: true })
  })

  test('each attempt signs its own timestamp with the same id and body signature', () => {
    const first = buildRequest(base).headers
    const second = buildRequest({ ...base, timestamp: timestamp + 60 }).headers
    expect(second['webhook-id']).toBe(first['webhook-id'])
    expect(second['webhook-timestamp']).toBe(String(timestamp + 60))
    expect(second['webhook-signature']).not.toBe(first['webhook-signature'])
    expect(second['x-whisperer-signature']).toBe(first['x-whisperer-signature'])
  })

  test('additional headers are added', () => {
    const headers = buildRequest({
      ...base,
      additionalHeaders: { 'X-Tenant': 'acme', 'x-trace': '1' },
    }).headers
    expect(headers['x-tenant']).toBe('acme')
    expect(headers['x-trace']).toBe('1')
  })

  const forged = {
    'Content-Type': 'text/plain',
    'CONTENT-LENGTH': '1',
    Host: 'evil.example',
    Connection: 'close',
    'Transfer-Encoding': 'chunked',
    'X-Whisperer-Event': 'other-event',
    'X-WHISPERER-SIGNATURE': 'sha256=forged',
    'Webhook-Id': 'forged',
    'webhook-timestamp': '1',
    'WEBHOOK-SIGNATURE': 'v1,forged',
  }

  test('reserved headers in any case never override', () => {
    const headers = buildRequest({ ...base, additionalHeaders: forged }).headers
    expect(headers).toEqual(buildRequest(base).headers)
  })

  test('reserved headers are not added without a secret either', () => {
    const headers = buildRequest({ ...base, signers: [], additionalHeaders: forged }).headers
    expect(headers).toEqual(buildRequest({ ...base, signers: [] }).headers)
    expect(Object.keys(headers)).not.toContain('x-whisperer-signature')
    expect(Object.keys(headers)).not.toContain('webhook-signature')
  })

  test('every header name appears once, in lowercase', () => {
    const headers = buildRequest({
      ...base,
      additionalHeaders: { ...forged, 'X-Tenant': 'acme' },
      authorization: 'Bearer t',
    }).headers
    const names = Object.keys(headers)
    expect(names.every((name) => name === name.toLowerCase())).toBe(true)
    expect(new Set(names).size).toBe(names.length)
  })

  test('reservedHeaders covers the signature and framing headers', () => {
    for (const name of [
      'content-type',
      'content-length',
      'host',
      'x-whisperer-event',
      'x-whisperer-signature',
      'webhook-id',
      'webhook-timestamp',
      'webhook-signature',
    ]) {
      expect(reservedHeaders.has(name)).toBe(true)
    }
  })

  test('authorization is set', () => {
    expect(buildRequest({ ...base, authorization: 'Bearer abc' }).headers.authorization).toBe('Bearer abc')
  })

  test('configured auth replaces an Authorization additional header', () => {
    const headers = buildRequest({
      ...base,
      additionalHeaders: { Authorization: 'Token mine' },
      authorization: 'Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==',
    }).headers
    expect(headers.authorization).toBe('Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==')
  })

  test('an Authorization additional header is sent when no auth is configured', () => {
    expect(
      buildRequest({ ...base, additionalHeaders: { Authorization: 'Token mine' } }).headers.authorization,
    ).toBe('Token mine')
  })
})

describe('staticAuthorization', () => {
  test('basic encodes username:password in base64 (RFC 7617 example)', () => {
    expect(staticAuthorization({ auth_type: 'basic', username: 'Aladdin', password: 'open sesame' })).toBe(
      'Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==',
    )
  })

  test('basic encodes UTF-8 credentials', () => {
    const header = staticAuthorization({ auth_type: 'basic', username: 'zoë', password: 'pä:ss' })
    expect(Buffer.from(header!.slice('Basic '.length), 'base64').toString('utf8')).toBe('zoë:pä:ss')
  })

  test('bearer sends the token', () => {
    expect(staticAuthorization({ auth_type: 'bearer', token: 'abc.def' })).toBe('Bearer abc.def')
  })

  test('token auth needs a login first, so it has no static header', () => {
    expect(
      staticAuthorization({
        auth_type: 'token',
        url: 'https://x.example/login',
        username: 'u',
        password: 'p',
      }),
    ).toBeNull()
  })

  test.each([null, undefined, {}, 'basic', { auth_type: 'digest' }])('%j gives no header', (auth) => {
    expect(staticAuthorization(auth)).toBeNull()
  })
})

describe('maskHeaders', () => {
  const headers = {
    'content-type': 'application/json',
    'user-agent': 'Whisperer/0.1.0',
    'x-whisperer-event': 'package-created',
    'webhook-id': hex,
    'x-tenant': 'acme',
    authorization: 'Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==',
    cookie: 'session=s3cr3t-cookie',
    'x-api-key': 'k3y-value',
    'x-auth-token': 't0ken-value',
    'x-client-secret': 's3cr3t-value',
    'x-password': 'pa55-value',
  }

  test('keeps the scheme of Authorization and hides the credentials', () => {
    expect(maskHeaders(headers).authorization).toBe('Basic ********')
    expect(maskHeaders({ authorization: 'Bearer abc' }).authorization).toBe('Bearer ********')
  })

  test('hides every credential value', () => {
    const text = JSON.stringify(maskHeaders(headers))
    for (const secret of [
      'QWxhZGRpbjpvcGVuIHNlc2FtZQ',
      's3cr3t-cookie',
      'k3y-value',
      't0ken-value',
      's3cr3t-value',
      'pa55-value',
    ]) {
      expect(text).not.toContain(secret)
    }
  })

  test('keeps every other header and every name', () => {
    const masked = maskHeaders(headers)
    expect(Object.keys(masked).sort()).toEqual(Object.keys(headers).sort())
    expect(masked['content-type']).toBe('application/json')
    expect(masked['x-tenant']).toBe('acme')
    expect(masked['webhook-id']).toBe(hex)
  })

  test('hides credentials in mixed-case names', () => {
    const text = JSON.stringify(maskHeaders({ Authorization: 'Token abc123', 'X-API-Key': 'k3y-value' }))
    expect(text).not.toContain('abc123')
    expect(text).not.toContain('k3y-value')
  })

  test('does not change its input', () => {
    const copy = { ...headers }
    maskHeaders(headers)
    expect(headers).toEqual(copy)
  })
})
