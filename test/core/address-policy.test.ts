import { describe, expect, test } from 'vitest'
import {
  type AddressPolicy,
  compileAddressPolicy,
  isAddressAllowed,
  isPublicAddress,
  judgeHost,
  parseAddress,
} from '../../src/core/address-policy.ts'
import { publicAddresses, refusedTargets } from '../support/refused-targets.ts'

const policy = (overrides: Partial<AddressPolicy> = {}) =>
  compileAddressPolicy({ allowPrivateTargets: false, allowedTargets: [], ...overrides })

const refused = [
  ['private 10/8', '10.0.0.1'],
  ['private 172.16/12', '172.16.5.4'],
  ['private 172.31', '172.31.255.255'],
  ['private 192.168/16', '192.168.1.1'],
  ['loopback', '127.0.0.1'],
  ['loopback 127/8', '127.255.0.9'],
  ['link-local cloud metadata', '169.254.169.254'],
  ['carrier-grade NAT', '100.64.0.1'],
  ['carrier-grade NAT top', '100.127.255.254'],
  ['unspecified', '0.0.0.0'],
  ['this network', '0.1.2.3'],
  ['benchmarking', '198.18.0.1'],
  ['benchmarking top', '198.19.255.254'],
  ['multicast', '224.0.0.1'],
  ['broadcast', '255.255.255.255'],
  ['reserved', '240.0.0.1'],
  ['IPv6 loopback', '::1'],
  ['IPv6 unspecified', '::'],
  ['IPv6 unique local', 'fc00::1'],
  ['IPv6 unique local fd', 'fd12:3456::1'],
  ['IPv6 link-local', 'fe80::1'],
  ['IPv6 multicast', 'ff02::1'],
  ['IPv4-mapped loopback', '::ffff:127.0.0.1'],
  ['IPv4-mapped metadata', '::ffff:169.254.169.254'],
  ['IPv4-mapped private', '::ffff:10.0.0.1'],
] as const

const accepted = [
  ['8.8.8.8', '8.8.8.8'],
  ['1.1.1.1', '1.1.1.1'],
  ['93.184.216.34', '93.184.216.34'],
  ['172.32.0.1 (outside 172.16/12)', '172.32.0.1'],
  ['100.128.0.1 (outside CGNAT)', '100.128.0.1'],
  ['198.20.0.1 (outside benchmarking)', '198.20.0.1'],
  ['public IPv6', '2606:4700:4700::1111'],
  ['IPv4-mapped public', '::ffff:8.8.8.8'],
] as const

describe('isPublicAddress', () => {
  test.each(refused)('refuses %s (%s)', (_label, address) => {
    expect(isPublicAddress(address)).toBe(false)
  })

  test.each(accepted)('allows %s', (_label, address) => {
    expect(isPublicAddress(address)).toBe(true)
  })

  test.each(['not-an-ip', '', 'example.com', '256.1.1.1'])('refuses the non-address %j', (value) => {
    expect(isPublicAddress(value)).toBe(false)
  })

  test.each(refusedTargets.map(({ label, address }) => [label, address]))(
    'refuses the target %s (%s)',
    (_label, address) => {
      expect(isPublicAddress(address)).toBe(false)
    },
  )

  test.each(publicAddresses)('allows the public address %s', (address) => {
    expect(isPublicAddress(address)).toBe(true)
  })

  test.each([
    ['decimal', '2130706433'],
    ['octal', '0177.0.0.1'],
    ['hex', '0x7f.0.0.1'],
    ['short', '8.8.8'],
    ['leading zero', '08.8.8.8'],
    ['zone id', '2606:4700::1111%eth0'],
    ['bracketed', '[2606:4700::1111]'],
    ['trailing junk', '2606:4700::1111]/x'],
  ])('refuses an address written in a %s form (%s)', (_label, address) => {
    expect(parseAddress(address)).toBeNull()
    expect(isPublicAddress(address)).toBe(false)
  })

  test('an IPv4-compatible address is IPv4-compatible, not IPv4-mapped', () => {
    expect(parseAddress('::8.8.8.8')?.toString()).toBe('::808:808')
    expect(isPublicAddress('::8.8.8.8')).toBe(false)
    expect(isPublicAddress('::ffff:8.8.8.8')).toBe(true)
  })

  test('Teredo is judged by its server and its inverted client address', () => {
    // Server 65.54.227.120, client 8.8.8.8 (inverted: f7f7:f7f7).
    expect(isPublicAddress('2001:0:4136:e378:8000:63bf:f7f7:f7f7')).toBe(true)
    // The same with the client not inverted is 8.8.8.8 read as 247.247.247.247, reserved.
    expect(isPublicAddress('2001:0:4136:e378:8000:63bf:808:808')).toBe(false)
  })
})

