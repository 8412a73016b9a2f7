import { expect, test } from 'vitest'
import { resolveConfig } from '../src/config.ts'

const resolve = (options: Parameters<typeof resolveConfig>[0]) =>
  resolveConfig({ env: {}, ...options }, '1.2.3')

test('defaults follow dj-whisperer and the design', () => {
  const config = resolve({})
  expect(config).toMatchObject({
    database: './.whisperer',
    schema: 'whisperer',
    payloadKey: 'data',
    connectTimeoutMs: 10_000,
    readTimeoutMs: 10_000,
    maxAttempts: 19,
    responseBodyLimit: 65_536,
    retentionMs: 84 * 24 * 3600 * 1000,
    allowPrivateTargets: false,
    allowedTargets: [],
    userAgent: 'Whisperer/1.2.3',
  })
  // The lease outlasts a token login plus an attempt, each bounded by connect + 2 × read.
  expect(config.attemptMaxMs).toBe(2 * (10 + 2 * 10) * 1000)
  expect(config.leaseMs).toBeGreaterThan(config.attemptMaxMs)
})

test('the environment supplies what options leave out; options win', () => {
  const env = {
    DATABASE_URL: 'postgres://db/x',
    WHISPERER_SCHEMA: 'hooks',
    WHISPERER_REQUEST_TIMEOUT: '5, 10',
    WHISPERER_PAYLOAD_KEY: 'payload',
    WHISPERER_MAX_ATTEMPTS: '7',
    WHISPERER_ALLOW_PRIVATE_TARGETS: 'true',
    WHISPERER_ALLOWED_TARGETS: '10.0.0.0/8, hooks.internal',
  }
  expect(resolveConfig({ env }, '1')).toMatchObject({
    database: 'postgres://db/x',
    schema: 'hooks',
    connectTimeoutMs: 5000,
    readTimeoutMs: 10_000,
    payloadKey: 'payload',
    maxAttempts: 7,
    allowPrivateTargets: true,
    allowedTargets: ['10.0.0.0/8', 'hooks.internal'],
  })
  expect(resolveConfig({ env, schema: 'mine', requestTimeout: 3 }, '1')).toMatchObject({
    schema: 'mine',
    connectTimeoutMs: 3000,
    readTimeoutMs: 3000,
  })
})

test('invalid options are refused with a message naming each one', () => {
  expect(() => resolve({ schema: 'Bad-Name', maxAttempts: 0, requestTimeout: -1 })).toThrow(
    /schema: .*; requestTimeout: .*; maxAttempts: /,
  )
  expect(() => resolve({ env: { WHISPERER_REQUEST_TIMEOUT: '1,2,3' } })).toThrow(/requestTimeout/)
  expect(() => resolve({ env: { WHISPERER_MAX_ATTEMPTS: 'many' } })).toThrow(/maxAttempts/)
  expect(() => resolve({ payloadKey: 'body' as 'data' })).toThrow(/payloadKey/)
})

test('behind a pooler: prepared statements can be turned off and LISTEN sent straight to the server', () => {
  expect(resolve({})).toMatchObject({ preparedStatements: true, listenUrl: null })
  const env = { WHISPERER_PREPARED_STATEMENTS: '0', WHISPERER_LISTEN_URL: 'postgres://db:5432/x' }
  expect(resolve({ env })).toMatchObject({ preparedStatements: false, listenUrl: 'postgres://db:5432/x' })
  expect(resolve({ env: { WHISPERER_PREPARED_STATEMENTS: 'false' } }).preparedStatements).toBe(false)
  expect(resolve({ env: { WHISPERER_PREPARED_STATEMENTS: '1' } }).preparedStatements).toBe(true)
  expect(() => resolve({ listenUrl: 'http://db/x' })).toThrow(/listenUrl: must be a postgres:\/\/ URL/)
})
