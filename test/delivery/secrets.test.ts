import { execFileSync } from 'node:child_process'
import { createHmac, createPublicKey, randomBytes, verify } from 'node:crypto'
import { join } from 'node:path'
import { Webhook as StandardWebhook } from 'standardwebhooks'
import { Webhook as SvixWebhook } from 'svix'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { verifySignature } from '../../src/core/signature.ts'
import { ManualClock } from '../support/clock.ts'
import { forEachDatabase } from '../support/databases.ts'
import { findPostgresBinaries } from '../support/postgres-server.ts'
import { flatHeaders, type ReceivedRequest, type Receiver, startReceiver } from '../support/receiver.ts'
import { rejection } from '../support/rejection.ts'

/** The secret of the Standard Webhooks test vector, as a `whsec_` key. */
const specSecret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
const key = (id: string) => `${id}:${randomBytes(32).toString('base64')}`

/** Whether a receiver holding `secret` verifies the request, with both libraries and with Whisperer's own. */
function verifiesWith(secret: string, request: ReceivedRequest, now: Date): boolean {
  const headers = flatHeaders(request.headers)
  const standard = (() => {
    try {
      new StandardWebhook(secret).verify(request.body, headers)
      return true
    } catch {
      return false
    }
  })()
  const own = verifySignature({ secret, body: request.body, headers, now }).ok
  expect(own).toBe(standard)
  return standard
}

