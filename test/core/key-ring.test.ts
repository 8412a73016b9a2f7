import { describe, expect, test } from 'vitest'
import { WhispererError } from '../../src/core/errors.ts'
import { isSealed, KeyRing, type Sealed } from '../../src/core/key-ring.ts'

const keyOf = (fill: number, bytes = 32) => Buffer.alloc(bytes, fill).toString('base64')
const one = keyOf(1)
const two = keyOf(2)
const secret = 'whsec_clé ☃ 秘密 🔑'

function errorOf(fn: () => unknown): WhispererError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(WhispererError)
    return error as WhispererError
  }
  throw new Error('expected a WhispererError')
}

/** A sealed value with one byte of its ciphertext (or tag) flipped. */
function flipped(sealed: Sealed, index: number): Sealed {
  const ct = Buffer.from(sealed.ct, 'base64')
  ct[index] = ct[index]! ^ 1
  return { ...sealed, ct: ct.toString('base64') }
}

describe('KeyRing.parse', () => {
  test('reads id:base64key entries separated by commas or whitespace; the first encrypts', () => {
    for (const spec of [
      `a:${one},b:${two}`,
      ` a:${one} \n b:${two} `,
      `a:${one}, b:${two},`,
      [`a:${one}`, `b:${two}`],
    ]) {
      const ring = KeyRing.parse(spec)
      expect(ring.ids).toEqual(['a', 'b'])
      expect(ring.current).toBe('a')
      expect(ring.encrypting).toBe(true)
    }
  })

  test.each([undefined, '', '  ,  ', []])('no keys (%j) store secrets in clear', (spec) => {
    const ring = KeyRing.parse(spec)
    expect(ring.ids).toEqual([])
    expect(ring.current).toBeNull()
    expect(ring.encrypting).toBe(false)
  })

  test.each([
    ['no id', `a:${one},${two}`, 1],
    ['an empty id', `:${one}`, 0],
    ['a bad id', `a:${one},b c:${two}`, 1],
    ['an id with a slash', `k/1:${one}`, 0],
  ])('refuses %s, naming the entry', (_label, spec, index) => {
    const error = errorOf(() => KeyRing.parse(spec))
    expect(error.code).toBe('invalid_options')
    expect(error.message).toContain(`encryptionKeys[${index}]`)
    expect(error.message).toContain('id:base64key')
  })

  test('refuses a key not in base64, naming the entry and its id', () => {
    const error = errorOf(() => KeyRing.parse(`a:${one},bad:${'@'.repeat(44)}`))
    expect(error.code).toBe('invalid_options')
    expect(error.message).toContain('encryptionKeys[1]')
    expect(error.message).toContain('"bad"')
  })

  test.each([
    [16, 'short'],
    [31, 'shy'],
    [33, 'long'],
  ])('refuses a key of %i bytes, naming the entry and its id', (bytes, id) => {
    const error = errorOf(() => KeyRing.parse([`a:${one}`, `${id}:${keyOf(3, bytes)}`]))
    expect(error.code).toBe('invalid_options')
    expect(error.message).toContain('encryptionKeys[1]')
    expect(error.message).toContain(`"${id}"`)
    expect(error.message).toContain('32 bytes')
  })

  test('refuses an id given twice, naming the entry and the id', () => {
    const error = errorOf(() => KeyRing.parse(`k1:${one},k2:${two},k1:${two}`))
    expect(error.code).toBe('invalid_options')
    expect(error.message).toContain('encryptionKeys[2]')
    expect(error.message).toContain('"k1"')
  })
})

