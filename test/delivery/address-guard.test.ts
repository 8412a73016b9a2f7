import type { LookupAddress } from 'node:dns'
import { isIP } from 'node:net'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { type AddressPolicy, compileAddressPolicy } from '../../src/core/address-policy.ts'
import type { AttemptResult } from '../../src/core/outcome.ts'
import { guardedLookup, type ResolveAll } from '../../src/delivery/address-guard.ts'
import { Sender } from '../../src/delivery/sender.ts'
import { type Receiver, startReceiver } from '../support/receiver.ts'
import { publicAddresses, refusedTargets } from '../support/refused-targets.ts'

/** A resolver answering from a table, as `dns.lookup` with `all: true` would. */
function resolverOf(names: Record<string, string[]>): ResolveAll {
  return (hostname, _options, callback) => {
    const addresses = names[hostname]
    if (!addresses) {
      const error = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' })
      return callback(error, [])
    }
    callback(
      null,
      addresses.map((address): LookupAddress => ({ address, family: isIP(address) })),
    )
  }
}

/** One host name per refused target, resolving to its address. */
const names: Record<string, string[]> = Object.fromEntries(
  refusedTargets.map(({ address }, index) => [`target-${index}.example.test`, [address]]),
)

describe('the sender at connect time', () => {
  let receiver: Receiver
  let senders: Sender[]
  beforeEach(async () => {
    receiver = await startReceiver(() => ({ status: 200, body: 'ok' }))
    senders = []
  })
  afterEach(async () => {
    await Promise.all(senders.map((sender) => sender.close()))
    await receiver.close()
  })

  const senderWith = (policy: Partial<AddressPolicy>, resolved: Record<string, string[]>) => {
    const sender = new Sender({
      connectTimeoutMs: 2000,
      readTimeoutMs: 2000,
      responseBodyLimit: 1024,
      addressPolicy: compileAddressPolicy({ allowPrivateTargets: false, allowedTargets: [], ...policy }),
      resolve: resolverOf(resolved),
    })
    senders.push(sender)
    return sender
  }
  const send = (sender: Sender, url: string): Promise<AttemptResult> =>
    sender.send({ url, headers: { 'content-type': 'application/json' }, body: '{}' })

  test('connections go through the given resolver: an allowed name reaches the receiver', async () => {
    const sender = senderWith({ allowedTargets: ['127.0.0.1'] }, { 'receiver.example.test': ['127.0.0.1'] })
    const result = await send(sender, `http://receiver.example.test:${receiver.port}/hook`)
    expect(result).toMatchObject({ kind: 'response', status: 200 })
    expect(receiver.requests).toHaveLength(1)
  })

  test(`refuses ${refusedTargets.length} literal targets and as many names resolving to them`, async () => {
    expect(refusedTargets.length).toBeGreaterThanOrEqual(60)
    const sender = senderWith({}, names)
    const urls = [
      ...refusedTargets.map(({ url }) => url),
      ...Object.keys(names).map((name) => `http://${name}:${receiver.port}/hook`),
    ]
    const results = await Promise.all(urls.map(async (url) => ({ url, result: await send(sender, url) })))
    const notBlocked = results.filter(({ result }) => result.kind !== 'error' || result.error !== 'blocked')
    expect(notBlocked).toEqual([])
    expect(receiver.requests).toHaveLength(0)
  })

  test('a name is refused if any of its addresses is refused', async () => {
    const sender = senderWith({}, { 'mixed.example.test': ['8.8.8.8', '::127.0.0.1'] })
    const result = await send(sender, `http://mixed.example.test:${receiver.port}/hook`)
    expect(result).toMatchObject({ kind: 'error', error: 'blocked' })
    expect(result.kind === 'error' && result.message).toMatch(/resolves to ::127\.0\.0\.1/)
  })

  test('allowedTargets still lets a listed range through, and allowPrivateTargets everything', async () => {
    const resolved = { 'loop.example.test': ['127.0.0.1'] }
    const url = `http://loop.example.test:${receiver.port}/hook`
    expect(await send(senderWith({ allowedTargets: ['127.0.0.0/8'] }, resolved), url)).toMatchObject({
      kind: 'response',
      status: 200,
    })
    expect(await send(senderWith({ allowPrivateTargets: true }, resolved), url)).toMatchObject({
      kind: 'response',
      status: 200,
    })
    expect(await send(senderWith({ allowedTargets: ['10.0.0.0/8'] }, resolved), url)).toMatchObject({
      kind: 'error',
      error: 'blocked',
    })
  })

  test('the guarded lookup passes a name resolving to public addresses, every form of them', async () => {
    const lookup = guardedLookup(
      compileAddressPolicy({ allowPrivateTargets: false, allowedTargets: [] }),
      resolverOf({ 'public.example.test': [...publicAddresses] }),
    )
    const answer = await new Promise<{ error: unknown; addresses: unknown }>((resolve) =>
      lookup('public.example.test', { all: true }, (error, addresses) => resolve({ error, addresses })),
    )
    expect(answer.error).toBeNull()
    expect((answer.addresses as LookupAddress[]).map((entry) => entry.address)).toEqual(publicAddresses)
  })
})
