import { describe, expect, test } from 'vitest'
import {
  type DeliveryStatus,
  deliveryStatuses,
  manualRetryRefusal,
  nextTransition,
  type RetryPolicy,
} from '../../src/core/delivery-state.ts'
import type { ErrorCode } from '../../src/core/errors.ts'
import type { AttemptOutcome } from '../../src/core/outcome.ts'
import { CountdownRegistry, defaultCountdownConfig } from '../../src/core/retry-countdown.ts'

const policy: RetryPolicy = { maxAttempts: 19, retryAfterMaxSeconds: 3600 }
const finishedAt = new Date('2026-01-01T00:00:00Z')
const failure: AttemptOutcome = { kind: 'retry', errorKind: 'http', status: 500 }
const registry = new CountdownRegistry()
const exponential = (n: number) => registry.delaySeconds(defaultCountdownConfig, n, () => 0)
const secondsLater = (seconds: number) => new Date(finishedAt.getTime() + seconds * 1000)

describe('nextTransition', () => {
  test('a delivered attempt ends the delivery', () => {
    expect(
      nextTransition({
        outcome: { kind: 'delivered', status: 200 },
        retryCount: 3,
        countdown: exponential,
        policy,
        finishedAt,
      }),
    ).toEqual({ status: 'delivered', retryCount: 4, nextAttemptAt: finishedAt, disableWebhook: false })
  })

  test('a failed first attempt waits countdown(0) after it finished', () => {
    const calls: number[] = []
    const countdown = (n: number) => {
      calls.push(n)
      return 30
    }
    expect(nextTransition({ outcome: failure, retryCount: 0, countdown, policy, finishedAt })).toEqual({
      status: 'pending',
      retryCount: 1,
      nextAttemptAt: secondsLater(30),
      disableWebhook: false,
    })
    expect(calls).toEqual([0])
  })

  test('retry n waits countdown(n) after the attempt that failed', () => {
    for (const n of [0, 1, 2, 5, 10]) {
      const next = nextTransition({
        outcome: failure,
        retryCount: n,
        countdown: exponential,
        policy,
        finishedAt,
      })
      expect(next.status).toBe('pending')
      expect(next.retryCount).toBe(n + 1)
      expect(next.nextAttemptAt).toEqual(secondsLater(2 ** n))
    }
  })

  test('a receiver that always fails gets maxAttempts attempts, each timed from the previous one', () => {
    let retryCount = 0
    let clock = finishedAt.getTime()
    const waits: number[] = []
    let attempts = 0
    for (;;) {
      attempts++
      const finished = new Date(clock + 250)
      const next = nextTransition({
        outcome: failure,
        retryCount,
        countdown: exponential,
        policy,
        finishedAt: finished,
      })
      retryCount = next.retryCount
      if (next.status !== 'pending') {
        expect(next).toEqual({
          status: 'failed',
          retryCount: 19,
          nextAttemptAt: finished,
          disableWebhook: false,
        })
        break
      }
      waits.push((next.nextAttemptAt.getTime() - finished.getTime()) / 1000)
      clock = next.nextAttemptAt.getTime()
    }
    expect(attempts).toBe(19)
    expect(waits).toEqual(Array.from({ length: 18 }, (_, n) => 2 ** n))
  })

  test('the last allowed attempt fails the delivery', () => {
    const small = { ...policy, maxAttempts: 3 }
    expect(
      nextTransition({ outcome: failure, retryCount: 1, countdown: exponential, policy: small, finishedAt })
        .status,
    ).toBe('pending')
    expect(
      nextTransition({ outcome: failure, retryCount: 2, countdown: exponential, policy: small, finishedAt }),
    ).toEqual({ status: 'failed', retryCount: 3, nextAttemptAt: finishedAt, disableWebhook: false })
  })

  test('maxAttempts 1 fails on the first failure', () => {
    expect(
      nextTransition({
        outcome: failure,
        retryCount: 0,
        countdown: exponential,
        policy: { ...policy, maxAttempts: 1 },
        finishedAt,
      }).status,
    ).toBe('failed')
  })

  test('success on the last allowed attempt is delivered', () => {
    expect(
      nextTransition({
        outcome: { kind: 'delivered', status: 204 },
        retryCount: 18,
        countdown: exponential,
        policy,
        finishedAt,
      }).status,
    ).toBe('delivered')
  })

  test('410 Gone fails at once and disables the webhook', () => {
    expect(
      nextTransition({
        outcome: { kind: 'give-up', reason: 'gone', errorKind: 'http', status: 410 },
        retryCount: 0,
        countdown: exponential,
        policy,
        finishedAt,
      }),
    ).toEqual({ status: 'failed', retryCount: 1, nextAttemptAt: finishedAt, disableWebhook: true })
  })

  test('410 Gone on the last attempt still disables the webhook', () => {
    expect(
      nextTransition({
        outcome: { kind: 'give-up', reason: 'gone', errorKind: 'http', status: 410 },
        retryCount: 18,
        countdown: exponential,
        policy,
        finishedAt,
      }).disableWebhook,
    ).toBe(true)
  })

  test('a blocked target fails at once without disabling the webhook', () => {
    expect(
      nextTransition({
        outcome: { kind: 'give-up', reason: 'blocked', errorKind: 'blocked' },
        retryCount: 0,
        countdown: exponential,
        policy,
        finishedAt,
      }),
    ).toEqual({ status: 'failed', retryCount: 1, nextAttemptAt: finishedAt, disableWebhook: false })
  })

  test('a transport error is retried like an http error', () => {
    const next = nextTransition({
      outcome: { kind: 'retry', errorKind: 'timeout' },
      retryCount: 2,
      countdown: exponential,
      policy,
      finishedAt,
    })
    expect(next).toEqual({
      status: 'pending',
      retryCount: 3,
      nextAttemptAt: secondsLater(4),
      disableWebhook: false,
    })
  })

  const retryAfter = (seconds: number): AttemptOutcome => ({
    kind: 'retry',
    errorKind: 'http',
    status: 503,
    retryAfterSeconds: seconds,
  })

  test('a Retry-After longer than the countdown wins', () => {
    const next = nextTransition({
      outcome: retryAfter(600),
      retryCount: 0,
      countdown: () => 1,
      policy,
      finishedAt,
    })
    expect(next.nextAttemptAt).toEqual(secondsLater(600))
  })

  test('a Retry-After shorter than the countdown does not shorten it', () => {
    const next = nextTransition({
      outcome: retryAfter(10),
      retryCount: 0,
      countdown: () => 60,
      policy,
      finishedAt,
    })
    expect(next.nextAttemptAt).toEqual(secondsLater(60))
  })

  test('a Retry-After of 0 keeps the countdown', () => {
    const next = nextTransition({
      outcome: retryAfter(0),
      retryCount: 3,
      countdown: exponential,
      policy,
      finishedAt,
    })
    expect(next.nextAttemptAt).toEqual(secondsLater(8))
  })

  test('a Retry-After is bounded by retryAfterMaxSeconds', () => {
    const next = nextTransition({
      outcome: retryAfter(10 ** 7),
      retryCount: 0,
      countdown: () => 1,
      policy,
      finishedAt,
    })
    expect(next.nextAttemptAt).toEqual(secondsLater(3600))
  })

  test('the bound never shortens a longer countdown', () => {
    const next = nextTransition({
      outcome: retryAfter(10 ** 7),
      retryCount: 0,
      countdown: () => 7200,
      policy,
      finishedAt,
    })
    expect(next.nextAttemptAt).toEqual(secondsLater(7200))
  })

  test('a Retry-After does not add attempts beyond maxAttempts', () => {
    expect(
      nextTransition({ outcome: retryAfter(60), retryCount: 18, countdown: exponential, policy, finishedAt })
        .status,
    ).toBe('failed')
  })
})