forEachDatabase((db) => {
  let receiver: Receiver
  beforeEach(async () => {
    receiver = await startReceiver()
  })
  afterEach(() => receiver.close())

  test('a whsec_ secret verifies with standardwebhooks and svix, unchanged', async () => {
    const whisperer = await db.whisperer()
    whisperer.eventTypes.register({ type: 'order.created' })
    await whisperer.webhooks.create('acme', {
      eventType: 'order.created',
      targetUrl: receiver.url,
      secretKey: specSecret,
    })
    await whisperer.deliverEvent({ id: 42 }, 'order.created')
    await whisperer.processDue()
    const [request] = await receiver.waitFor(1)
    const headers = flatHeaders(request!.headers)
    const payload = JSON.parse(request!.body)
    expect(new StandardWebhook(specSecret).verify(request!.body, headers)).toEqual(payload)
    expect(() => new SvixWebhook(specSecret).verify(request!.body, headers)).not.toThrow()
    expect(() =>
      new SvixWebhook(`whsec_${randomBytes(24).toString('base64')}`).verify(request!.body, headers),
    ).toThrow()
    // X-Whisperer-Signature is keyed by the secret string as given, as dj-whisperer computes it.
    const legacy = createHmac('sha256', Buffer.from(specSecret, 'utf8')).update(request!.body).digest('hex')
    expect(headers['x-whisperer-signature']).toBe(`sha256=${legacy}`)
  })

  test('a generated secret is a whsec_ key the libraries verify with; null means unsigned', async () => {
    const whisperer = await db.whisperer()
    whisperer.eventTypes.register({ type: 'order.created' })
    const signed = await whisperer.webhooks.create('acme', {
      eventType: 'order.created',
      targetUrl: receiver.url,
    })
    expect(Buffer.from(signed.secretKey!.slice('whsec_'.length), 'base64')).toHaveLength(32)
    const unsigned = await whisperer.webhooks.create('acme', {
      eventType: 'order.created',
      targetUrl: `${receiver.url}/unsigned`,
      secretKey: null,
    })
    expect(unsigned).toMatchObject({ secretKey: null, signatureScheme: null })
    await whisperer.deliverEvent({ id: 1 }, 'order.created')
    await whisperer.processDue()
    const requests = await receiver.waitFor(2)
    const toSigned = requests.find((r) => r.path === '/hook')!
    const toUnsigned = requests.find((r) => r.path === '/hook/unsigned')!
    expect(() =>
      new SvixWebhook(signed.secretKey!).verify(toSigned.body, flatHeaders(toSigned.headers)),
    ).not.toThrow()
    expect(toUnsigned.headers['webhook-signature']).toBeUndefined()
    expect(toUnsigned.headers['x-whisperer-signature']).toBeUndefined()
    expect(toUnsigned.headers['webhook-id']).toBeDefined()
  })

  test('a plain secret keeps byte-identical signatures: its UTF-8 bytes key both headers', async () => {
    const whisperer = await db.whisperer()
    whisperer.eventTypes.register({ type: 'order.created' })
    const secret = 'dj-whisperer sécret'
    await whisperer.webhooks.create('acme', {
      eventType: 'order.created',
      targetUrl: receiver.url,
      secretKey: secret,
    })
    await whisperer.deliverEvent({ id: 7 }, 'order.created')
    await whisperer.processDue()
    const [request] = await receiver.waitFor(1)
    const { headers, body } = request!
    const hmac = createHmac('sha256', Buffer.from(secret, 'utf8'))
    expect(headers['webhook-signature']).toBe(
      `v1,${hmac.update(`${headers['webhook-id']}.${headers['webhook-timestamp']}.${body}`).digest('base64')}`,
    )
    const legacy = createHmac('sha256', Buffer.from(secret, 'utf8')).update(body).digest('hex')
    expect(headers['x-whisperer-signature']).toBe(`sha256=${legacy}`)
  })

  describe('rotation', () => {
    test('during the grace period both keys verify; after it, an attempt carries the new one only', async () => {
      // Both attempts stay within the libraries' 5-minute tolerance of the real time.
      const clock = new ManualClock(Date.now() - 100_000)
      const whisperer = await db.whisperer({ clock: clock.now })
      whisperer.eventTypes.register({ type: 'order.created' })
      const created = await whisperer.webhooks.create('acme', {
        eventType: 'order.created',
        targetUrl: receiver.url,
        retryCountdownConfig: { choice: 'fixed', kwargs: { seconds: 120 } },
      })
      const old = created.secretKey!
      const rotated = await whisperer.webhooks.rotateSecret('acme', created.id, { graceSeconds: 60 })
      const fresh = rotated.secretKey!
      expect(fresh).toMatch(/^whsec_/)
      expect(fresh).not.toBe(old)
      expect(rotated.secretRotatedAt).toEqual(clock.now())
      expect(rotated.previousKeys).toEqual([
        { scheme: 'hmac-sha256', publicKey: null, expiresAt: new Date(clock.now().getTime() + 60_000) },
      ])
      // The webhook shows when the old key expires, never the keys.
      const read = await whisperer.webhooks.get('acme', created.id)
      expect(read).not.toHaveProperty('secretKey')
      expect(JSON.stringify(read)).not.toContain(old.slice(6))
      expect(JSON.stringify(read)).not.toContain(fresh.slice(6))

      // The first attempt, in the grace period, fails; it carries a signature per live key, newest first.
      receiver.respond(() => ({ status: 500 }))
      await whisperer.deliverEvent({ id: 1 }, 'order.created')
      await whisperer.processDue()
      const [first] = await receiver.waitFor(1)
      expect(String(first!.headers['webhook-signature']).split(' ')).toHaveLength(2)
      expect(verifiesWith(old, first!, clock.now())).toBe(true)
      expect(verifiesWith(fresh, first!, clock.now())).toBe(true)
      const legacy = createHmac('sha256', fresh).update(first!.body).digest('hex')
      expect(first!.headers['x-whisperer-signature']).toBe(`sha256=${legacy}`)

      // Its retry, after the grace period, is signed with the keys live then: the new one only.
      receiver.respond(() => ({ status: 200 }))
      clock.advance(130_000)
      await whisperer.processDue()
      const [, retry] = await receiver.waitFor(2)
      expect(String(retry!.headers['webhook-signature']).split(' ')).toHaveLength(1)
      expect(verifiesWith(fresh, retry!, clock.now())).toBe(true)
      expect(verifiesWith(old, retry!, clock.now())).toBe(false)

      // Maintenance removes the expired key.
      expect((await whisperer.webhooks.get('acme', created.id)).previousKeys).toHaveLength(1)
      await whisperer.runMaintenance()
      expect((await whisperer.webhooks.get('acme', created.id)).previousKeys).toEqual([])
      const [row] = await db.sql<{ n: number; expire: Date | null }>(
        `SELECT jsonb_array_length(signing_keys) AS n, keys_expire_at AS expire FROM ${whisperer.config.schema}.webhooks WHERE id = $1`,
        [created.id],
      )
      expect(row).toEqual({ n: 1, expire: null })
    })

    test('at most 10 keys are live; a zero grace period stops the old keys at once', async () => {
      const whisperer = await db.whisperer()
      whisperer.eventTypes.register({ type: 'order.created' })
      const created = await whisperer.webhooks.create('acme', {
        eventType: 'order.created',
        targetUrl: receiver.url,
      })
      for (let n = 0; n < 9; n += 1) await whisperer.webhooks.rotateSecret('acme', created.id, {})
      expect((await whisperer.webhooks.get('acme', created.id)).previousKeys).toHaveLength(9)
      const refused = await rejection(whisperer.webhooks.rotateSecret('acme', created.id, {}))
      expect(refused.code).toBe('too_many_secrets')
      const last = await whisperer.webhooks.rotateSecret('acme', created.id, {
        secretKey: 'a chosen secret',
        graceSeconds: 0,
      })
      expect(last).toMatchObject({ secretKey: 'a chosen secret', previousKeys: [] })
      await whisperer.deliverEvent({ id: 1 }, 'order.created')
      await whisperer.processDue()
      const [request] = await receiver.waitFor(1)
      expect(String(request!.headers['webhook-signature']).split(' ')).toHaveLength(1)
      expect(
        verifySignature({
          secret: 'a chosen secret',
          body: request!.body,
          headers: flatHeaders(request!.headers),
        }).ok,
      ).toBe(true)
    })

    test('a rotation is scoped to its owner and validated', async () => {
      const whisperer = await db.whisperer()
      whisperer.eventTypes.register({ type: 'order.created' })
      const created = await whisperer.webhooks.create('acme', {
        eventType: 'order.created',
        targetUrl: receiver.url,
      })
      expect((await rejection(whisperer.webhooks.rotateSecret('globex', created.id))).code).toBe(
        'webhook_not_found',
      )
      const invalid = await rejection(
        whisperer.webhooks.rotateSecret('acme', created.id, {
          secretKey: 'whsec_c2hvcnQ=',
          graceSeconds: 86_400 * 8,
        }),
      )
      expect(invalid.code).toBe('validation_error')
      expect(invalid.issues.map((issue) => issue.path).sort()).toEqual(['graceSeconds'])
      const short = await rejection(
        whisperer.webhooks.rotateSecret('acme', created.id, { secretKey: 'whsec_c2hvcnQ=' }),
      )
      expect(short.issues).toEqual([{ path: 'secretKey', message: expect.stringContaining('at least 24') }])
    })
  })

  test('ed25519: receivers verify with the public key alone; a tampered body fails', async () => {
    const whisperer = await db.whisperer()
    whisperer.eventTypes.register({ type: 'order.created' })
    const created = await whisperer.webhooks.create('acme', {
      eventType: 'order.created',
      targetUrl: receiver.url,
      signatureScheme: 'ed25519',
    })
    expect(created).toMatchObject({ signatureScheme: 'ed25519', secretKey: null })
    expect(created.publicKey).toMatch(/^whpk_/)
    expect((await whisperer.webhooks.get('acme', created.id)).publicKey).toBe(created.publicKey)
    await whisperer.deliverEvent({ id: 3 }, 'order.created')
    await whisperer.processDue()
    const [request] = await receiver.waitFor(1)
    const { headers, body } = request!
    expect(headers['x-whisperer-signature']).toBeUndefined()
    const [version, signature] = String(headers['webhook-signature']).split(',')
    expect(version).toBe('v1a')
    const raw = Buffer.from(created.publicKey!.slice('whpk_'.length), 'base64')
    const publicKey = createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') },
      format: 'jwk',
    })
    const signed = (text: string) =>
      Buffer.from(`${headers['webhook-id']}.${headers['webhook-timestamp']}.${text}`)
    expect(verify(null, signed(body), publicKey, Buffer.from(signature!, 'base64'))).toBe(true)
    expect(verify(null, signed(body.replace('3', '4')), publicKey, Buffer.from(signature!, 'base64'))).toBe(
      false,
    )
    expect(verifySignature({ publicKey: created.publicKey!, body, headers: flatHeaders(headers) }).ok).toBe(
      true,
    )
    expect(
      verifySignature({ publicKey: created.publicKey!, body: `${body} `, headers: flatHeaders(headers) }),
    ).toEqual({
      ok: false,
      reason: 'bad_signature',
    })
    // Rotating an ed25519 webhook keeps both public keys verifying in the grace period.
    const rotated = await whisperer.webhooks.rotateSecret('acme', created.id)
    expect(rotated.previousKeys).toEqual([
      { scheme: 'ed25519', publicKey: created.publicKey, expiresAt: expect.any(Date) },
    ])
    await whisperer.deliverEvent({ id: 4 }, 'order.created')
    await whisperer.processDue()
    const [, second] = await receiver.waitFor(2)
    for (const publicKey of [created.publicKey!, rotated.publicKey!]) {
      expect(
        verifySignature({ publicKey, body: second!.body, headers: flatHeaders(second!.headers) }).ok,
      ).toBe(true)
    }
  })

  describe('encryption at rest', () => {
    test('secrets and auth credentials are stored sealed, and delivered as given', async () => {
      const whisperer = await db.whisperer({ encryptionKeys: [key('k1')] })
      const schema = whisperer.config.schema
      whisperer.eventTypes.register({ type: 'order.created' })
      const created = await whisperer.webhooks.create('acme', {
        eventType: 'order.created',
        targetUrl: receiver.url,
        secretKey: specSecret,
        config: { auth: { auth_type: 'basic', username: 'user', password: 'pa55word-at-rest' } },
      })
      const [row] = await db.sql<{ keys: unknown; config: unknown }>(
        `SELECT signing_keys::text AS keys, config::text AS config FROM ${schema}.webhooks WHERE id = $1`,
        [created.id],
      )
      expect(String(row!.keys)).not.toContain(specSecret.slice(6))
      expect(String(row!.keys)).toContain('"kid": "k1"')
      expect(String(row!.config)).not.toContain('pa55word-at-rest')
      expect((await whisperer.webhooks.get('acme', created.id)).config).toEqual({
        auth: { auth_type: 'basic', username: 'user', password: 'pa55word-at-rest' },
      })
      await whisperer.deliverEvent({ id: 1 }, 'order.created')
      await whisperer.processDue()
      const [request] = await receiver.waitFor(1)
      expect(() =>
        new SvixWebhook(specSecret).verify(request!.body, flatHeaders(request!.headers)),
      ).not.toThrow()
      expect(request!.headers.authorization).toBe(
        `Basic ${Buffer.from('user:pa55word-at-rest').toString('base64')}`,
      )
      expect((await whisperer.ready()) as unknown).toEqual({ ready: true, secrets: 'encrypted' })
    })

    test('secrets stored in clear are sealed once a key is given, and rewrapped under a new key', async () => {
      const source = await db.source()
      const plain = await db.whisperer({ ...source })
      plain.eventTypes.register({ type: 'order.created' })
      expect(await plain.ready()).toEqual({ ready: true, secrets: 'clear' })
      for (let n = 0; n < 5; n += 1) {
        await plain.webhooks.create('acme', {
          eventType: 'order.created',
          targetUrl: `${receiver.url}/${n}`,
          secretKey: `secret-number-${n}`,
          config: { auth: { auth_type: 'bearer', token: `token-number-${n}` } },
        })
      }
      const deleted = await plain.webhooks.create('acme', {
        eventType: 'order.created',
        targetUrl: `${receiver.url}/x`,
      })
      await plain.webhooks.delete('acme', deleted.id)
      const stored = async () =>
        (
          await db.sql<{ text: string }>(
            `SELECT signing_keys::text || config::text AS text FROM ${source.schema}.webhooks`,
          )
        )
          .map((row) => row.text)
          .join('\n')
      expect(await stored()).toContain('secret-number-0')

      const k1 = key('k1')
      // The first maintenance pass of a process with a key seals what is in clear.
      const sealed = await db.whisperer({ ...source, encryptionKeys: [k1] })
      expect(await sealed.secrets.pending()).toBe(6)
      await sealed.runMaintenance()
      expect(await sealed.secrets.pending()).toBe(0)
      const text = await stored()
      for (let n = 0; n < 5; n += 1) {
        expect(text).not.toContain(`secret-number-${n}`)
        expect(text).not.toContain(`token-number-${n}`)
      }
      expect(text).not.toContain(deleted.secretKey!.slice(6))

      const rewrapped = await db.whisperer({ ...source, encryptionKeys: [key('k2'), k1] })
      expect(await rewrapped.secrets.pending()).toBe(6)
      const progress: number[] = []
      const result = await rewrapped.secrets.rewrap({
        batchSize: 4,
        onProgress: (p) => progress.push(p.scanned),
      })
      expect(result).toMatchObject({ scanned: 6, rewrapped: 6, failed: [], lastId: null })
      expect(progress).toEqual([4, 6])
      expect(await rewrapped.secrets.pending()).toBe(0)
      expect(await stored()).not.toContain('"kid": "k1"')
      // A second run finds nothing to do.
      expect(await rewrapped.secrets.rewrap()).toMatchObject({ scanned: 6, rewrapped: 0 })
    })

    test('a missing or wrong key is an error naming it; its deliveries wait, never unsigned', async () => {
      const source = await db.source()
      const k1 = key('k1')
      const first = await db.whisperer({ ...source, encryptionKeys: [k1] })
      first.eventTypes.register({ type: 'order.created' })
      const created = await first.webhooks.create('acme', {
        eventType: 'order.created',
        targetUrl: receiver.url,
        config: { auth: { auth_type: 'bearer', token: 'tok' } },
      })

      for (const [keys, code] of [
        [[key('k2')], 'encryption_key_unavailable'],
        [[key('k1')], 'encryption_key_mismatch'],
      ] as const) {
        const clock = new ManualClock(Date.now())
        const other = await db.whisperer({
          ...source,
          encryptionKeys: [...keys],
          clock: clock.now,
          migrate: false,
        })
        other.eventTypes.register({ type: 'order.created' })
        // Reading still works (the credential stays sealed, and is masked over the API); sending does not.
        const read = await other.webhooks.get('acme', created.id)
        expect((read.config.auth as { token: unknown }).token).toMatchObject({ kid: 'k1' })
        expect(await other.webhooks.list('acme')).toHaveLength(1)
        const error = await rejection(other.webhooks.ping('acme', created.id))
        expect(error.code).toBe(code)
        expect(error.message).toContain('"k1"')
        const { deliveries } = await other.deliverEvent({ id: 1 }, 'order.created')
        await other.processDue()
        const [row] = await db.sql<{ status: string; next: Date; attempts: number }>(
          `SELECT d.status, d.next_attempt_at AS next,
            (SELECT count(*)::int FROM ${source.schema}.attempts a WHERE a.delivery_id = d.id) AS attempts
           FROM ${source.schema}.deliveries d WHERE d.uuid = $1`,
          [deliveries[0]!.uuid],
        )
        expect(row).toMatchObject({ status: 'pending', attempts: 0 })
        expect(row!.next.getTime()).toBe(clock.now().getTime() + 60_000)
      }
      expect(receiver.requests).toHaveLength(0)
      // With the key back, the held deliveries go out, signed.
      const clock = new ManualClock(Date.now() + 120_000)
      const back = await db.whisperer({
        ...source,
        encryptionKeys: [key('k3'), k1],
        clock: clock.now,
        migrate: false,
      })
      expect(await back.processDue()).toBe(2)
      const requests = await receiver.waitFor(2)
      for (const request of requests) {
        expect(request.headers['webhook-signature']).toMatch(/^v1,/)
        expect(request.headers.authorization).toBe('Bearer tok')
      }
    })

    test.runIf(db.kind === 'postgres')(
      'pg_dump of a database with encryption on holds none of the secrets',
      async () => {
        const source = await db.source()
        const whisperer = await db.whisperer({ ...source, encryptionKeys: [key('k1')] })
        whisperer.eventTypes.register({ type: 'order.created' })
        const secrets = [
          `whsec_${randomBytes(32).toString('base64')}`,
          'basic-password-in-dump',
          'bearer-token-in-dump',
          `whsk_${randomBytes(32).toString('base64')}`,
        ]
        const hmac = await whisperer.webhooks.create('acme', {
          eventType: 'order.created',
          targetUrl: receiver.url,
          secretKey: secrets[0],
          config: { auth: { auth_type: 'basic', username: 'u', password: secrets[1] } },
        })
        await whisperer.webhooks.rotateSecret('acme', hmac.id)
        await whisperer.webhooks.create('acme', {
          eventType: 'order.created',
          targetUrl: `${receiver.url}/ed`,
          signatureScheme: 'ed25519',
          secretKey: secrets[3],
          config: { auth: { auth_type: 'bearer', token: secrets[2] } },
        })
        await whisperer.deliverEvent({ id: 1 }, 'order.created')
        await whisperer.processDue()
        const bin = findPostgresBinaries()!
        const dump = execFileSync(
          join(bin, 'pg_dump'),
          ['--schema', source.schema, String(source.database)],
          {
            encoding: 'utf8',
            maxBuffer: 64 * 1024 * 1024,
          },
        )
        expect(dump).toContain('"kid": "k1"')
        for (const secret of secrets) {
          expect(dump).not.toContain(secret)
          expect(dump).not.toContain(Buffer.from(secret).toString('base64'))
        }
        expect(dump).not.toContain(secrets[0]!.slice(6))
        expect(dump).not.toContain(secrets[3]!.slice(5))
      },
    )
  })
})
