import { describe, expect, test } from 'vitest'
import { z } from 'zod'
import { WhispererError } from '../../src/core/errors.ts'
import {
  type CountdownConfig,
  CountdownRegistry,
  defaultCountdownConfig,
  maxCountdownSeconds,
} from '../../src/core/retry-countdown.ts'

const low = () => 0
const high = () => 0.999999

function delay(config: CountdownConfig, n: number, random: () => number = low): number {
  return new CountdownRegistry().delaySeconds(config, n, random)
}

function issues(config: CountdownConfig, prefix = 'retryCountdownConfig') {
  const checked = new CountdownRegistry().validate(config, prefix)
  if (!('issues' in checked)) throw new Error(`expected issues, got ${JSON.stringify(checked.config)}`)
  return checked.issues
}

function normalized(config: CountdownConfig) {
  const checked = new CountdownRegistry().validate(config, 'retryCountdownConfig')
  if ('issues' in checked) throw new Error(`expected a valid config, got ${JSON.stringify(checked.issues)}`)
  return checked.config
}

describe('formulas', () => {
  test('fixed waits the same seconds for every retry', () => {
    for (const n of [0, 1, 5, 17]) expect(delay({ choice: 'fixed', kwargs: { seconds: 30 } }, n)).toBe(30)
  })

  test('fixed with 0 seconds retries immediately', () => {
    expect(delay({ choice: 'fixed', kwargs: { seconds: 0 } }, 3)).toBe(0)
  })

  test('linear is base times n, so n = 0 gives 0', () => {
    const config = { choice: 'linear', kwargs: { base: 60 } }
    expect([0, 1, 2, 3, 10].map((n) => delay(config, n))).toEqual([0, 60, 120, 180, 600])
  })

  test('linear is capped by limit', () => {
    const config = { choice: 'linear', kwargs: { base: 60, limit: 600 } }
    expect([0, 5, 10, 11, 20].map((n) => delay(config, n))).toEqual([0, 300, 600, 600, 600])
  })

  test('linear with a null limit is uncapped', () => {
    expect(delay({ choice: 'linear', kwargs: { base: 60, limit: null } }, 100)).toBe(6000)
  })

  test('linear with limit 0 always gives 0', () => {
    expect(delay({ choice: 'linear', kwargs: { base: 60, limit: 0 } }, 4)).toBe(0)
  })

  test('exponential is base^n times factor, so n = 0 gives factor', () => {
    const config = { choice: 'exponential', kwargs: { base: 3, factor: 5 } }
    expect([0, 1, 2, 3].map((n) => delay(config, n))).toEqual([5, 15, 45, 135])
  })

  test('exponential factor defaults to 1', () => {
    const config = { choice: 'exponential', kwargs: { base: 2 } }
    expect([0, 1, 2, 9].map((n) => delay(config, n))).toEqual([1, 2, 4, 512])
  })

  test('exponential is capped by limit', () => {
    const config = { choice: 'exponential', kwargs: { base: 2, factor: 10, limit: 100 } }
    expect([0, 1, 3, 4, 12].map((n) => delay(config, n))).toEqual([10, 20, 80, 100, 100])
  })

  test('exponential with a null limit is uncapped below 30 days', () => {
    expect(delay({ choice: 'exponential', kwargs: { base: 2, factor: 1, limit: null } }, 20)).toBe(1048576)
  })

  test('exponential with base 0 gives factor, then 0', () => {
    const config = { choice: 'exponential', kwargs: { base: 0, factor: 7 } }
    expect([0, 1, 2].map((n) => delay(config, n))).toEqual([7, 0, 0])
  })

  test('random stays within inclusive bounds', () => {
    const config = { choice: 'random', kwargs: { min_value: 5, max_value: 10 } }
    expect(delay(config, 0, low)).toBe(5)
    expect(delay(config, 0, high)).toBe(10)
  })

  test('random gives every integer of the range with equal share', () => {
    const config = { choice: 'random', kwargs: { min_value: 5, max_value: 10 } }
    const values = [0, 1, 2, 3, 4, 5].map((i) => delay(config, 0, () => i / 6))
    expect(values).toEqual([5, 6, 7, 8, 9, 10])
  })

  test('random returns integers', () => {
    const config = { choice: 'random', kwargs: { min_value: 0, max_value: 3 } }
    for (const r of [0.1, 0.33, 0.5, 0.77, 0.9])
      expect(Number.isInteger(delay(config, 0, () => r))).toBe(true)
  })

  test('random does not depend on n', () => {
    const config = { choice: 'random', kwargs: { min_value: 1, max_value: 100 } }
    const random = () => 0.42
    expect(delay(config, 7, random)).toBe(delay(config, 0, random))
  })

  test('the default schedule is exponential base 2: 1, 2, 4 … 512 seconds', () => {
    const registry = new CountdownRegistry()
    const waits = Array.from({ length: 10 }, (_, n) => registry.delaySeconds(defaultCountdownConfig, n, low))
    expect(waits).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 512])
  })
})

