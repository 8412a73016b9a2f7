import { beforeEach, expect, test } from 'vitest'
import type { Whisperer } from '../../src/whisperer.ts'
import { forEachDatabase } from '../support/databases.ts'
import { rejection } from '../support/rejection.ts'

const target = 'https://example.com/hooks'

forEachDatabase((db) => {
  let whisperer: Whisperer
  beforeEach(async () => {
    whisperer = await db.whisperer()
    whisperer.eventTypes.register({ type: 'package-created' })
    whisperer.eventTypes.register({ type: 'package-updated' })
    whisperer.callbacks.register('audit', () => {})
  })

  test('create stores every field and applies the defaults', async () => {
    const webhook = await whisperer.webhooks.create('acme', {
      eventType: 'package-created',
      targetUrl: target,
    })
    expect(webhook).toMatchObject({
      owner: 'acme',
      eventType: 'package-created',
      targetUrl: target,
      secretKey: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
      signatureScheme: 'hmac-sha256',
      publicKey: null,
      secretRotatedAt: null,
      previousKeys: [],
      isActive: true,
      retryCountdownConfig: { choice: 'exponential', kwargs: { base: 2, factor: 1 } },
      callback: null,
      additionalHeaders: {},
      config: {},
      sendTraceparent: false,
      disabledReason: null,
    })
    // The secret is shown by the create only.
    const { secretKey: _shownOnce, ...stored } = webhook
    expect(await whisperer.webhooks.get('acme', webhook.id)).toEqual(stored)
    expect(await whisperer.webhooks.get('acme', webhook.id)).not.toHaveProperty('secretKey')
  })

  test('create keeps validated countdown kwargs only, and named callbacks', async () => {
    const webhook = await whisperer.webhooks.create('acme', {
      eventType: 'package-created',
      targetUrl: target,
      secretKey: 'secret',
      callback: 'audit',
      retryCountdownConfig: { choice: 'linear', kwargs: { base: 60, limit: 600, surplus: 1 } },
      additionalHeaders: { 'X-Tenant': 'acme' },
      config: { auth: { auth_type: 'basic', username: 'u', password: 'p' }, tenant: 'acme' },
    })
    expect(webhook.retryCountdownConfig).toEqual({ choice: 'linear', kwargs: { base: 60, limit: 600 } })
    expect(webhook.callback).toBe('audit')
    expect(webhook.config).toEqual({
      auth: { auth_type: 'basic', username: 'u', password: 'p' },
      tenant: 'acme',
    })
  })

  test('invalid input is refused with the failing fields named, and nothing is stored', async () => {
    const error = await rejection(
      whisperer.webhooks.create('acme', {
        eventType: 'nope',
        targetUrl: 'ftp://example.com',
        callback: 'os.system',
        retryCountdownConfig: { choice: 'random', kwargs: { min_value: 5, max_value: 1 } },
      }),
    )
    expect(error.code).toBe('validation_error')
    expect(error.issues.map((issue) => issue.path).sort()).toEqual([
      'callback',
      'eventType',
      'retryCountdownConfig.kwargs',
      'targetUrl',
    ])
    expect(error.message).toContain('eventType')
    expect(await whisperer.webhooks.list({ owner: 'x', admin: true })).toEqual([])
  })

  test('a duplicate (owner, target_url, event_type) is refused on create and on update', async () => {
    await whisperer.webhooks.create('acme', { eventType: 'package-created', targetUrl: target })
    const duplicate = await rejection(
      whisperer.webhooks.create('acme', { eventType: 'package-created', targetUrl: target }),
    )
    expect(duplicate.code).toBe('webhook_already_registered')
    expect(duplicate.status).toBe(409)

    const other = await whisperer.webhooks.create('acme', { eventType: 'package-updated', targetUrl: target })
    const onUpdate = await rejection(
      whisperer.webhooks.update('acme', other.id, { eventType: 'package-created' }),
    )
    expect(onUpdate.code).toBe('webhook_already_registered')

    // Another owner may subscribe the same URL to the same type.
    await whisperer.webhooks.create('globex', { eventType: 'package-created', targetUrl: target })
  })

  test('every operation is scoped to its owner; an admin sees all', async () => {
    const mine = await whisperer.webhooks.create('acme', { eventType: 'package-created', targetUrl: target })
    await whisperer.webhooks.create('globex', { eventType: 'package-created', targetUrl: target })
    for (const attempt of [
      () => whisperer.webhooks.get('globex', mine.id),
      () => whisperer.webhooks.update('globex', mine.id, { isActive: false }),
      () =>
        whisperer.webhooks.replace('globex', mine.id, { eventType: 'package-created', targetUrl: target }),
      () => whisperer.webhooks.delete('globex', mine.id),
    ]) {
      expect((await rejection(attempt())).code).toBe('webhook_not_found')
    }
    expect((await whisperer.webhooks.get('acme', mine.id)).isActive).toBe(true)
    expect((await whisperer.webhooks.list('acme')).map((w) => w.owner)).toEqual(['acme'])
    expect((await whisperer.webhooks.list({ owner: 'root', admin: true })).map((w) => w.owner)).toEqual([
      'acme',
      'globex',
    ])
    expect((await whisperer.webhooks.get({ owner: 'root', admin: true }, mine.id)).id).toBe(mine.id)
  })

  test('list filters by event type and target URL case-insensitively, and by activity', async () => {
    await whisperer.webhooks.create('acme', { eventType: 'package-created', targetUrl: target })
    await whisperer.webhooks.create('acme', {
      eventType: 'package-updated',
      targetUrl: 'https://example.com/other',
      isActive: false,
    })
    expect((await whisperer.webhooks.list('acme', { eventType: 'PACKAGE-CREATED' })).length).toBe(1)
    expect((await whisperer.webhooks.list('acme', { targetUrl: target.toUpperCase() })).length).toBe(1)
    expect((await whisperer.webhooks.list('acme', { isActive: false })).map((w) => w.eventType)).toEqual([
      'package-updated',
    ])
    const first = await whisperer.webhooks.list('acme', { limit: 1 })
    const next = await whisperer.webhooks.list('acme', { afterId: first[0]!.id })
    expect(next.map((w) => w.eventType)).toEqual(['package-updated'])
  })

  test('update changes the given fields only; replace resets omitted ones', async () => {
    const webhook = await whisperer.webhooks.create('acme', {
      eventType: 'package-created',
      targetUrl: target,
      secretKey: 'secret',
      callback: 'audit',
      sendTraceparent: true,
    })
    const updated = await whisperer.webhooks.update('acme', webhook.id, {
      retryCountdownConfig: { choice: 'fixed', kwargs: { seconds: 30 } },
    })
    expect(updated).toMatchObject({
      signatureScheme: 'hmac-sha256',
      callback: 'audit',
      sendTraceparent: true,
      retryCountdownConfig: { choice: 'fixed' },
    })
    expect(await whisperer.webhooks.update('acme', webhook.id, { sendTraceparent: false })).toMatchObject({
      sendTraceparent: false,
    })
    expect(updated.updatedAt.getTime()).toBeGreaterThanOrEqual(webhook.updatedAt.getTime())
    const cleared = await whisperer.webhooks.update('acme', webhook.id, { secretKey: null, callback: '' })
    expect(cleared).toMatchObject({ signatureScheme: null, callback: null })
    const replaced = await whisperer.webhooks.replace('acme', webhook.id, {
      eventType: 'package-updated',
      targetUrl: target,
    })
    expect(replaced).toMatchObject({
      eventType: 'package-updated',
      sendTraceparent: false,
      retryCountdownConfig: { choice: 'exponential', kwargs: { base: 2, factor: 1 } },
    })
  })

  test('delete keeps history, cancels pending deliveries, and lets the owner subscribe again', async () => {
    const webhook = await whisperer.webhooks.create('acme', {
      eventType: 'package-created',
      targetUrl: target,
    })
    const { deliveries } = await whisperer.deliverEvent({ id: 1 }, 'package-created')
    await whisperer.webhooks.delete('acme', webhook.id)
    expect((await rejection(whisperer.webhooks.get('acme', webhook.id))).code).toBe('webhook_not_found')
    expect((await rejection(whisperer.webhooks.delete('acme', webhook.id))).code).toBe('webhook_not_found')
    const delivery = await whisperer.deliveries.get('acme', deliveries[0]!.uuid)
    expect(delivery.status).toBe('cancelled')
    const again = await whisperer.webhooks.create('acme', { eventType: 'package-created', targetUrl: target })
    expect(again.id).not.toBe(webhook.id)
  })

  test('deactivating a webhook cancels its pending deliveries and stops new ones', async () => {
    const webhook = await whisperer.webhooks.create('acme', {
      eventType: 'package-created',
      targetUrl: target,
    })
    const first = await whisperer.deliverEvent({ id: 1 }, 'package-created')
    await whisperer.webhooks.update('acme', webhook.id, { isActive: false })
    expect((await whisperer.deliveries.get('acme', first.deliveries[0]!.uuid)).status).toBe('cancelled')
    const second = await whisperer.deliverEvent({ id: 2 }, 'package-created')
    expect(second).toEqual({ eventUuid: null, deliveries: [] })
  })
})
