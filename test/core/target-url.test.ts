import { describe, expect, test } from 'vitest'
import { type AddressPolicy, compileAddressPolicy } from '../../src/core/address-policy.ts'
import { maxTargetUrlLength, targetUrlProblem } from '../../src/core/target-url.ts'

const policy = (overrides: Partial<AddressPolicy> = {}) =>
  compileAddressPolicy({ allowPrivateTargets: false, allowedTargets: [], ...overrides })

const problem = (url: string, overrides: Partial<AddressPolicy> = {}) =>
  targetUrlProblem(url, policy(overrides))

describe('targetUrlProblem', () => {
  test.each([
    'https://receiver.example.com/hooks',
    'http://receiver.example.com',
    'https://receiver.example.com:8443/path?query=1#fragment',
    'https://8.8.8.8/hook',
    'https://[2606:4700:4700::1111]/hook',
    'HTTPS://Receiver.Example.com/',
  ])('accepts %s', (url) => {
    expect(problem(url)).toBeNull()
  })

  test.each([
    'ftp://example.com/file',
    'file:///etc/passwd',
    'javascript:alert(1)',
    'ws://example.com/',
    'data:,x',
  ])('refuses the non-http scheme of %s', (url) => {
    expect(problem(url)).toMatch(/http or https/)
  })

  test.each(['https://user:pass@example.com/', 'https://user@example.com/', 'https://:pass@example.com/'])(
    'refuses credentials in %s',
    (url) => {
      expect(problem(url)).toMatch(/credentials/)
    },
  )

  test.each(['not a url', '', '/relative/path', 'example.com/hook', 'https://', 'http://exa mple.com/'])(
    'refuses the invalid URL %j',
    (url) => {
      expect(problem(url)).toBe('Enter a valid URL.')
    },
  )

  test('the maximum length is 2048', () => {
    expect(maxTargetUrlLength).toBe(2048)
    const base = 'https://example.com/'
    expect(problem(base + 'a'.repeat(2048 - base.length))).toBeNull()
    expect(problem(base + 'a'.repeat(2049 - base.length))).toMatch(/2048/)
  })

  test.each([
    'http://127.0.0.1:8080/hook',
    'http://localhost:3000/hook',
    'http://api.localhost/hook',
    'http://[::1]/hook',
    'http://169.254.169.254/latest/meta-data/',
    'http://10.0.0.1/',
    'http://192.168.1.1/',
    'http://100.64.0.1/',
    'http://0.0.0.0/',
    'http://0/',
    'http://198.18.0.1/',
    'http://[fc00::1]/',
    'http://[fe80::1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://2130706433/',
    'http://0x7f.1/',
    'http://127.1/',
    'http://017700000001/',
  ])('refuses the private target %s', (url) => {
    expect(problem(url)).toMatch(/private, loopback or link-local/)
  })

  test('allowPrivateTargets accepts private targets', () => {
    expect(problem('http://127.0.0.1:8080/hook', { allowPrivateTargets: true })).toBeNull()
    expect(problem('http://localhost:3000/hook', { allowPrivateTargets: true })).toBeNull()
  })

  test('allowedTargets accepts the listed targets only', () => {
    const allowed = { allowedTargets: ['127.0.0.1', '10.0.0.0/8', 'localhost'] }
    expect(problem('http://127.0.0.1:9000/', allowed)).toBeNull()
    expect(problem('http://10.1.2.3/', allowed)).toBeNull()
    expect(problem('http://localhost/', allowed)).toBeNull()
    expect(problem('http://192.168.0.1/', allowed)).not.toBeNull()
    expect(problem('http://169.254.169.254/', allowed)).not.toBeNull()
  })

  test('allowPrivateTargets does not allow other schemes or credentials', () => {
    expect(problem('ftp://127.0.0.1/', { allowPrivateTargets: true })).not.toBeNull()
    expect(problem('http://u:p@127.0.0.1/', { allowPrivateTargets: true })).not.toBeNull()
  })
})