describe('30-day cap', () => {
  test('the cap is 30 days', () => {
    expect(maxCountdownSeconds).toBe(30 * 24 * 60 * 60)
  })

  test('a huge exponential is capped at 30 days', () => {
    expect(delay({ choice: 'exponential', kwargs: { base: 2 } }, 40)).toBe(maxCountdownSeconds)
  })

  test('an infinite exponential is capped at 30 days', () => {
    expect(delay({ choice: 'exponential', kwargs: { base: 10, factor: 1 } }, 400)).toBe(maxCountdownSeconds)
  })

  test('a fixed wait above 30 days is capped', () => {
    expect(delay({ choice: 'fixed', kwargs: { seconds: 10 ** 9 } }, 0)).toBe(maxCountdownSeconds)
  })

  test('a linear wait above 30 days is capped', () => {
    expect(delay({ choice: 'linear', kwargs: { base: 1_000_000 } }, 3)).toBe(maxCountdownSeconds)
  })

  test('a limit above 30 days does not lift the cap', () => {
    const config = { choice: 'exponential', kwargs: { base: 2, limit: 10 ** 9 } }
    expect(delay(config, 40)).toBe(maxCountdownSeconds)
  })

  test('a custom countdown returning Infinity is capped', () => {
    const registry = new CountdownRegistry()
    registry.register('forever', { kwargs: z.object({}), create: () => () => Number.POSITIVE_INFINITY })
    expect(registry.delaySeconds({ choice: 'forever', kwargs: {} }, 0, low)).toBe(maxCountdownSeconds)
  })

  test('a custom countdown returning NaN still gives a finite wait within bounds', () => {
    const registry = new CountdownRegistry()
    registry.register('broken', { kwargs: z.object({}), create: () => () => Number.NaN })
    const seconds = registry.delaySeconds({ choice: 'broken', kwargs: {} }, 0, low)
    expect(Number.isFinite(seconds)).toBe(true)
    expect(seconds).toBeGreaterThanOrEqual(0)
    expect(seconds).toBeLessThanOrEqual(maxCountdownSeconds)
  })

  test('a custom countdown returning a negative wait gives 0', () => {
    const registry = new CountdownRegistry()
    registry.register('negative', { kwargs: z.object({}), create: () => () => -5 })
    expect(registry.delaySeconds({ choice: 'negative', kwargs: {} }, 0, low)).toBe(0)
  })

  test('a config that no longer validates falls back to the default schedule', () => {
    const registry = new CountdownRegistry()
    expect(registry.delaySeconds({ choice: 'gone', kwargs: {} }, 3, low)).toBe(8)
    expect(registry.delaySeconds({ choice: 'fixed', kwargs: { seconds: -1 } }, 3, low)).toBe(8)
  })
})