describe('manualRetryRefusal', () => {
  const table: [DeliveryStatus, 'retry' | 'resend', boolean, ErrorCode | null][] = [
    ['pending', 'retry', false, 'event_still_in_progress'],
    ['pending', 'retry', true, null],
    ['pending', 'resend', false, null],
    ['pending', 'resend', true, null],
    ['delivering', 'retry', false, null],
    ['delivering', 'retry', true, null],
    ['delivering', 'resend', false, null],
    ['delivering', 'resend', true, null],
    ['delivered', 'retry', false, 'event_already_delivered'],
    ['delivered', 'retry', true, 'event_already_delivered'],
    ['delivered', 'resend', false, 'event_already_delivered'],
    ['delivered', 'resend', true, null],
    ['failed', 'retry', false, null],
    ['failed', 'retry', true, null],
    ['failed', 'resend', false, null],
    ['failed', 'resend', true, null],
    ['cancelled', 'retry', false, null],
    ['cancelled', 'retry', true, null],
    ['cancelled', 'resend', false, null],
    ['cancelled', 'resend', true, null],
  ]

  test('the table covers every status, mode and force', () => {
    expect(new Set(table.map(([status]) => status))).toEqual(new Set(deliveryStatuses))
    expect(table).toHaveLength(deliveryStatuses.length * 2 * 2)
  })

  test.each(table)('%s, %s, force %s → %s', (status, mode, force, expected) => {
    expect(manualRetryRefusal({ status, inFlight: false }, { force, mode })).toBe(expected)
  })

  test.each(table)('%s, %s, force %s in flight is always refused', (status, mode, force) => {
    expect(manualRetryRefusal({ status, inFlight: true }, { force, mode })).toBe('delivery_in_flight')
  })
})
