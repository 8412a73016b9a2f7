import { describe, expect, test } from 'vitest'
import {
  type AttemptResult,
  classifyAttempt,
  type ErrorKind,
  parseRetryAfter,
} from '../../src/core/outcome.ts'

const now = new Date('2026-01-01T00:00:00Z')

function response(status: number, headers: Record<string, string> = {}): AttemptResult {
  return { kind: 'response', status, headers, body: '', truncated: false, durationMs: 12 }
}

function failure(error: ErrorKind): AttemptResult {
  return { kind: 'error', error, message: 'boom', durationMs: 5 }
}

describe('classifyAttempt', () => {
  test.each([200, 201, 202, 204, 299])('%i is delivered', (status) => {
    expect(classifyAttempt(response(status), now)).toEqual({ kind: 'delivered', status })
  })

  test.each([300, 301, 302, 307, 308])('a %i redirect is retried, not followed or delivered', (status) => {
    expect(classifyAttempt(response(status, { location: 'https://elsewhere.example/' }), now)).toEqual({
      kind: 'retry',
      errorKind: 'http',
      status,
    })
  })

  test.each([400, 401, 404, 408, 429, 500, 502, 503])('%i is retried as an http error', (status) => {
    expect(classifyAttempt(response(status), now)).toEqual({ kind: 'retry', errorKind: 'http', status })
  })

  test('410 Gone gives up', () => {
    expect(classifyAttempt(response(410), now)).toEqual({
      kind: 'give-up',
      reason: 'gone',
      errorKind: 'http',
      status: 410,
    })
  })

  test('410 Gone gives up even with Retry-After', () => {
    expect(classifyAttempt(response(410, { 'retry-after': '60' }), now)).toMatchObject({
      kind: 'give-up',
      reason: 'gone',
    })
  })

  test('Retry-After in seconds is kept on a retry', () => {
    expect(classifyAttempt(response(503, { 'retry-after': '120' }), now)).toEqual({
      kind: 'retry',
      errorKind: 'http',
      status: 503,
      retryAfterSeconds: 120,
    })
  })

  test('Retry-After as an HTTP date is kept on a retry', () => {
    expect(classifyAttempt(response(429, { 'retry-after': 'Thu, 01 Jan 2026 00:05:00 GMT' }), now)).toEqual({
      kind: 'retry',
      errorKind: 'http',
      status: 429,
      retryAfterSeconds: 300,
    })
  })

  test('an invalid Retry-After is ignored', () => {
    expect(classifyAttempt(response(503, { 'retry-after': 'soon' }), now)).toEqual({
      kind: 'retry',
      errorKind: 'http',
      status: 503,
    })
  })

  test('Retry-After on a 2xx does not matter', () => {
    expect(classifyAttempt(response(200, { 'retry-after': '60' }), now)).toEqual({
      kind: 'delivered',
      status: 200,
    })
  })

  test.each(['timeout', 'connect', 'dns', 'tls', 'http'] as const)('a %s error is retried', (error) => {
    expect(classifyAttempt(failure(error), now)).toEqual({ kind: 'retry', errorKind: error })
  })

  test('a blocked target gives up', () => {
    expect(classifyAttempt(failure('blocked'), now)).toEqual({
      kind: 'give-up',
      reason: 'blocked',
      errorKind: 'blocked',
    })
  })
})

describe('parseRetryAfter', () => {
  test('reads delta-seconds', () => {
    expect(parseRetryAfter('120', now)).toBe(120)
    expect(parseRetryAfter('0', now)).toBe(0)
    expect(parseRetryAfter(' 45 ', now)).toBe(45)
  })

  test('reads an HTTP date as seconds from now', () => {
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:02:00 GMT', now)).toBe(120)
    expect(parseRetryAfter('Fri, 02 Jan 2026 00:00:00 GMT', now)).toBe(86400)
  })

  test('rounds a date up, never earlier than asked', () => {
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:02:00 GMT', new Date('2026-01-01T00:00:00.500Z'))).toBe(120)
  })

  test('a date in the past gives 0', () => {
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0)
  })

  test('depends on the injected now', () => {
    const date = 'Thu, 01 Jan 2026 01:00:00 GMT'
    expect(parseRetryAfter(date, now)).toBe(3600)
    expect(parseRetryAfter(date, new Date('2026-01-01T00:30:00Z'))).toBe(1800)
  })

  test.each([
    ['absent', undefined],
    ['empty', ''],
    ['a word', 'soon'],
    ['negative', '-5'],
    ['fractional', '1.5'],
    ['a bare number with a unit', '10s'],
    ['an invalid date', 'Thu, 99 Foo 2026 00:00:00 GMT'],
  ])('%s is undefined', (_label, value) => {
    expect(parseRetryAfter(value, now)).toBeUndefined()
  })
})
