import {
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
} from 'node:crypto'

/**
 * How a webhook's requests are signed: `hmac-sha256` (Standard Webhooks `v1`, and
 * `X-Whisperer-Signature`) with a shared secret, or `ed25519` (Standard Webhooks `v1a`) with a
 * private key Whisperer keeps, verified with its public key.
 */
export type SignatureScheme = 'hmac-sha256' | 'ed25519'

export const signatureSchemes = ['hmac-sha256', 'ed25519'] as const satisfies readonly SignatureScheme[]

/** One key of a webhook, newest first in its list; the secret is in clear here. */
export interface SigningKey {
  scheme: SignatureScheme
  /** HMAC: the secret as given (plain or `whsec_…`); ed25519: the private key, `whsk_…`. */
  secret: string
  /** ed25519: the public key, `whpk_…`; null for HMAC. */
  publicKey: string | null
  /**
   * HMAC: the key is the secret's UTF-8 bytes even when it starts with `whsec_` (secrets stored
   * before Standard Webhooks keys were understood keep their signatures).
   */
  utf8?: boolean
  createdAt: Date
  /** Null for the current key; a previous key signs until then. */
  expiresAt: Date | null
}

/** The most keys a webhook has live at once: its current key and those still in their grace period. */
export const maxLiveKeys = 10
/** The longest grace period of a rotation, and its default. */
export const maxGraceSeconds = 7 * 86_400
export const defaultGraceSeconds = 86_400

const hmacPrefix = 'whsec_'
const privatePrefix = 'whsk_'
const publicPrefix = 'whpk_'
const base64 = /^[A-Za-z0-9+/]*={0,2}$/

/** Why a secret cannot be used with a scheme; null when it can. */
export function secretKeyProblem(secret: string, scheme: SignatureScheme): string | null {
  if (scheme === 'ed25519') {
    if (!secret.startsWith(privatePrefix)) {
      return 'An ed25519 key is "whsk_" and the base64 of a 32-byte seed; leave it out to have one generated.'
    }
    const seed = decodeBase64(secret.slice(privatePrefix.length))
    return seed?.length === 32 ? null : 'An ed25519 key is "whsk_" and the base64 of a 32-byte seed.'
  }
  if (!secret.startsWith(hmacPrefix)) return null
  const key = decodeBase64(secret.slice(hmacPrefix.length))
  if (!key) return 'A "whsec_" secret continues in base64.'
  if (key.length < 24)
    return `A "whsec_" secret decodes to at least 24 bytes; this one decodes to ${key.length}.`
  if (key.length > 64)
    return `A "whsec_" secret decodes to at most 64 bytes; this one decodes to ${key.length}.`
  return null
}

/** A new key: a `whsec_` secret of 32 random bytes, or an ed25519 key pair. */
export function generateSecret(scheme: SignatureScheme): { secret: string; publicKey: string | null } {
  if (scheme === 'hmac-sha256')
    return { secret: `${hmacPrefix}${randomBytes(32).toString('base64')}`, publicKey: null }
  const jwk = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' })
  return {
    secret: `${privatePrefix}${Buffer.from(jwk.d!, 'base64url').toString('base64')}`,
    publicKey: `${publicPrefix}${Buffer.from(jwk.x!, 'base64url').toString('base64')}`,
  }
}

/** The `whpk_` public key of a `whsk_` private key. */
export function publicKeyOf(secret: string): string {
  const raw = createPublicKey(ed25519PrivateKey(secret)).export({ format: 'jwk' }).x!
  return `${publicPrefix}${Buffer.from(raw, 'base64url').toString('base64')}`
}

/** The HMAC key of a secret: the bytes a `whsec_` secret encodes, otherwise its UTF-8 bytes. */
export function hmacKeyBytes(secret: string, utf8 = false): Buffer {
  if (!utf8 && secret.startsWith(hmacPrefix)) {
    const key = decodeBase64(secret.slice(hmacPrefix.length))
    if (key && key.length > 0) return key
  }
  return Buffer.from(secret, 'utf8')
}

/** A key ready to sign with: parsed once per webhook version, used for every attempt. */
export interface Signer {
  scheme: SignatureScheme
  /** HMAC: the secret as given, the key of `X-Whisperer-Signature`; null for ed25519. */
  secret: string | null
  /** The HMAC key, or the ed25519 private key. */
  key: KeyObject
  /** Milliseconds since the epoch; null for the current key. */
  expiresAt: number | null
}

export function toSigner(key: SigningKey): Signer {
  return {
    scheme: key.scheme,
    secret: key.scheme === 'hmac-sha256' ? key.secret : null,
    key:
      key.scheme === 'hmac-sha256'
        ? createSecretKey(hmacKeyBytes(key.secret, key.utf8))
        : ed25519PrivateKey(key.secret),
    expiresAt: key.expiresAt?.getTime() ?? null,
  }
}

/** The signers still live at `at` (ms), newest first. */
export function liveSigners(signers: readonly Signer[], at: number): readonly Signer[] {
  return signers.every((signer) => signer.expiresAt === null || signer.expiresAt > at)
    ? signers
    : signers.filter((signer) => signer.expiresAt === null || signer.expiresAt > at)
}

/** The ed25519 private key of a `whsk_` secret (the base64 of its 32-byte seed). */
export function ed25519PrivateKey(secret: string): KeyObject {
  const seed = Buffer.from(secret.slice(privatePrefix.length), 'base64')
  return createPrivateKey({ key: Buffer.concat([pkcs8Ed25519, seed]), format: 'der', type: 'pkcs8' })
}

/** The ed25519 public key of a `whpk_` key (the base64 of its 32 bytes). */
export function ed25519PublicKey(publicKey: string): KeyObject {
  const raw = publicKey.startsWith(publicPrefix) ? decodeBase64(publicKey.slice(publicPrefix.length)) : null
  if (raw?.length !== 32) throw new TypeError('An ed25519 public key is "whpk_" and the base64 of 32 bytes.')
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' })
}

// The DER of a PKCS#8 ed25519 private key, before its 32-byte seed (RFC 8410).
const pkcs8Ed25519 = Buffer.from('302e020100300506032b657004220420', 'hex')

function decodeBase64(text: string): Buffer | null {
  if (text.length === 0 || !base64.test(text) || text.replace(/=+$/, '').length % 4 === 1) return null
  return Buffer.from(text, 'base64')
}

/** A new current key of `scheme`: `secret` when given, otherwise generated. */
export function newSigningKey(scheme: SignatureScheme, secret: string | undefined, now: Date): SigningKey {
  const generated = secret === undefined ? generateSecret(scheme) : null
  const value = secret ?? generated!.secret
  return {
    scheme,
    secret: value,
    publicKey: scheme === 'ed25519' ? (generated?.publicKey ?? publicKeyOf(value)) : null,
    createdAt: now,
    expiresAt: null,
  }
}
