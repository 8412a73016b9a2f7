import { createHmac } from 'node:crypto'
import { Webhook } from 'standardwebhooks'
import { describe, expect, test } from 'vitest'
import { standardSignature, verifySignature, whispererSignature } from '../../src/core/signature.ts'

const receiver = (secret: string) => new Webhook(Buffer.from(secret).toString('base64'))

const body = '{"event":{"type":"package-created","uuid":"da81e85139824c6187dd1e58a7d3f971"},"data":{"id":61}}'
const id = 'da81e85139824c6187dd1e58a7d3f971'
const timestamp = 1_767_225_600
const at = (seconds: number) => new Date(seconds * 1000)

describe('whispererSignature', () => {
  test('matches RFC 4231 test case 2', () => {
    expect(whispererSignature('Jefe', 'what do ya want for nothing?')).toBe(
      'sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    )
  })

  test('is lowercase hex after sha256=', () => {
    expect(whispererSignature('secret', body)).toMatch(/^sha256=[0-9a-f]{64}$/)
  })

  test('keys with the UTF-8 bytes of the secret and signs the UTF-8 body', () => {
    const secret = 'clé-秘密'
    const text = '{"name":"Zoë ☃"}'
    const expected = createHmac('sha256', Buffer.from(secret, 'utf8'))
      .update(Buffer.from(text, 'utf8'))
      .digest('hex')
    expect(whispererSignature(secret, text)).toBe(`sha256=${expected}`)
  })

  test('changes with the body and with the secret', () => {
    const base = whispererSignature('secret', body)
    expect(whispererSignature('secret', `${body} `)).not.toBe(base)
    expect(whispererSignature('Secret', body)).not.toBe(base)
  })
})

describe('standardSignature', () => {
  test.each([
    ['a plain secret', 'my-secret'],
    ['a secret that starts with whsec_', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
    ['a non-ASCII secret', 'clé-秘密'],
  ])('equals what standardwebhooks computes for %s', (_label, secret) => {
    expect(standardSignature(secret, id, timestamp, body)).toBe(
      receiver(secret).sign(id, at(timestamp), body),
    )
  })

  test.each([
    ['a plain secret', 'my-secret'],
    ['a secret that starts with whsec_', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
    ['a non-ASCII secret', 'clé-秘密'],
  ])('verifies with standardwebhooks for %s', (_label, secret) => {
    const now = Math.floor(Date.now() / 1000)
    const headers = {
      'webhook-id': id,
      'webhook-timestamp': String(now),
      'webhook-signature': standardSignature(secret, id, now, body),
    }
    expect(receiver(secret).verify(body, headers)).toEqual(JSON.parse(body))
  })

  test('is refused by standardwebhooks under another secret', () => {
    const now = Math.floor(Date.now() / 1000)
    const headers = {
      'webhook-id': id,
      'webhook-timestamp': String(now),
      'webhook-signature': standardSignature('one', id, now, body),
    }
    expect(() => receiver('two').verify(body, headers)).toThrow()
  })

  test('is v1, and base64', () => {
    expect(standardSignature('secret', id, timestamp, body)).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/)
  })

  test('covers the id and the timestamp', () => {
    const base = standardSignature('secret', id, timestamp, body)
    expect(standardSignature('secret', 'other', timestamp, body)).not.toBe(base)
    expect(standardSignature('secret', id, timestamp + 1, body)).not.toBe(base)
  })
})

describe('verifySignature', () => {
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
  const signed = (overrides: Record<string, string | undefined> = {}) => ({
    'x-whisperer-signature': whispererSignature(secret, body),
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': receiver(secret).sign(id, at(timestamp), body),
    ...overrides,
  })
  const verify = (headers: Record<string, string | string[] | undefined> | Headers, now = at(timestamp)) =>
    verifySignature({ secret, body, headers, now })

  test('accepts both signatures', () => {
    expect(verify(signed())).toEqual({ ok: true, whisperer: true, standard: true })
  })

  test('refuses the X-Whisperer-Signature alone (it has no timestamp), unless told to accept it', () => {
    const headers = { 'x-whisperer-signature': whispererSignature(secret, body) }
    expect(verify(headers)).toEqual({ ok: false, reason: 'missing_signature' })
    expect(verifySignature({ secret, body, headers, now: at(timestamp), allowUntimestamped: true })).toEqual({
      ok: true,
      whisperer: true,
      standard: false,
    })
  })

  test('accepts the Standard Webhooks signature alone', () => {
    expect(verify(signed({ 'x-whisperer-signature': undefined }))).toEqual({
      ok: true,
      whisperer: false,
      standard: true,
    })
  })

  test('matches header names case-insensitively', () => {
    const headers = {
      'X-Whisperer-Signature': whispererSignature(secret, body),
      'Webhook-Id': id,
      'Webhook-Timestamp': String(timestamp),
      'Webhook-Signature': receiver(secret).sign(id, at(timestamp), body),
    }
    expect(verify(headers)).toEqual({ ok: true, whisperer: true, standard: true })
  })

  test('accepts a Headers object', () => {
    expect(verify(new Headers(signed()))).toEqual({ ok: true, whisperer: true, standard: true })
  })

  test('accepts array header values', () => {
    const headers = signed()
    expect(verify({ ...headers, 'x-whisperer-signature': [headers['x-whisperer-signature']] })).toMatchObject(
      {
        ok: true,
      },
    )
  })

  test('accepts any one of several space-separated signatures', () => {
    const good = receiver(secret).sign(id, at(timestamp), body)
    expect(verify(signed({ 'webhook-signature': `v1,c29tZXRoaW5nIGVsc2U= ${good}` }))).toMatchObject({
      ok: true,
    })
  })

  test('missing signature headers give missing_signature', () => {
    expect(verify({})).toEqual({ ok: false, reason: 'missing_signature' })
    expect(verify({ 'webhook-id': id, 'webhook-timestamp': String(timestamp) })).toEqual({
      ok: false,
      reason: 'missing_signature',
    })
  })

  test('a wrong X-Whisperer-Signature gives bad_signature', () => {
    expect(verify(signed({ 'x-whisperer-signature': whispererSignature('other', body) }))).toEqual({
      ok: false,
      reason: 'bad_signature',
    })
    expect(
      verifySignature({
        secret,
        body,
        headers: { 'x-whisperer-signature': 'sha256=00' },
        now: at(timestamp),
        allowUntimestamped: true,
      }),
    ).toEqual({ ok: false, reason: 'bad_signature' })
  })

  test('a wrong Standard Webhooks signature gives bad_signature', () => {
    const wrong = receiver('other').sign(id, at(timestamp), body)
    expect(verify(signed({ 'webhook-signature': wrong }))).toEqual({ ok: false, reason: 'bad_signature' })
  })

  test('a tampered body gives bad_signature', () => {
    const result = verifySignature({ secret, body: `${body} `, headers: signed(), now: at(timestamp) })
    expect(result).toEqual({ ok: false, reason: 'bad_signature' })
  })

  test('a tampered webhook-id gives bad_signature', () => {
    expect(verify(signed({ 'webhook-id': 'another' }))).toEqual({ ok: false, reason: 'bad_signature' })
  })

  test('a signature of another version gives bad_signature', () => {
    const good = receiver(secret).sign(id, at(timestamp), body)
    expect(verify(signed({ 'webhook-signature': good.replace('v1,', 'v2,') }))).toEqual({
      ok: false,
      reason: 'bad_signature',
    })
  })

  test('every signature present must match', () => {
    const legacyOnlyGood = signed({ 'webhook-signature': receiver('other').sign(id, at(timestamp), body) })
    expect(verify(legacyOnlyGood)).toEqual({ ok: false, reason: 'bad_signature' })
    const standardOnlyGood = signed({ 'x-whisperer-signature': whispererSignature('other', body) })
    expect(verify(standardOnlyGood)).toEqual({ ok: false, reason: 'bad_signature' })
  })

  test('a timestamp 5 minutes away is still fresh', () => {
    expect(verify(signed(), at(timestamp + 300))).toMatchObject({ ok: true })
    expect(verify(signed(), at(timestamp - 300))).toMatchObject({ ok: true })
  })

  test('an old timestamp gives stale_timestamp', () => {
    expect(verify(signed(), at(timestamp + 301))).toEqual({ ok: false, reason: 'stale_timestamp' })
  })

  test('a future timestamp gives stale_timestamp', () => {
    expect(verify(signed(), at(timestamp - 301))).toEqual({ ok: false, reason: 'stale_timestamp' })
  })

  test('toleranceSeconds sets the window', () => {
    const options = { secret, body, headers: signed(), toleranceSeconds: 10 }
    expect(verifySignature({ ...options, now: at(timestamp + 10) })).toMatchObject({ ok: true })
    expect(verifySignature({ ...options, now: at(timestamp + 11) })).toEqual({
      ok: false,
      reason: 'stale_timestamp',
    })
  })

  test('a missing or malformed timestamp gives stale_timestamp', () => {
    expect(verify(signed({ 'webhook-timestamp': undefined }))).toEqual({
      ok: false,
      reason: 'stale_timestamp',
    })
    expect(verify(signed({ 'webhook-timestamp': 'yesterday' }))).toEqual({
      ok: false,
      reason: 'stale_timestamp',
    })
    expect(verify(signed({ 'webhook-timestamp': `${timestamp}.5` }))).toEqual({
      ok: false,
      reason: 'stale_timestamp',
    })
  })

  test('the X-Whisperer-Signature alone carries no timestamp to check', () => {
    const headers = { 'x-whisperer-signature': whispererSignature(secret, body) }
    const now = at(timestamp + 10 ** 6)
    expect(verifySignature({ secret, body, headers, now, allowUntimestamped: true })).toMatchObject({
      ok: true,
    })
  })
})
