import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { WhispererError } from './errors.ts'

/** A value encrypted with AES-256-GCM: the id of its key, its 12-byte nonce, and ciphertext and tag. */
export interface Sealed {
  kid: string
  iv: string
  ct: string
}

/** A secret as stored: sealed when a key ring encrypts, otherwise the clear string. */
export type Stored = string | Sealed

const keyId = /^[A-Za-z0-9_.-]{1,64}$/
const tagLength = 16

/**
 * The encryption keys of secrets at rest (`WHISPERER_ENCRYPTION_KEYS`): the first encrypts, all
 * of them decrypt. Without keys, values are stored in clear. The cipher is AES-256-GCM from
 * `node:crypto`, with a random 96-bit nonce per value.
 */
export class KeyRing {
  readonly #keys: Map<string, Buffer>
  /** The id of the key new values are sealed with; null when secrets are stored in clear. */
  readonly current: string | null

  constructor(keys: readonly { id: string; key: Buffer }[] = []) {
    this.#keys = new Map(keys.map(({ id, key }) => [id, key]))
    this.current = keys[0]?.id ?? null
  }

  /**
   * Parses `id:base64key` entries (a list, or one string separated by commas or whitespace); each
   * key is 32 bytes of base64. Throws `invalid_options` naming the faulty entry.
   */
  static parse(spec: string | readonly string[] | undefined): KeyRing {
    const entries = (typeof spec === 'string' ? spec.split(/[\s,]+/) : (spec ?? []))
      .map((entry) => entry.trim())
      .filter(Boolean)
    const keys: { id: string; key: Buffer }[] = []
    for (const [index, entry] of entries.entries()) {
      const colon = entry.indexOf(':')
      const id = colon > 0 ? entry.slice(0, colon) : ''
      const problem = (message: string) =>
        new WhispererError('invalid_options', `encryptionKeys[${index}]: ${message}`)
      if (!keyId.test(id))
        throw problem('expected "id:base64key", with an id of letters, digits, "_", "." or "-".')
      if (keys.some((key) => key.id === id)) throw problem(`the key id "${id}" is given twice.`)
      const encoded = entry.slice(colon + 1)
      const key = Buffer.from(encoded, 'base64')
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || key.length !== 32) {
        throw problem(`the key "${id}" must be 32 bytes in base64 (openssl rand -base64 32).`)
      }
      keys.push({ id, key })
    }
    return new KeyRing(keys)
  }

  /** Whether new values are encrypted. */
  get encrypting(): boolean {
    return this.current !== null
  }

  /** The ids of the keys that can decrypt. */
  get ids(): string[] {
    return [...this.#keys.keys()]
  }

  /** `plain` sealed with the current key; in clear without one. */
  seal(plain: string): Stored {
    if (this.current === null) return plain
    const iv = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', this.#keys.get(this.current)!, iv)
    const ct = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final(), cipher.getAuthTag()])
    return { kid: this.current, iv: iv.toString('base64'), ct: ct.toString('base64') }
  }

  /**
   * The clear value of a stored one. A value sealed with a key the ring lacks is
   * `encryption_key_unavailable`, and one that fails authentication (a wrong key under that id,
   * or tampered data) is `encryption_key_mismatch`; both name the key id.
   */
  open(stored: Stored): string {
    if (typeof stored === 'string') return stored
    const key = this.#keys.get(stored.kid)
    if (!key) {
      throw new WhispererError(
        'encryption_key_unavailable',
        `A secret is encrypted with the key "${stored.kid}", which is not among the encryption keys (WHISPERER_ENCRYPTION_KEYS)`,
      )
    }
    try {
      const data = Buffer.from(stored.ct, 'base64')
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(stored.iv, 'base64'))
      decipher.setAuthTag(data.subarray(data.length - tagLength))
      return Buffer.concat([
        decipher.update(data.subarray(0, data.length - tagLength)),
        decipher.final(),
      ]).toString('utf8')
    } catch {
      throw new WhispererError(
        'encryption_key_mismatch',
        `A secret encrypted with the key "${stored.kid}" does not decrypt with the key of that id: the key is wrong, or the value was altered`,
      )
    }
  }

  /** Whether a stored value is as `seal` would store it now: sealed with the current key, or clear without one. */
  isCurrent(stored: Stored): boolean {
    return typeof stored === 'string' ? this.current === null : stored.kid === this.current
  }
}

/** Whether a stored JSON value is a sealed secret. */
export function isSealed(value: unknown): value is Sealed {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Sealed).kid === 'string' &&
    typeof (value as Sealed).iv === 'string' &&
    typeof (value as Sealed).ct === 'string'
  )
}