describe('validation', () => {
  test('an unknown choice is refused under .choice', () => {
    expect(issues({ choice: 'x', kwargs: {} })).toEqual([
      { path: 'retryCountdownConfig.choice', message: '"x" is not a valid choice.' },
    ])
  })

  test('paths start with the given prefix', () => {
    expect(issues({ choice: 'fixed', kwargs: {} }, 'a.b')).toEqual([
      { path: 'a.b.kwargs.seconds', message: 'This field is required.' },
    ])
  })

  test.each([
    ['fixed', {}, 'seconds'],
    ['linear', {}, 'base'],
    ['exponential', { factor: 2 }, 'base'],
    ['random', { max_value: 5 }, 'min_value'],
    ['random', { min_value: 5 }, 'max_value'],
  ])('%s refuses a missing %o field', (choice, kwargs, field) => {
    expect(issues({ choice, kwargs })).toEqual([
      { path: `retryCountdownConfig.kwargs.${field}`, message: 'This field is required.' },
    ])
  })

  test('random reports both missing bounds at once', () => {
    expect(issues({ choice: 'random', kwargs: {} }).map((issue) => issue.path)).toEqual([
      'retryCountdownConfig.kwargs.min_value',
      'retryCountdownConfig.kwargs.max_value',
    ])
  })

  const fields: [string, Record<string, unknown>, string][] = [
    ['fixed', {}, 'seconds'],
    ['linear', {}, 'base'],
    ['linear', { base: 1 }, 'limit'],
    ['exponential', {}, 'base'],
    ['exponential', { base: 2 }, 'limit'],
    ['random', { max_value: 100 }, 'min_value'],
    ['random', { min_value: 0 }, 'max_value'],
  ]
  const bad: [string, unknown][] = [
    ['negative', -1],
    ['non-integer', 1.5],
    ['string', '5'],
    ['boolean', true],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['object', { n: 1 }],
  ]
  for (const [choice, others, field] of fields) {
    test.each(bad)(`${choice}.${field} refuses a %s value`, (_label, value) => {
      const paths = issues({ choice, kwargs: { ...others, [field]: value } }).map((issue) => issue.path)
      expect(paths).toContain(`retryCountdownConfig.kwargs.${field}`)
      for (const path of paths) expect(path).toMatch(/^retryCountdownConfig\.kwargs/)
    })
  }

  test.each([
    ['fixed', 'seconds', {}],
    ['linear', 'base', {}],
    ['exponential', 'base', {}],
    ['random', 'min_value', { max_value: 9 }],
  ])('%s.%s refuses null', (choice, field, others) => {
    const found = issues({ choice, kwargs: { ...others, [field]: null } })
    expect(found.map((issue) => issue.path)).toEqual([`retryCountdownConfig.kwargs.${field}`])
  })

  test('a value of the wrong type is not reported as missing', () => {
    const [issue] = issues({ choice: 'fixed', kwargs: { seconds: '5' } })
    expect(issue?.path).toBe('retryCountdownConfig.kwargs.seconds')
    expect(issue?.message).not.toBe('This field is required.')
  })

  test('zero is accepted for every integer field', () => {
    expect(normalized({ choice: 'fixed', kwargs: { seconds: 0 } }).kwargs).toEqual({ seconds: 0 })
    expect(normalized({ choice: 'linear', kwargs: { base: 0, limit: 0 } }).kwargs).toEqual({
      base: 0,
      limit: 0,
    })
    expect(normalized({ choice: 'exponential', kwargs: { base: 0, limit: 0 } }).kwargs).toEqual({
      base: 0,
      factor: 1,
      limit: 0,
    })
    expect(normalized({ choice: 'random', kwargs: { min_value: 0, max_value: 1 } }).kwargs).toEqual({
      min_value: 0,
      max_value: 1,
    })
  })

  test('exponential factor must be at least 1', () => {
    expect(issues({ choice: 'exponential', kwargs: { base: 2, factor: 0 } }).map((i) => i.path)).toEqual([
      'retryCountdownConfig.kwargs.factor',
    ])
    expect(issues({ choice: 'exponential', kwargs: { base: 2, factor: -3 } }).map((i) => i.path)).toEqual([
      'retryCountdownConfig.kwargs.factor',
    ])
    expect(issues({ choice: 'exponential', kwargs: { base: 2, factor: 1.5 } }).map((i) => i.path)).toEqual([
      'retryCountdownConfig.kwargs.factor',
    ])
  })

  test('exponential factor 1 is accepted', () => {
    expect(normalized({ choice: 'exponential', kwargs: { base: 2, factor: 1 } }).kwargs).toEqual({
      base: 2,
      factor: 1,
    })
  })

  test('exponential factor default 1 is written into the stored kwargs', () => {
    expect(normalized({ choice: 'exponential', kwargs: { base: 2 } })).toEqual({
      choice: 'exponential',
      kwargs: { base: 2, factor: 1 },
    })
  })

  test('limit may be null', () => {
    expect(normalized({ choice: 'linear', kwargs: { base: 5, limit: null } }).kwargs).toEqual({
      base: 5,
      limit: null,
    })
    expect(normalized({ choice: 'exponential', kwargs: { base: 5, limit: null } }).kwargs).toEqual({
      base: 5,
      factor: 1,
      limit: null,
    })
  })

  test('limit may be omitted', () => {
    expect(normalized({ choice: 'linear', kwargs: { base: 5 } }).kwargs).toEqual({ base: 5 })
  })

  test('random refuses min equal to max', () => {
    const found = issues({ choice: 'random', kwargs: { min_value: 5, max_value: 5 } })
    expect(found).toHaveLength(1)
    expect(found[0]?.path).toMatch(/^retryCountdownConfig\.kwargs/)
    expect(found[0]?.message).toBe("'max_value' must be greater than 'min_value'.")
  })

  test('random refuses min above max', () => {
    const found = issues({ choice: 'random', kwargs: { min_value: 9, max_value: 2 } })
    expect(found.map((issue) => issue.message)).toEqual(["'max_value' must be greater than 'min_value'."])
  })

  test('unknown kwargs are dropped', () => {
    expect(normalized({ choice: 'fixed', kwargs: { seconds: 5, extra: 1, base: 2 } })).toEqual({
      choice: 'fixed',
      kwargs: { seconds: 5 },
    })
    expect(normalized({ choice: 'random', kwargs: { min_value: 1, max_value: 2, limit: 9 } }).kwargs).toEqual(
      {
        min_value: 1,
        max_value: 2,
      },
    )
  })

  test('a validated config keeps its choice', () => {
    expect(normalized({ choice: 'linear', kwargs: { base: 10, limit: 100 } })).toEqual({
      choice: 'linear',
      kwargs: { base: 10, limit: 100 },
    })
  })

  test('the default config is valid and already normalized', () => {
    expect(defaultCountdownConfig).toEqual({ choice: 'exponential', kwargs: { base: 2, factor: 1 } })
    expect(normalized(defaultCountdownConfig)).toEqual(defaultCountdownConfig)
  })
})