describe('isAddressAllowed', () => {
  test.each(refused)('the default policy refuses %s (%s)', (_label, address) => {
    expect(isAddressAllowed(address, policy())).toBe(false)
  })

  test.each(accepted)('the default policy allows %s', (_label, address) => {
    expect(isAddressAllowed(address, policy())).toBe(true)
  })

  test.each(refused)('allowPrivateTargets allows %s (%s)', (_label, address) => {
    expect(isAddressAllowed(address, policy({ allowPrivateTargets: true }))).toBe(true)
  })

  test('an allowed address lets only that address through', () => {
    const allowed = policy({ allowedTargets: ['127.0.0.1'] })
    expect(isAddressAllowed('127.0.0.1', allowed)).toBe(true)
    expect(isAddressAllowed('127.0.0.2', allowed)).toBe(false)
    expect(isAddressAllowed('10.0.0.1', allowed)).toBe(false)
  })

  test('an allowed CIDR range lets its addresses through', () => {
    const allowed = policy({ allowedTargets: ['10.0.0.0/8'] })
    expect(isAddressAllowed('10.0.0.1', allowed)).toBe(true)
    expect(isAddressAllowed('10.255.255.254', allowed)).toBe(true)
    expect(isAddressAllowed('11.0.0.1', allowed)).toBe(true)
    expect(isAddressAllowed('192.168.0.1', allowed)).toBe(false)
    expect(isAddressAllowed('127.0.0.1', allowed)).toBe(false)
  })

  test('an allowed IPv4 range also covers its IPv4-mapped form', () => {
    expect(isAddressAllowed('::ffff:10.1.2.3', policy({ allowedTargets: ['10.0.0.0/8'] }))).toBe(true)
  })

  test('an allowed IPv6 range lets its addresses through', () => {
    const allowed = policy({ allowedTargets: ['fd00::/8', '[::1]'] })
    expect(isAddressAllowed('fd00::5', allowed)).toBe(true)
    expect(isAddressAllowed('::1', allowed)).toBe(true)
    expect(isAddressAllowed('fe80::1', allowed)).toBe(false)
  })

  test('allowed entries are trimmed', () => {
    expect(isAddressAllowed('192.168.1.10', policy({ allowedTargets: [' 192.168.1.0/24 '] }))).toBe(true)
  })

  test('a non-address is refused', () => {
    expect(isAddressAllowed('not-an-ip', policy({ allowedTargets: ['10.0.0.0/8'] }))).toBe(false)
  })
})

describe('judgeHost', () => {
  test('a public literal address is allowed', () => {
    expect(judgeHost('8.8.8.8', policy())).toBe('allowed')
    expect(judgeHost('[2606:4700:4700::1111]', policy())).toBe('allowed')
  })

  test.each([
    '127.0.0.1',
    '169.254.169.254',
    '10.0.0.1',
    '[::1]',
    '[fe80::1]',
    '[::ffff:127.0.0.1]',
    '0.0.0.0',
  ])('the literal %s is blocked', (host) => {
    expect(judgeHost(host, policy())).toBe('blocked')
  })

  test.each(['localhost', 'LOCALHOST', 'localhost.', 'api.localhost', 'a.b.localhost'])(
    '%s is blocked without a lookup',
    (host) => {
      expect(judgeHost(host, policy())).toBe('blocked')
    },
  )

  test('a name that merely contains localhost must be resolved', () => {
    expect(judgeHost('localhost.example.com', policy())).toBe('resolve')
    expect(judgeHost('mylocalhost', policy())).toBe('resolve')
  })

  test('an IPv4-compatible address is blocked, as the URL parser writes it', () => {
    const host = new URL('http://[::127.0.0.1]/').hostname
    expect(host).toBe('[::7f00:1]')
    expect(judgeHost(host, policy())).toBe('blocked')
  })

  test('any other name must be resolved', () => {
    expect(judgeHost('receiver.example.com', policy())).toBe('resolve')
  })

  test('an allowed host name is allowed without a lookup', () => {
    const allowed = policy({ allowedTargets: ['Hooks.Internal', 'localhost'] })
    expect(judgeHost('hooks.internal', allowed)).toBe('allowed')
    expect(judgeHost('HOOKS.INTERNAL', allowed)).toBe('allowed')
    expect(judgeHost('localhost', allowed)).toBe('allowed')
    expect(judgeHost('other.internal', allowed)).toBe('resolve')
  })

  test('an allowed address or range allows the literal', () => {
    const allowed = policy({ allowedTargets: ['127.0.0.1', '10.0.0.0/8'] })
    expect(judgeHost('127.0.0.1', allowed)).toBe('allowed')
    expect(judgeHost('10.20.30.40', allowed)).toBe('allowed')
    expect(judgeHost('192.168.0.1', allowed)).toBe('blocked')
  })

  test('allowPrivateTargets allows private literals and leaves localhost to resolve', () => {
    const open = policy({ allowPrivateTargets: true })
    expect(judgeHost('127.0.0.1', open)).toBe('allowed')
    expect(judgeHost('[::1]', open)).toBe('allowed')
    expect(judgeHost('localhost', open)).not.toBe('blocked')
  })
})
