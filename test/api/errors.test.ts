import { readFile } from 'node:fs/promises'
import { HTTPException } from 'hono/http-exception'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { errorsFile, errorsMarkdown } from '../../scripts/errors-dump.ts'
import { errorResponse } from '../../src/api/errors.ts'
import { errorCodeNames, errorCodes, WhispererError } from '../../src/core/errors.ts'
import type { Logger } from '../../src/logger.ts'
import { createWhisperer, type Whisperer } from '../../src/whisperer.ts'
import { quietLogger } from '../support/databases.ts'
import { authenticate, caller } from './support.ts'

let whisperer: Whisperer
beforeAll(async () => {
  whisperer = await createWhisperer({ database: 'memory://', logger: quietLogger })
})
afterAll(() => whisperer.close())

test('docs/errors.md is the catalogue now (npm run errors:dump)', async () => {
  const committed = await readFile(errorsFile, 'utf8').catch(() => '')
  expect(committed, 'docs/errors.md is stale: run `npm run errors:dump`').toBe(errorsMarkdown())
  for (const code of errorCodeNames)
    expect(committed).toContain(`| \`${code}\` | ${errorCodes[code].status} |`)
})

test('the OpenAPI document lists every code of the catalogue as the error body’s enum', async () => {
  const call = caller(whisperer.api({ authenticate }))
  const document = (await call('GET', 'openapi.json', { as: null })).body
  expect(document.components.schemas.Error.properties.code.enum).toEqual(errorCodeNames)
  expect(errorCodeNames).toContain('internal_error')
})

test('every framework error goes through the catalogue by its status; an unknown one is a logged internal_error', async () => {
  const logged: unknown[] = []
  const logger: Logger = { ...quietLogger, error: (object) => logged.push(object) }
  const answer = async (error: unknown) => {
    const response = errorResponse(error, logger)
    return { status: response.status, body: await response.json() }
  }
  for (const [status, code] of [
    [400, 'invalid_json'],
    [401, 'unauthenticated'],
    [404, 'not_found'],
    [413, 'payload_too_large'],
    [415, 'unsupported_media_type'],
    [429, 'rate_limited'],
  ] as const) {
    expect(await answer(new HTTPException(status, { message: 'from the framework' }))).toEqual({
      status,
      body: { code, message: errorCodes[code].message },
    })
  }
  expect(logged).toEqual([])
  const teapot = await answer(new HTTPException(418, { message: 'secret detail' }))
  expect(teapot).toEqual({ status: 500, body: { code: 'internal_error', message: 'Internal server error' } })
  expect(await answer(new Error('secret detail'))).toEqual(teapot)
  expect(logged).toHaveLength(2)
  // A domain error keeps its own message and status.
  expect(await answer(new WhispererError('closed', 'Shutting down'))).toEqual({
    status: 503,
    body: { code: 'closed', message: 'Shutting down' },
  })
})

test('every status of the catalogue is an HTTP error status', () => {
  for (const code of errorCodeNames) {
    expect(errorCodes[code].status).toBeGreaterThanOrEqual(400)
    expect(errorCodes[code].status).toBeLessThan(600)
    expect(errorCodes[code].meaning.length).toBeGreaterThan(10)
  }
})