describe('custom countdowns', () => {
  const steps = {
    kwargs: z.object({ steps: z.array(z.int().min(0)).min(1) }),
    create:
      ({ steps }: { steps: number[] }) =>
      (n: number) =>
        steps[Math.min(n, steps.length - 1)] ?? 0,
  }

  test('the built-in choices are known', () => {
    expect(new CountdownRegistry().choices().sort()).toEqual(['exponential', 'fixed', 'linear', 'random'])
  })

  test('a registered countdown validates and schedules', () => {
    const registry = new CountdownRegistry()
    registry.register('steps', steps)
    expect(registry.has('steps')).toBe(true)
    expect(registry.choices()).toContain('steps')
    const checked = registry.validate({ choice: 'steps', kwargs: { steps: [10, 60, 300], other: 1 } }, 'c')
    expect(checked).toEqual({ config: { choice: 'steps', kwargs: { steps: [10, 60, 300] } } })
    const config = { choice: 'steps', kwargs: { steps: [10, 60, 300] } }
    expect([0, 1, 2, 3, 9].map((n) => registry.delaySeconds(config, n, low))).toEqual([10, 60, 300, 300, 300])
  })

  test('a registered countdown reports its own kwargs issues', () => {
    const registry = new CountdownRegistry()
    registry.register('steps', steps)
    const checked = registry.validate({ choice: 'steps', kwargs: { steps: [] } }, 'c')
    expect('issues' in checked && checked.issues.map((issue) => issue.path)).toEqual(['c.kwargs.steps'])
  })

  test('a custom countdown receives the injected random', () => {
    const registry = new CountdownRegistry()
    registry.register('jitter', {
      kwargs: z.object({ seconds: z.int() }),
      create:
        ({ seconds }) =>
        (_n, random) =>
          seconds + Math.floor(random() * 10),
    })
    expect(registry.delaySeconds({ choice: 'jitter', kwargs: { seconds: 100 } }, 0, () => 0.55)).toBe(105)
  })

  test('registering a choice twice throws countdown_already_registered', () => {
    const registry = new CountdownRegistry()
    registry.register('steps', steps)
    expect(() => registry.register('steps', steps)).toThrow(WhispererError)
    try {
      registry.register('steps', steps)
    } catch (error) {
      expect((error as WhispererError).code).toBe('countdown_already_registered')
      expect((error as WhispererError).message).toContain('steps')
    }
  })

  test.each(['fixed', 'linear', 'exponential', 'random'])('the built-in %s cannot be replaced', (choice) => {
    const registry = new CountdownRegistry()
    expect(() => registry.register(choice, steps)).toThrow(
      expect.objectContaining({ code: 'countdown_already_registered' }),
    )
  })

  test('registries are independent', () => {
    const one = new CountdownRegistry()
    one.register('steps', steps)
    expect(new CountdownRegistry().has('steps')).toBe(false)
    expect(issues({ choice: 'steps', kwargs: { steps: [1] } })).toEqual([
      { path: 'retryCountdownConfig.choice', message: '"steps" is not a valid choice.' },
    ])
  })
})
