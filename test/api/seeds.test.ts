import { beforeEach, expect, test } from 'vitest'
import { z } from 'zod'
import type { Whisperer } from '../../src/whisperer.ts'
import { forEachDatabase } from '../support/databases.ts'
import { apiOf, type Call, seedToken } from './support.ts'

/**
 * The subscriber requests of dj-whisperer's documents (the seeds), replayed as they are written:
 * the same bodies, the same `Authorization: Token <secret-login-token>` header, the same paths.
 */
forEachDatabase((db) => {
  let whisperer: Whisperer
  let call: Call
  const headers = { Authorization: `Token ${seedToken}` }
  beforeEach(async () => {
    whisperer = await db.whisperer()
    whisperer.eventTypes.register({ type: 'package-created' })
    whisperer.eventTypes.register({ type: 'order-created' })
    call = apiOf(whisperer)
  })

  test('Quick Start: subscribing with a linear countdown', async () => {
    const response = await call('POST', 'hooks/', {
      as: null,
      headers,
      json: {
        event_type: 'package-created',
        secret_key: '<secret>',
        target_url: 'https://example.com/',
        retry_countdown_config: {
          choice: 'linear',
          kwargs: {
            base: 1 * 60,
            limit: 10 * 60,
          },
        },
      },
    })
    expect(response.status).toBe(201)
    expect(response.body).toMatchObject({
      owner: 'alice',
      event_type: 'package-created',
      secret_key: '<secret>',
      target_url: 'https://example.com/',
      retry_countdown_config: { choice: 'linear', kwargs: { base: 60, limit: 600 } },
      is_active: true,
    })
    expect(await whisperer.webhooks.get('alice', response.body.id)).toMatchObject({
      signatureScheme: 'hmac-sha256',
      retryCountdownConfig: { choice: 'linear', kwargs: { base: 60, limit: 600 } },
    })
  })

  test('Callback Function: subscribing with a registered callback', async () => {
    whisperer.callbacks.register('foo.bar.app.callback', () => {})
    const response = await call('POST', 'hooks/', {
      as: null,
      headers,
      json: {
        event_type: 'package-created',
        secret_key: '<secret>',
        target_url: 'https://example.com/',
        callback: 'foo.bar.app.callback',
        retry_countdown_config: { choice: 'exponential', kwargs: { base: 2 } },
      },
    })
    expect(response.status).toBe(201)
    expect(response.body).toMatchObject({
      callback: 'foo.bar.app.callback',
      retry_countdown_config: { choice: 'exponential', kwargs: { base: 2 } },
    })
  })

  test('Custom Retry Countdown: subscribing with a countdown registered with its kwargs schema', async () => {
    whisperer.countdowns.register('custom', {
      kwargs: z.object({ factor: z.int().min(1) }),
      create:
        ({ factor }) =>
        (n) =>
          n % 2 === 0 ? 2 * factor * n : factor * n,
    })
    const body = {
      event_type: 'package-created',
      secret_key: '<secret>',
      target_url: 'https://example.com/',
      retry_countdown_config: {
        choice: 'custom',
        kwargs: {
          factor: 5,
        },
      },
    }
    const response = await call('POST', 'hooks/', { as: null, headers, json: body })
    expect(response.status).toBe(201)
    expect(response.body.retry_countdown_config).toEqual({ choice: 'custom', kwargs: { factor: 5 } })

    // The kwargs are checked by the registered schema.
    const invalid = await call('POST', 'hooks/', {
      as: null,
      headers,
      json: { ...body, retry_countdown_config: { choice: 'custom', kwargs: { factor: 0 } } },
    })
    expect(invalid.status).toBe(400)
    expect(Object.keys(invalid.body.errors)).toEqual(['retry_countdown_config.kwargs.factor'])
  })

  test('Authentication Methods: subscribing with basic authentication in config', async () => {
    const response = await call('POST', 'hooks/', {
      as: null,
      headers,
      json: {
        event_type: 'order-created',
        target_url: 'https://example.com/order-created/',
        config: {
          auth: {
            auth_type: 'basic',
            username: 'username',
            password: 'password',
          },
        },
      },
    })
    expect(response.status).toBe(201)
    expect(response.body).toMatchObject({
      event_type: 'order-created',
      target_url: 'https://example.com/order-created/',
      config: { auth: { auth_type: 'basic', username: 'username', password: 'password' } },
    })
    const read = await call('GET', `hooks/${response.body.id}/`, { as: null, headers })
    expect(read.body.config).toEqual({
      auth: { auth_type: 'basic', username: 'username', password: '********' },
    })
  })

  test('Cancelling a subscription: DELETE hooks/<webhook-id> without a trailing slash', async () => {
    const created = await call('POST', 'hooks/', {
      as: null,
      headers,
      json: { event_type: 'package-created', secret_key: '<secret>', target_url: 'https://example.com/' },
    })
    const cancelled = await call('DELETE', `hooks/${created.body.id}`, { as: null, headers })
    expect(cancelled.status).toBe(204)
    expect(cancelled.text).toBe('')
    expect((await call('GET', `hooks/${created.body.id}`, { as: null, headers })).status).toBe(404)
    expect((await call('GET', 'hooks/', { as: null, headers })).body.results).toEqual([])
  })
})
