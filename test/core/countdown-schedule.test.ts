import { expect, test } from 'vitest'
import { z } from 'zod'
import { CountdownRegistry } from '../../src/core/retry-countdown.ts'

test('a schedule lists each retry with its wait and when it comes after the first attempt', () => {
  const schedule = new CountdownRegistry().schedule({ choice: 'fixed', kwargs: { seconds: 30 } }, 3)
  expect(schedule).toEqual([
    {
      retry: 0,
      waitSeconds: 30,
      waitMinSeconds: 30,
      waitMaxSeconds: 30,
      atSeconds: 30,
      atMinSeconds: 30,
      atMaxSeconds: 30,
    },
    {
      retry: 1,
      waitSeconds: 30,
      waitMinSeconds: 30,
      waitMaxSeconds: 30,
      atSeconds: 60,
      atMinSeconds: 60,
      atMaxSeconds: 60,
    },
    {
      retry: 2,
      waitSeconds: 30,
      waitMinSeconds: 30,
      waitMaxSeconds: 30,
      atSeconds: 90,
      atMinSeconds: 90,
      atMaxSeconds: 90,
    },
  ])
})

test('a random countdown is shown at its middle draw, between its least and its most', () => {
  const [first, second] = new CountdownRegistry().schedule(
    { choice: 'random', kwargs: { min_value: 0, max_value: 9 } },
    2,
  )
  expect(first).toMatchObject({ waitSeconds: 5, waitMinSeconds: 0, waitMaxSeconds: 9 })
  expect(second).toMatchObject({ atSeconds: 10, atMinSeconds: 0, atMaxSeconds: 18 })
})

test('the schedule is the one the worker follows: the same delays, capped the same way', () => {
  const registry = new CountdownRegistry()
  registry.register('doubling', {
    kwargs: z.object({ first: z.int() }),
    create:
      ({ first }) =>
      (n) =>
        first * 2 ** n,
  })
  const config = { choice: 'doubling', kwargs: { first: 1 } }
  const schedule = registry.schedule(config, 25)
  expect(schedule.map((retry) => retry.waitSeconds)).toEqual(
    schedule.map((retry) => registry.delaySeconds(config, retry.retry, Math.random)),
  )
  expect(schedule.at(-1)!.waitSeconds).toBe(30 * 24 * 3600)
  expect(registry.list().map((countdown) => countdown.choice)).toEqual([
    'fixed',
    'linear',
    'exponential',
    'random',
    'doubling',
  ])
})
