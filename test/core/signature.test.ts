import { createHmac, createPublicKey, verify as ed25519Verify } from 'node:crypto'
import { Webhook } from 'standardwebhooks'
import { describe, expect, test, vi } from 'vitest'
import {
  signatures,
  standardSignature,
  verifySignature,
  whispererSignature,
} from '../../src/core/signature.ts'
import {
  generateSecret,
  newSigningKey,
  type SignatureScheme,
  type SigningKey,
  toSigner,
} from '../../src/core/signing-keys.ts'

const body = '{"event":{"type":"package-created","uuid":"da81e85139824c6187dd1e58a7d3f971"},"data":{"id":61}}'
const id = 'da81e85139824c6187dd1e58a7d3f971'
const timestamp = 1_767_225_600
const at = (seconds: number) => new Date(seconds * 1000)
const nowSeconds = () => Math.floor(Date.now() / 1000)

/** The key of a plain secret is its UTF-8 bytes: a standardwebhooks receiver takes them in base64. */
const plainReceiver = (secret: string) => new Webhook(Buffer.from(secret, 'utf8').toString('base64'))
const hmac = (key: Buffer, data: string, encoding: 'hex' | 'base64') =>
  createHmac('sha256', key).update(Buffer.from(data, 'utf8')).digest(encoding)
const utf8 = (text: string) => Buffer.from(text, 'utf8')
const signerOf = (scheme: SignatureScheme, secret: string, publicKey: string | null = null) =>
  toSigner({ scheme, secret, publicKey, createdAt: at(timestamp), expiresAt: null })
const headersOf = (signature: string, seconds = timestamp) => ({
  'webhook-id': id,
  'webhook-timestamp': String(seconds),
  'webhook-signature': signature,
})

