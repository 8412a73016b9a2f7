import { expect, test } from 'vitest'
import { z } from 'zod'
import { forEachDatabase } from '../support/databases.ts'
import { apiOf, expectError } from './support.ts'

/** The countdown choices and the retry schedule preview, computed by the worker's own registry. */
forEachDatabase((db) => {
  test('countdowns/ lists every choice with the JSON Schema of its kwargs, custom ones included', async () => {
    const whisperer = await db.whisperer()
    whisperer.countdowns.register('hourly', {
      kwargs: z.object({ hours: z.int().min(1) }),
      create:
        ({ hours }) =>
        () =>
          hours * 3600,
    })
    const call = apiOf(whisperer)
    const response = await call('GET', 'countdowns/')
    expect(response.status).toBe(200)
    expect(response.body.default).toEqual({ choice: 'exponential', kwargs: { base: 2, factor: 1 } })
    expect(response.body.max_attempts).toBe(19)
    const schemas = Object.fromEntries(
      response.body.countdowns.map((c: { choice: string; kwargs_schema: unknown }) => [
        c.choice,
        c.kwargs_schema,
      ]),
    )
    expect(Object.keys(schemas)).toEqual(['fixed', 'linear', 'exponential', 'random', 'hourly'])
    expect(schemas.fixed).toMatchObject({
      type: 'object',
      properties: { seconds: { type: 'integer', minimum: 0 } },
      required: ['seconds'],
    })
    // A kwarg with a default is optional; `limit` may be null.
    expect(schemas.exponential.required).toEqual(['base'])
    expect(schemas.exponential.properties.factor).toMatchObject({ type: 'integer', minimum: 1, default: 1 })
    expect(schemas.linear.properties.limit.anyOf).toEqual(
      expect.arrayContaining([expect.objectContaining({ type: 'integer' }), { type: 'null' }]),
    )
    expect(schemas.hourly).toMatchObject({ properties: { hours: { type: 'integer', minimum: 1 } } })
  })

  test('countdowns/schedule/ answers when each retry comes, as the formulas say', async () => {
    const whisperer = await db.whisperer({ maxAttempts: 8 })
    const call = apiOf(whisperer)
    const schedule = async (retry_countdown_config: unknown) => {
      const response = await call('POST', 'countdowns/schedule/', { json: { retry_countdown_config } })
      expect(response.status).toBe(200)
      return response.body
    }

    const linear = await schedule({ choice: 'linear', kwargs: { base: 60, limit: 200, unknown: 1 } })
    expect(linear.retry_countdown_config).toEqual({ choice: 'linear', kwargs: { base: 60, limit: 200 } })
    expect(linear.max_attempts).toBe(8)
    type Retry = { attempt: number; wait_seconds: number; at_seconds: number }
    expect(linear.retries.map((r: Retry) => r.attempt)).toEqual([2, 3, 4, 5, 6, 7, 8])
    expect(linear.retries.map((r: Retry) => r.wait_seconds)).toEqual([0, 60, 120, 180, 200, 200, 200])
    expect(linear.retries.map((r: Retry) => r.at_seconds)).toEqual([0, 60, 180, 360, 560, 760, 960])
    expect(linear.retries[3]).toMatchObject({
      wait_min_seconds: 180,
      wait_max_seconds: 180,
      at_max_seconds: 360,
    })

    const exponential = await schedule({ choice: 'exponential', kwargs: { base: 3 } })
    expect(exponential.retry_countdown_config.kwargs).toEqual({ base: 3, factor: 1 })
    expect(exponential.retries.map((r: Retry) => r.wait_seconds)).toEqual([1, 3, 9, 27, 81, 243, 729])

    // A random countdown: its middle draw, and the least and the most.
    const random = await schedule({ choice: 'random', kwargs: { min_value: 10, max_value: 20 } })
    expect(random.retries[0]).toEqual({
      attempt: 2,
      wait_seconds: 15,
      wait_min_seconds: 10,
      wait_max_seconds: 20,
      at_seconds: 15,
      at_min_seconds: 10,
      at_max_seconds: 20,
    })
    expect(random.retries[6]).toMatchObject({ at_seconds: 105, at_min_seconds: 70, at_max_seconds: 140 })

    // No wait is longer than the cap of 30 days, whatever the formula says.
    const huge = await schedule({ choice: 'exponential', kwargs: { base: 1000 } })
    expect(huge.retries.at(-1).wait_seconds).toBe(30 * 24 * 3600)
  })

  test('an invalid countdown is a 400 naming each field as a webhook would', async () => {
    const call = apiOf(await db.whisperer())
    const post = (json: unknown) => call('POST', 'countdowns/schedule/', { json })
    const negative = await post({ retry_countdown_config: { choice: 'linear', kwargs: { base: -1 } } })
    expectError(negative, 400, 'validation_error')
    expect(Object.keys(negative.body.errors)).toEqual(['retry_countdown_config.kwargs.base'])
    const unknown = await post({ retry_countdown_config: { choice: 'weekly', kwargs: {} } })
    expect(unknown.body.errors).toEqual({
      'retry_countdown_config.choice': ['"weekly" is not a valid choice.'],
    })
    const inverted = await post({
      retry_countdown_config: { choice: 'random', kwargs: { min_value: 5, max_value: 5 } },
    })
    expect(inverted.body.errors['retry_countdown_config.kwargs']).toEqual([
      "'max_value' must be greater than 'min_value'.",
    ])
    const missing = await post({})
    expectError(missing, 400, 'validation_error')
    expect(Object.keys(missing.body.errors)).toEqual(['retry_countdown_config'])
    const fixed = { retry_countdown_config: { choice: 'fixed', kwargs: { seconds: 1 } } }
    expectError(
      await call('POST', 'countdowns/schedule/', { as: 'publisher', json: fixed }),
      403,
      'forbidden',
    )
    expectError(await call('GET', 'countdowns/', { as: null }), 401, 'unauthenticated')
  })
})