describe('seal and open', () => {
  const ring = KeyRing.parse(`k1:${one}`)

  test('a sealed value opens to the same string, Unicode and all', () => {
    const sealed = ring.seal(secret)
    expect(isSealed(sealed)).toBe(true)
    expect(ring.open(sealed)).toBe(secret)
  })

  test('a sealed value names its key, with a 12-byte nonce and the ciphertext and 16-byte tag', () => {
    const sealed = ring.seal(secret) as Sealed
    expect(sealed.kid).toBe('k1')
    expect(Buffer.from(sealed.iv, 'base64')).toHaveLength(12)
    expect(Buffer.from(sealed.ct, 'base64')).toHaveLength(Buffer.byteLength(secret) + 16)
    expect(JSON.stringify(sealed)).not.toContain('whsec_')
  })

  test('each seal takes a fresh nonce', () => {
    const first = ring.seal(secret) as Sealed
    const second = ring.seal(secret) as Sealed
    expect(second.iv).not.toBe(first.iv)
    expect(second.ct).not.toBe(first.ct)
    expect(ring.open(first)).toBe(secret)
    expect(ring.open(second)).toBe(secret)
  })

  test('an empty string round-trips', () => {
    expect(ring.open(ring.seal(''))).toBe('')
  })

  test('a clear string opens to itself', () => {
    expect(ring.open('my-secret')).toBe('my-secret')
  })

  test('without keys, seal returns the clear string', () => {
    const clear = KeyRing.parse(undefined)
    expect(clear.seal(secret)).toBe(secret)
    expect(clear.open(secret)).toBe(secret)
    expect(new KeyRing().seal(secret)).toBe(secret)
  })

  test('a ring without the key id throws encryption_key_unavailable naming the id', () => {
    const sealed = KeyRing.parse(`gone-key:${one}`).seal(secret)
    for (const other of [KeyRing.parse(`k2:${two}`), KeyRing.parse(undefined)]) {
      const error = errorOf(() => other.open(sealed))
      expect(error.code).toBe('encryption_key_unavailable')
      expect(error.message).toContain('"gone-key"')
    }
  })

  test('a ring with another key under the same id throws encryption_key_mismatch naming the id', () => {
    const sealed = KeyRing.parse(`same-id:${one}`).seal(secret)
    const error = errorOf(() => KeyRing.parse(`same-id:${two}`).open(sealed))
    expect(error.code).toBe('encryption_key_mismatch')
    expect(error.message).toContain('"same-id"')
  })

  test('a tampered ciphertext, tag or nonce throws encryption_key_mismatch', () => {
    const sealed = ring.seal(secret) as Sealed
    const length = Buffer.from(sealed.ct, 'base64').length
    const iv = Buffer.from(sealed.iv, 'base64')
    iv[0] = iv[0]! ^ 1
    for (const tampered of [
      flipped(sealed, 0),
      flipped(sealed, length - 1),
      { ...sealed, iv: iv.toString('base64') },
      {
        ...sealed,
        ct: Buffer.from(sealed.ct, 'base64')
          .subarray(0, length - 1)
          .toString('base64'),
      },
      { ...sealed, ct: '' },
    ]) {
      const error = errorOf(() => ring.open(tampered))
      expect(error.code).toBe('encryption_key_mismatch')
      expect(error.message).toContain('"k1"')
    }
  })
})

describe('rotating the encryption key', () => {
  const before = KeyRing.parse(`old:${one}`)
  const after = KeyRing.parse(`new:${two},old:${one}`)

  test('the old key still opens what it sealed when second in the ring', () => {
    const sealed = before.seal(secret)
    expect(after.open(sealed)).toBe(secret)
  })

  test('seal uses the first key', () => {
    const sealed = after.seal(secret) as Sealed
    expect(sealed.kid).toBe('new')
    expect(after.open(sealed)).toBe(secret)
    expect(errorOf(() => before.open(sealed)).code).toBe('encryption_key_unavailable')
  })

  test('isCurrent tells what a rewrap would change', () => {
    const clear = KeyRing.parse(undefined)
    expect(after.isCurrent(after.seal(secret))).toBe(true)
    expect(after.isCurrent(before.seal(secret))).toBe(false)
    expect(after.isCurrent(secret)).toBe(false)
    expect(clear.isCurrent(secret)).toBe(true)
    expect(clear.isCurrent(before.seal(secret))).toBe(false)
  })
})

describe('isSealed', () => {
  test.each([
    [{ kid: 'k', iv: 'aa', ct: 'bb' }, true],
    ['text', false],
    [null, false],
    [{ kid: 'k', iv: 'aa' }, false],
    [{ kid: 1, iv: 'aa', ct: 'bb' }, false],
  ])('%j is %s', (value, expected) => {
    expect(isSealed(value)).toBe(expected)
  })
})