const whsec = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
const whsecBytes = Buffer.from('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'base64')
const plainSecrets = [
  ['an ASCII secret', 'my-secret'],
  ['a non-ASCII secret', 'clé-秘密'],
  ['a secret that looks like base64', 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
] as const

describe('whispererSignature', () => {
  test('matches RFC 4231 test case 2', () => {
    expect(whispererSignature('Jefe', 'what do ya want for nothing?')).toBe(
      'sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    )
  })

  test('is lowercase hex after sha256=', () => {
    expect(whispererSignature('secret', body)).toMatch(/^sha256=[0-9a-f]{64}$/)
  })

  test.each(plainSecrets)('keys %s with its UTF-8 bytes and signs the UTF-8 body', (_label, secret) => {
    const text = '{"name":"Zoë ☃"}'
    expect(whispererSignature(secret, text)).toBe(`sha256=${hmac(utf8(secret), text, 'hex')}`)
  })

  test('keys a whsec_ secret with the whole string as given, not its decoded bytes', () => {
    expect(whispererSignature(whsec, body)).toBe(`sha256=${hmac(utf8(whsec), body, 'hex')}`)
    expect(whispererSignature(whsec, body)).not.toBe(`sha256=${hmac(whsecBytes, body, 'hex')}`)
  })

  test('changes with the body and with the secret', () => {
    const base = whispererSignature('secret', body)
    expect(whispererSignature('secret', `${body} `)).not.toBe(base)
    expect(whispererSignature('Secret', body)).not.toBe(base)
  })
})

describe('standardSignature', () => {
  test.each(plainSecrets)('keys %s with its UTF-8 bytes, as before', (_label, secret) => {
    expect(standardSignature(secret, id, timestamp, body)).toBe(
      `v1,${hmac(utf8(secret), `${id}.${timestamp}.${body}`, 'base64')}`,
    )
  })

  test.each(plainSecrets)('verifies with standardwebhooks given the UTF-8 bytes of %s', (_label, secret) => {
    const now = nowSeconds()
    const headers = headersOf(standardSignature(secret, id, now, body), now)
    expect(plainReceiver(secret).verify(body, headers)).toEqual(JSON.parse(body))
  })

  test('keys a whsec_ secret with the bytes its base64 encodes', () => {
    expect(standardSignature(whsec, id, timestamp, body)).toBe(
      `v1,${hmac(whsecBytes, `${id}.${timestamp}.${body}`, 'base64')}`,
    )
    expect(standardSignature(whsec, id, timestamp, body)).not.toBe(
      `v1,${hmac(utf8(whsec), `${id}.${timestamp}.${body}`, 'base64')}`,
    )
  })

  test('a whsec_ secret verifies with new Webhook(secret) from standardwebhooks', () => {
    const now = nowSeconds()
    const headers = headersOf(standardSignature(whsec, id, now, body), now)
    expect(new Webhook(whsec).verify(body, headers)).toEqual(JSON.parse(body))
  })

  test('is refused by standardwebhooks under another secret', () => {
    const now = nowSeconds()
    const headers = headersOf(standardSignature(generateSecret('hmac-sha256').secret, id, now, body), now)
    expect(() => new Webhook(generateSecret('hmac-sha256').secret).verify(body, headers)).toThrow()
  })

  test('is v1, and base64', () => {
    expect(standardSignature('secret', id, timestamp, body)).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/)
    expect(standardSignature(whsec, id, timestamp, body)).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/)
  })

  test('covers the id and the timestamp', () => {
    const base = standardSignature('secret', id, timestamp, body)
    expect(standardSignature('secret', 'other', timestamp, body)).not.toBe(base)
    expect(standardSignature('secret', id, timestamp + 1, body)).not.toBe(base)
  })
})

// libraries/testdata/signatures.json of github.com/standard-webhooks/standard-webhooks; its secret
// is given there without the whsec_ prefix a Whisperer secret carries.
describe('the Standard Webhooks test vector', () => {
  const vector = {
    id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
    timestamp: 1_696_200_454,
    secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    payload:
      '{"type": "example.created", "timestamp":"2023-09-28T19:20:22+00:00", "data":{"str":"string","bool":true,"int":42}}',
    signature: 'v1,GgjvufBlIj71MBIVQotYGb+xEC3LNXCsIZp0HsDC8qs=',
  }
  const headers = {
    'webhook-id': vector.id,
    'webhook-timestamp': String(vector.timestamp),
    'webhook-signature': vector.signature,
  }

  test('standardSignature reproduces it', () => {
    expect(standardSignature(vector.secret, vector.id, vector.timestamp, vector.payload)).toBe(
      vector.signature,
    )
  })

  test('signatures() with the secret as a signer reproduces it', () => {
    expect(
      signatures([signerOf('hmac-sha256', vector.secret)], vector.id, vector.timestamp, vector.payload),
    ).toBe(vector.signature)
  })

  test('new Webhook(secret) from standardwebhooks verifies it', () => {
    const receiver = new Webhook(vector.secret)
    expect(receiver.sign(vector.id, at(vector.timestamp), vector.payload)).toBe(vector.signature)
    // The library checks the timestamp against its own clock, so its clock is set to the vector's time.
    vi.useFakeTimers({ toFake: ['Date'], now: at(vector.timestamp + 1) })
    try {
      expect(receiver.verify(vector.payload, headers)).toEqual(JSON.parse(vector.payload))
      expect(() => receiver.verify(`${vector.payload} `, headers)).toThrow()
    } finally {
      vi.useRealTimers()
    }
  })

  test('verifySignature verifies it', () => {
    const options = { body: vector.payload, headers, now: at(vector.timestamp + 1) }
    expect(verifySignature({ ...options, secret: vector.secret })).toEqual({
      ok: true,
      whisperer: false,
      standard: true,
    })
    expect(verifySignature({ ...options, secret: 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' })).toEqual({
      ok: false,
      reason: 'bad_signature',
    })
  })
})

describe('signatures', () => {
  const now = new Date()
  const hmacKeys = (count: number): SigningKey[] =>
    Array.from({ length: count }, () => newSigningKey('hmac-sha256', undefined, now))

  test('one HMAC signer gives the standardSignature of its secret', () => {
    const [key] = hmacKeys(1)
    expect(signatures([toSigner(key!)], id, timestamp, body)).toBe(
      standardSignature(key!.secret, id, timestamp, body),
    )
    expect(signatures([signerOf('hmac-sha256', 'my-secret')], id, timestamp, body)).toBe(
      standardSignature('my-secret', id, timestamp, body),
    )
  })

  test('no signer gives an empty header', () => {
    expect(signatures([], id, timestamp, body)).toBe('')
  })

  test('several signers give one signature each, space-separated, in their order (newest first)', () => {
    const keys = hmacKeys(3)
    const header = signatures(keys.map(toSigner), id, timestamp, body)
    expect(header.split(' ')).toEqual(keys.map((key) => standardSignature(key.secret, id, timestamp, body)))
    expect(new Set(header.split(' ')).size).toBe(3)
  })

  test('a receiver holding any one of the keys verifies with standardwebhooks', () => {
    const keys = hmacKeys(3)
    const seconds = nowSeconds()
    const headers = headersOf(signatures(keys.map(toSigner), id, seconds, body), seconds)
    for (const key of keys) {
      expect(new Webhook(key.secret).verify(body, headers)).toEqual(JSON.parse(body))
    }
    expect(() => new Webhook(generateSecret('hmac-sha256').secret).verify(body, headers)).toThrow()
  })

  test('a receiver holding any one of the keys verifies with verifySignature', () => {
    const keys = hmacKeys(3)
    const headers = headersOf(signatures(keys.map(toSigner), id, timestamp, body))
    for (const key of keys) {
      expect(verifySignature({ secret: key.secret, body, headers, now: at(timestamp) })).toEqual({
        ok: true,
        whisperer: false,
        standard: true,
      })
    }
    const stranger = generateSecret('hmac-sha256').secret
    expect(verifySignature({ secret: stranger, body, headers, now: at(timestamp) })).toEqual({
      ok: false,
      reason: 'bad_signature',
    })
  })

  test('HMAC and ed25519 signers together: each receiver verifies with its own key', () => {
    const ed = newSigningKey('ed25519', undefined, now)
    const [mac] = hmacKeys(1)
    const header = signatures([toSigner(ed), toSigner(mac!)], id, timestamp, body)
    const [first, second] = header.split(' ')
    expect(first).toMatch(/^v1a,/)
    expect(second).toBe(standardSignature(mac!.secret, id, timestamp, body))
    const headers = headersOf(header)
    const options = { body, headers, now: at(timestamp) }
    expect(verifySignature({ ...options, publicKey: ed.publicKey! })).toMatchObject({ ok: true })
    expect(verifySignature({ ...options, secret: mac!.secret })).toMatchObject({ ok: true })
    expect(verifySignature({ ...options, publicKey: generateSecret('ed25519').publicKey! })).toEqual({
      ok: false,
      reason: 'bad_signature',
    })
  })
})

describe('ed25519', () => {
  const pair = () => {
    const { secret, publicKey } = generateSecret('ed25519')
    return { secret, publicKey: publicKey!, signer: signerOf('ed25519', secret, publicKey) }
  }
  /** The public key a receiver builds from the `whpk_` key alone, with nothing from Whisperer. */
  const receiverKey = (publicKey: string) =>
    createPublicKey({
      key: {
        kty: 'OKP',
        crv: 'Ed25519',
        x: Buffer.from(publicKey.slice('whpk_'.length), 'base64').toString('base64url'),
      },
      format: 'jwk',
    })
  const signatureBytes = (header: string) => Buffer.from(header.slice('v1a,'.length), 'base64')

  test('signs v1a, with the base64 of a 64-byte signature', () => {
    const header = signatures([pair().signer], id, timestamp, body)
    expect(header).toMatch(/^v1a,[A-Za-z0-9+/]{86}==$/)
    expect(signatureBytes(header)).toHaveLength(64)
  })

  test('the signature verifies with node:crypto from the whpk_ public key alone', () => {
    const { publicKey, signer } = pair()
    const signature = signatureBytes(signatures([signer], id, timestamp, body))
    const key = receiverKey(publicKey)
    expect(ed25519Verify(null, Buffer.from(`${id}.${timestamp}.${body}`), key, signature)).toBe(true)
    expect(ed25519Verify(null, Buffer.from(`${id}.${timestamp}.${body} `), key, signature)).toBe(false)
    expect(ed25519Verify(null, Buffer.from(`${id}.${timestamp + 1}.${body}`), key, signature)).toBe(false)
    expect(
      ed25519Verify(
        null,
        Buffer.from(`${id}.${timestamp}.${body}`),
        receiverKey(pair().publicKey),
        signature,
      ),
    ).toBe(false)
  })

  test('a key from newSigningKey signs what its public key verifies', () => {
    const key = newSigningKey('ed25519', undefined, new Date())
    expect(key.secret).toMatch(/^whsk_/)
    expect(key.publicKey).toMatch(/^whpk_/)
    const signature = signatureBytes(signatures([toSigner(key)], id, timestamp, body))
    expect(
      ed25519Verify(null, Buffer.from(`${id}.${timestamp}.${body}`), receiverKey(key.publicKey!), signature),
    ).toBe(true)
  })

  test('verifySignature with the public key accepts it, and refuses a tampered body or another key', () => {
    const { publicKey, signer } = pair()
    const headers = headersOf(signatures([signer], id, timestamp, body))
    expect(verifySignature({ publicKey, body, headers, now: at(timestamp) })).toEqual({
      ok: true,
      whisperer: false,
      standard: true,
    })
    expect(
      verifySignature({ publicKey: [pair().publicKey, publicKey], body, headers, now: at(timestamp) }),
    ).toMatchObject({ ok: true })
    expect(verifySignature({ publicKey, body: `${body} `, headers, now: at(timestamp) })).toEqual({
      ok: false,
      reason: 'bad_signature',
    })
    expect(verifySignature({ publicKey: pair().publicKey, body, headers, now: at(timestamp) })).toEqual({
      ok: false,
      reason: 'bad_signature',
    })
    expect(verifySignature({ publicKey, body, headers, now: at(timestamp + 301) })).toEqual({
      ok: false,
      reason: 'stale_timestamp',
    })
  })

  test('a malformed v1a signature is refused, not thrown', () => {
    const { publicKey } = pair()
    for (const signature of ['v1a,AAAA', 'v1a,', 'v1a,!!not base64!!']) {
      expect(verifySignature({ publicKey, body, headers: headersOf(signature), now: at(timestamp) })).toEqual(
        {
          ok: false,
          reason: 'bad_signature',
        },
      )
    }
  })

  test('a v1a signature never passes HMAC verification', () => {
    const { secret, signer } = pair()
    const header = signatures([signer], id, timestamp, body)
    const options = { body, now: at(timestamp) }
    // Neither with an HMAC secret, nor with the ed25519 private key itself given as a secret,
    // nor relabelled as v1.
    for (const candidate of [generateSecret('hmac-sha256').secret, secret, 'my-secret']) {
      expect(verifySignature({ ...options, secret: candidate, headers: headersOf(header) })).toEqual({
        ok: false,
        reason: 'bad_signature',
      })
      expect(
        verifySignature({ ...options, secret: candidate, headers: headersOf(header.replace('v1a,', 'v1,')) }),
      ).toEqual({ ok: false, reason: 'bad_signature' })
    }
    expect(() => new Webhook(generateSecret('hmac-sha256').secret).verify(body, headersOf(header))).toThrow()
  })

  test('a v1 signature never passes public-key verification', () => {
    const { publicKey } = pair()
    const mac = standardSignature(generateSecret('hmac-sha256').secret, id, timestamp, body)
    const options = { publicKey, body, now: at(timestamp) }
    expect(verifySignature({ ...options, headers: headersOf(mac) })).toEqual({
      ok: false,
      reason: 'bad_signature',
    })
    expect(verifySignature({ ...options, headers: headersOf(mac.replace('v1,', 'v1a,')) })).toEqual({
      ok: false,
      reason: 'bad_signature',
    })
  })
})

describe('verifySignature', () => {
  const secret = 'my-secret'
  const signed = (overrides: Record<string, string | undefined> = {}) => ({
    'x-whisperer-signature': whispererSignature(secret, body),
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': plainReceiver(secret).sign(id, at(timestamp), body),
    ...overrides,
  })
  const verify = (headers: Record<string, string | string[] | undefined> | Headers, now = at(timestamp)) =>
    verifySignature({ secret, body, headers, now })

  test('accepts both signatures', () => {
    expect(verify(signed())).toEqual({ ok: true, whisperer: true, standard: true })
  })

  test('accepts both signatures of a whsec_ secret', () => {
    const headers = {
      'x-whisperer-signature': whispererSignature(whsec, body),
      ...headersOf(standardSignature(whsec, id, timestamp, body)),
    }
    expect(verifySignature({ secret: whsec, body, headers, now: at(timestamp) })).toEqual({
      ok: true,
      whisperer: true,
      standard: true,
    })
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
      'Webhook-Signature': plainReceiver(secret).sign(id, at(timestamp), body),
    }
    expect(verify(headers)).toEqual({ ok: true, whisperer: true, standard: true })
    expect(verify({ ...headers, 'Webhook-Id': 'another' })).toEqual({ ok: false, reason: 'bad_signature' })
  })

  test('accepts a Headers object', () => {
    expect(verify(new Headers(signed()))).toEqual({ ok: true, whisperer: true, standard: true })
    expect(verify(new Headers(signed({ 'webhook-id': 'another' })))).toEqual({
      ok: false,
      reason: 'bad_signature',
    })
  })

  test('accepts array header values, reading the first', () => {
    const headers = signed()
    expect(verify({ ...headers, 'x-whisperer-signature': [headers['x-whisperer-signature']] })).toEqual({
      ok: true,
      whisperer: true,
      standard: true,
    })
    expect(
      verify({
        ...headers,
        'x-whisperer-signature': [whispererSignature('other', body), headers['x-whisperer-signature']],
      }),
    ).toEqual({ ok: true, whisperer: false, standard: true })
  })

  test('accepts any one of several space-separated signatures', () => {
    const good = plainReceiver(secret).sign(id, at(timestamp), body)
    expect(verify(signed({ 'webhook-signature': `v1,c29tZXRoaW5nIGVsc2U= ${good}` }))).toMatchObject({
      ok: true,
    })
  })

  test('accepts a secret among several (during a rotation)', () => {
    const headers = signed()
    expect(verifySignature({ secret: ['other', secret], body, headers, now: at(timestamp) })).toEqual({
      ok: true,
      whisperer: true,
      standard: true,
    })
    expect(verifySignature({ secret: ['other', 'another'], body, headers, now: at(timestamp) })).toEqual({
      ok: false,
      reason: 'bad_signature',
    })
  })

  test('missing signature headers give missing_signature', () => {
    expect(verify({})).toEqual({ ok: false, reason: 'missing_signature' })
    expect(verify({ 'webhook-id': id, 'webhook-timestamp': String(timestamp) })).toEqual({
      ok: false,
      reason: 'missing_signature',
    })
  })

  test('a wrong X-Whisperer-Signature alone gives bad_signature; beside a good webhook-signature it is reported', () => {
    expect(verify(signed({ 'x-whisperer-signature': whispererSignature('other', body) }))).toEqual({
      ok: true,
      whisperer: false,
      standard: true,
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
    const wrong = plainReceiver('other').sign(id, at(timestamp), body)
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
    const good = plainReceiver(secret).sign(id, at(timestamp), body)
    expect(verify(signed({ 'webhook-signature': good.replace('v1,', 'v2,') }))).toEqual({
      ok: false,
      reason: 'bad_signature',
    })
  })

  test('the timestamped signature decides: a good X-Whisperer-Signature never rescues a bad one', () => {
    const legacyOnlyGood = signed({
      'webhook-signature': plainReceiver('other').sign(id, at(timestamp), body),
    })
    expect(verify(legacyOnlyGood)).toEqual({ ok: false, reason: 'bad_signature' })
    expect(
      verifySignature({
        secret,
        body,
        headers: legacyOnlyGood,
        now: at(timestamp),
        allowUntimestamped: true,
      }),
    ).toEqual({ ok: false, reason: 'bad_signature' })
    // During a rotation X-Whisperer-Signature carries the newest key only: a receiver holding the old one still verifies.
    const standardOnlyGood = signed({ 'x-whisperer-signature': whispererSignature('newer', body) })
    expect(verify(standardOnlyGood)).toEqual({ ok: true, whisperer: false, standard: true })
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

test('verifySignature accepts a whsec_ secret still signing with its UTF-8 bytes (stored before keys were decoded)', () => {
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
  const id = 'msg_1'
  const timestamp = 1_767_225_600
  const body = '{"a":1}'
  const utf8 = createHmac('sha256', Buffer.from(secret, 'utf8'))
    .update(`${id}.${timestamp}.${body}`)
    .digest('base64')
  const headers = {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': `v1,${utf8}`,
  }
  const now = new Date(timestamp * 1000)
  expect(verifySignature({ secret, body, headers, now })).toMatchObject({ ok: true })
  expect(verifySignature({ secret, body: '{"a":2}', headers, now })).toEqual({
    ok: false,
    reason: 'bad_signature',
  })
})
