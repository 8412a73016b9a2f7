import { createRoute, type OpenAPIHono } from '@hono/zod-openapi'
import { z } from 'zod'
import { validationError } from '../../core/errors.ts'
import { defaultCountdownConfig } from '../../core/retry-countdown.ts'
import { type ApiEnv, requires } from '../context.ts'
import { Countdowns, ErrorBody, json, Schedule, ScheduleBody } from '../schemas.ts'

const tags = ['Webhooks']

/**
 * The retry countdowns a webhook may choose, and the schedule a countdown gives, computed by the
 * same registry the worker uses, so that no client reimplements the formulas.
 */
export function countdownRoutes(app: OpenAPIHono<ApiEnv>): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/countdowns/',
      ...requires(null),
      tags,
      summary: 'The retry countdowns, with the JSON Schema of their kwargs',
      responses: { 200: json(Countdowns, 'Countdowns'), 401: json(ErrorBody, 'Not authenticated') },
    }),
    (c) => {
      const backend = c.get('backend')
      return c.json(
        {
          default: defaultCountdownConfig,
          max_attempts: backend.config.maxAttempts,
          countdowns: backend.countdowns.list().map(({ choice, kwargs }) => ({
            choice,
            kwargs_schema: z.toJSONSchema(kwargs, { io: 'input', unrepresentable: 'any' }),
          })),
        },
        200,
      )
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/countdowns/schedule/',
      ...requires('subscriber'),
      tags,
      summary: 'Preview the retry schedule of a countdown',
      description:
        'Validates a `retry_countdown_config` as a webhook would, and answers when each retry would come.',
      request: { body: { content: { 'application/json': { schema: ScheduleBody } }, required: true } },
      responses: {
        200: json(Schedule, 'The schedule'),
        400: json(ErrorBody, 'Invalid input: every failing field is named'),
        401: json(ErrorBody, 'Not authenticated'),
        403: json(ErrorBody, 'The token lacks the scope'),
      },
    }),
    (c) => {
      const backend = c.get('backend')
      const checked = backend.countdowns.validate(
        c.req.valid('json').retry_countdown_config,
        'retry_countdown_config',
      )
      if ('issues' in checked) throw validationError(checked.issues)
      const maxAttempts = backend.config.maxAttempts
      return c.json(
        {
          retry_countdown_config: checked.config,
          max_attempts: maxAttempts,
          retries: backend.countdowns.schedule(checked.config, maxAttempts - 1).map((retry) => ({
            attempt: retry.retry + 2,
            wait_seconds: retry.waitSeconds,
            wait_min_seconds: retry.waitMinSeconds,
            wait_max_seconds: retry.waitMaxSeconds,
            at_seconds: retry.atSeconds,
            at_min_seconds: retry.atMinSeconds,
            at_max_seconds: retry.atMaxSeconds,
          })),
        },
        200,
      )
    },
  )
}
