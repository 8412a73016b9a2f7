import { sign, verify } from 'node:crypto'
import { describe, expect, test } from 'vitest'
import {
  ed25519PrivateKey,
  ed25519PublicKey,
  generateSecret,
  hmacKeyBytes,
  liveSigners,
  newSigningKey,
  publicKeyOf,
  type Signer,
  secretKeyProblem,
  toSigner,
} from '../../src/core/signing-keys.ts'

const whsecOf = (bytes: number) => `whsec_${Buffer.alloc(bytes, 7).toString('base64')}`
const whskOf = (bytes: number) => `whsk_${Buffer.alloc(bytes, 9).toString('base64')}`
const decoded = (key: string) => Buffer.from(key.slice(key.indexOf('_') + 1), 'base64')
const now = new Date('2026-01-01T00:00:00Z')

describe('secretKeyProblem', () => {
  test.each(['my-secret', 'clé-秘密', 'whsec', 'WHSEC_x', 'whsk_anything'])(
    'any string not starting whsec_ is an HMAC secret: %j',
    (secret) => {
      expect(secretKeyProblem(secret, 'hmac-sha256')).toBeNull()
    },
  )

  test.each([
    ['not base64', 'whsec_not base64!'],
    ['a base64url character', `whsec_${'a'.repeat(31)}-`],
    ['nothing after the prefix', 'whsec_'],
    ['a stray character count', `whsec_${'A'.repeat(33)}`],
  ])('a whsec_ secret with %s is refused', (_label, secret) => {
    expect(secretKeyProblem(secret, 'hmac-sha256')).toMatch(/base64|decodes/)
  })

  test('a whsec_ secret of 23 bytes is too short', () => {
    const problem = secretKeyProblem(whsecOf(23), 'hmac-sha256')
    expect(problem).toContain('at least 24')
    expect(problem).toContain('23')
  })

  test('a whsec_ secret of 65 bytes is too long', () => {
    const problem = secretKeyProblem(whsecOf(65), 'hmac-sha256')
    expect(problem).toContain('at most 64')
    expect(problem).toContain('65')
  })

  test.each([24, 32, 64])('a whsec_ secret of %i bytes is accepted', (bytes) => {
    expect(secretKeyProblem(whsecOf(bytes), 'hmac-sha256')).toBeNull()
  })

  test('the published Standard Webhooks secret is accepted', () => {
    expect(secretKeyProblem('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'hmac-sha256')).toBeNull()
  })

  test('ed25519 takes whsk_ and the base64 of a 32-byte seed', () => {
    expect(secretKeyProblem(whskOf(32), 'ed25519')).toBeNull()
  })

  test.each([
    ['a plain secret', 'my-secret'],
    ['a whsec_ secret', whsecOf(32)],
    ['a whpk_ public key', `whpk_${Buffer.alloc(32, 1).toString('base64')}`],
    ['a 31-byte seed', whskOf(31)],
    ['a 33-byte seed', whskOf(33)],
    ['a seed not in base64', 'whsk_not base64!'],
    ['nothing after the prefix', 'whsk_'],
  ])('ed25519 refuses %s', (_label, secret) => {
    expect(secretKeyProblem(secret, 'ed25519')).toContain('whsk_')
  })
})

describe('generateSecret', () => {
  test('an HMAC secret is whsec_ and 32 random bytes, with no public key', () => {
    const { secret, publicKey } = generateSecret('hmac-sha256')
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/)
    expect(decoded(secret)).toHaveLength(32)
    expect(publicKey).toBeNull()
    expect(secretKeyProblem(secret, 'hmac-sha256')).toBeNull()
  })

  test('two HMAC secrets differ', () => {
    expect(generateSecret('hmac-sha256').secret).not.toBe(generateSecret('hmac-sha256').secret)
  })

  test('an ed25519 pair is whsk_ and whpk_, 32 bytes each, and consistent', () => {
    const { secret, publicKey } = generateSecret('ed25519')
    expect(secret).toMatch(/^whsk_/)
    expect(publicKey).toMatch(/^whpk_/)
    expect(decoded(secret)).toHaveLength(32)
    expect(decoded(publicKey!)).toHaveLength(32)
    expect(secretKeyProblem(secret, 'ed25519')).toBeNull()
    expect(publicKeyOf(secret)).toBe(publicKey)
    const message = Buffer.from('id.1.body')
    const signature = sign(null, message, ed25519PrivateKey(secret))
    expect(verify(null, message, ed25519PublicKey(publicKey!), signature)).toBe(true)
  })

  test('two ed25519 pairs differ', () => {
    const one = generateSecret('ed25519')
    const two = generateSecret('ed25519')
    expect(one.secret).not.toBe(two.secret)
    expect(one.publicKey).not.toBe(two.publicKey)
  })
})

describe('publicKeyOf', () => {
  test('derives the RFC 8032 public key of a seed', () => {
    // RFC 8032 section 7.1, TEST 1.
    const seed = Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex')
    const expected = Buffer.from('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a', 'hex')
    expect(publicKeyOf(`whsk_${seed.toString('base64')}`)).toBe(`whpk_${expected.toString('base64')}`)
  })
})

describe('hmacKeyBytes', () => {
  test('a whsec_ secret gives the bytes its base64 encodes', () => {
    expect(hmacKeyBytes(whsecOf(32))).toEqual(Buffer.alloc(32, 7))
  })

  test('a plain secret gives its UTF-8 bytes', () => {
    expect(hmacKeyBytes('clé-秘密')).toEqual(Buffer.from('clé-秘密', 'utf8'))
  })

  test('the utf8 flag keeps the UTF-8 bytes of a whsec_ secret', () => {
    const secret = whsecOf(32)
    expect(hmacKeyBytes(secret, true)).toEqual(Buffer.from(secret, 'utf8'))
  })

  test('a whsec_ secret that is not base64 gives its UTF-8 bytes', () => {
    expect(hmacKeyBytes('whsec_not base64!')).toEqual(Buffer.from('whsec_not base64!', 'utf8'))
  })
})

describe('newSigningKey', () => {
  test('keeps a given HMAC secret, current (no expiry)', () => {
    expect(newSigningKey('hmac-sha256', 'my-secret', now)).toEqual({
      scheme: 'hmac-sha256',
      secret: 'my-secret',
      publicKey: null,
      createdAt: now,
      expiresAt: null,
    })
  })

  test('generates an HMAC secret when left out', () => {
    const key = newSigningKey('hmac-sha256', undefined, now)
    expect(key.secret).toMatch(/^whsec_/)
    expect(decoded(key.secret)).toHaveLength(32)
    expect(key.publicKey).toBeNull()
  })

  test('derives the public key of a given ed25519 secret', () => {
    const secret = whskOf(32)
    expect(newSigningKey('ed25519', secret, now)).toEqual({
      scheme: 'ed25519',
      secret,
      publicKey: publicKeyOf(secret),
      createdAt: now,
      expiresAt: null,
    })
  })

  test('generates an ed25519 pair when left out', () => {
    const key = newSigningKey('ed25519', undefined, now)
    expect(key.secret).toMatch(/^whsk_/)
    expect(key.publicKey).toBe(publicKeyOf(key.secret))
  })
})

describe('toSigner', () => {
  test('an HMAC whsec_ key signs with its decoded bytes and keeps the secret for X-Whisperer-Signature', () => {
    const secret = whsecOf(32)
    const expiresAt = new Date('2026-01-02T00:00:00Z')
    const signer = toSigner({ scheme: 'hmac-sha256', secret, publicKey: null, createdAt: now, expiresAt })
    expect(signer.scheme).toBe('hmac-sha256')
    expect(signer.secret).toBe(secret)
    expect(signer.key.type).toBe('secret')
    expect(signer.key.export()).toEqual(Buffer.alloc(32, 7))
    expect(signer.expiresAt).toBe(expiresAt.getTime())
  })

  test('an HMAC key stored with utf8 signs with the UTF-8 bytes of its secret', () => {
    const secret = whsecOf(32)
    const signer = toSigner({
      scheme: 'hmac-sha256',
      secret,
      publicKey: null,
      utf8: true,
      createdAt: now,
      expiresAt: null,
    })
    expect(signer.key.export()).toEqual(Buffer.from(secret, 'utf8'))
    expect(signer.expiresAt).toBeNull()
  })

  test('a plain HMAC secret signs with its UTF-8 bytes', () => {
    const signer = toSigner(newSigningKey('hmac-sha256', 'clé-秘密', now))
    expect(signer.key.export()).toEqual(Buffer.from('clé-秘密', 'utf8'))
  })

  test('an ed25519 key gives a private key and no secret', () => {
    const key = newSigningKey('ed25519', undefined, now)
    const signer = toSigner(key)
    expect(signer.scheme).toBe('ed25519')
    expect(signer.secret).toBeNull()
    expect(signer.key.type).toBe('private')
    expect(signer.key.asymmetricKeyType).toBe('ed25519')
    const message = Buffer.from('id.1.body')
    expect(verify(null, message, ed25519PublicKey(key.publicKey!), sign(null, message, signer.key))).toBe(
      true,
    )
  })
})

describe('liveSigners', () => {
  const at = now.getTime()
  const signer = (expiresAt: number | null): Signer => ({
    ...toSigner(newSigningKey('hmac-sha256', 'my-secret', now)),
    expiresAt,
  })

  test('keeps the current key and those expiring after the moment, in their order', () => {
    const current = signer(null)
    const later = signer(at + 1)
    const expiring = signer(at)
    const expired = signer(at - 1)
    expect(liveSigners([current, expired, later, expiring], at)).toEqual([current, later])
  })

  test('a key that expires at that very moment is not live', () => {
    expect(liveSigners([signer(null), signer(at)], at)).toHaveLength(1)
    expect(liveSigners([signer(null), signer(at)], at - 1)).toHaveLength(2)
  })

  test('returns the same array when none has expired', () => {
    const signers = [signer(null), signer(at + 1000)]
    expect(liveSigners(signers, at)).toBe(signers)
  })

  test('returns a new array when one has expired, leaving the given one alone', () => {
    const signers = [signer(null), signer(at - 1000)]
    const live = liveSigners(signers, at)
    expect(live).not.toBe(signers)
    expect(live).toEqual([signers[0]])
    expect(signers).toHaveLength(2)
  })
})
