import { beforeEach, describe, expect, test } from 'vitest'
import type { Logger } from '../../src/logger.ts'
import type { Whisperer } from '../../src/whisperer.ts'
import { ManualClock } from '../support/clock.ts'
import { forEachDatabase } from '../support/databases.ts'
import { apiOf, type Call, type CallOptions, expectError } from './support.ts'

/** A logger that keeps every line, to check that no secret is ever in one. */
function recordingLogger(lines: string[]): Logger {
  const keep =
    (level: string) =>
    (...args: unknown[]) => {
      lines.push(`${level} ${JSON.stringify(args)}`)
    }
  return { debug: keep('debug'), info: keep('info'), warn: keep('warn'), error: keep('error') }
}

/**
 * Portal sessions: created by a publisher (or admin) for one owner, exchanged once for a session,
 * and scoped on every route: the owner's data only, the session's event types only, and nothing
 * but reads when read-only. Expired and revoked sessions are refused.
 */
forEachDatabase((db) => {
  let whisperer: Whisperer
  let call: Call
  let clock: ManualClock
  let lines: string[]
  /** Alice's webhooks of each type, and bob's. */
  let hooks: { order: number; invoice: number; bob: number }
  /** A delivery of each of those webhooks, by uuid. */
  let deliveries: { order: string; invoice: string; bob: string }
  let invoiceEvent: string

  beforeEach(async () => {
    clock = new ManualClock()
    lines = []
    whisperer = await db.whisperer({ clock: clock.now, logger: recordingLogger(lines) })
    whisperer.eventTypes.register({ type: 'order-created' })
    whisperer.eventTypes.register({ type: 'invoice-paid' })
    call = apiOf(whisperer)
    const target = 'http://127.0.0.1:9/hook'
    hooks = {
      order: (await whisperer.webhooks.create('alice', { eventType: 'order-created', targetUrl: target })).id,
      invoice: (await whisperer.webhooks.create('alice', { eventType: 'invoice-paid', targetUrl: target }))
        .id,
      bob: (
        await whisperer.webhooks.create('bob', { eventType: 'order-created', targetUrl: `${target}/bob` })
      ).id,
    }
    const orders = await whisperer.deliverEvent({ id: 1 }, 'order-created')
    const invoices = await whisperer.deliverEvent({ id: 2 }, 'invoice-paid')
    invoiceEvent = invoices.eventUuid!
    const of = (result: typeof orders, webhookId: number) =>
      result.deliveries.find((delivery) => delivery.webhookId === webhookId)!.uuid
    deliveries = {
      order: of(orders, hooks.order),
      invoice: of(invoices, hooks.invoice),
      bob: of(orders, hooks.bob),
    }
  })

  /** A portal session for alice, exchanged: its session token, and its id. */
  async function session(options: Record<string, unknown> = {}): Promise<{ token: string; id: string }> {
    const created = await call('POST', 'portal/sessions/', {
      as: 'publisher',
      json: { owner: 'alice', ...options },
    })
    expect(created.status).toBe(201)
    const exchanged = await call('POST', 'portal/sessions/exchange/', {
      as: null,
      json: { token: created.body.token },
    })
    expect(exchanged.status).toBe(200)
    return { token: exchanged.body.token, id: created.body.id }
  }

  const as = (token: string, options: CallOptions = {}): CallOptions => ({
    as: null,
    ...options,
    headers: { authorization: `Bearer ${token}` },
  })

  describe('creating a session', () => {
    test('a publisher or an admin creates one: a one-time link to the dashboard, shown once', async () => {
      for (const creator of ['publisher', 'admin'] as const) {
        const response = await call('POST', 'portal/sessions/', {
          as: creator,
          json: { owner: 'alice', expires_in_seconds: 600, event_types: ['order-created'], read_only: true },
        })
        expect(response.status).toBe(201)
        expect(response.headers.get('cache-control')).toBe('no-store')
        expect(response.body).toMatchObject({
          owner: 'alice',
          event_types: ['order-created'],
          read_only: true,
          created_date: '2026-01-01T00:00:00.000Z',
          expires_date: '2026-01-01T00:10:00.000Z',
        })
        expect(response.body.token).toMatch(/^whpl_[a-z0-9]{12}_[\w-]{43}$/)
        expect(response.body.url).toBe(`http://api.test/whisperer/dashboard/#session=${response.body.token}`)
      }
      const defaults = await call('POST', 'portal/sessions/', { as: 'publisher', json: { owner: 'alice' } })
      expect(defaults.body).toMatchObject({
        event_types: null,
        read_only: false,
        expires_date: '2026-01-01T01:00:00.000Z',
      })
      // Only the digest is stored.
      const stored = await db.sql(`SELECT * FROM ${whisperer.config.schema}.portal_sessions`)
      expect(JSON.stringify(stored)).not.toContain(defaults.body.token.slice(18))
    })

    test('a subscriber may not create one, nor may nobody', async () => {
      expectError(await call('POST', 'portal/sessions/', { json: { owner: 'alice' } }), 403, 'forbidden')
      expectError(
        await call('POST', 'portal/sessions/', { as: null, json: { owner: 'alice' } }),
        401,
        'unauthenticated',
      )
    })

    test('bad input is refused naming the field', async () => {
      const cases: [unknown, string][] = [
        [{}, 'owner'],
        [{ owner: '' }, 'owner'],
        [{ owner: 'alice', expires_in_seconds: 0 }, 'expires_in_seconds'],
        [{ owner: 'alice', expires_in_seconds: 86_401 }, 'expires_in_seconds'],
        [{ owner: 'alice', expires_in_seconds: 1.5 }, 'expires_in_seconds'],
        [{ owner: 'alice', event_types: [] }, 'event_types'],
        [{ owner: 'alice', event_types: ['no-such-type'] }, 'event_types'],
        [{ owner: 'alice', read_only: 'yes' }, 'read_only'],
      ]
      for (const [json, field] of cases) {
        const response = await call('POST', 'portal/sessions/', { as: 'publisher', json })
        expectError(response, 400, 'validation_error')
        expect(Object.keys(response.body.errors), JSON.stringify(json)).toEqual([field])
      }
    })

    test('the library creates one too, with the dashboard’s address given', async () => {
      const created = await whisperer.portal.createSession({
        owner: 'alice',
        dashboardUrl: 'https://app.example/billing/whisperer/dashboard/',
      })
      expect(created.url).toBe(`https://app.example/billing/whisperer/dashboard/#session=${created.token}`)
      expect(created.session.expiresAt).toEqual(new Date('2026-01-01T01:00:00Z'))
    })
  })

  describe('the exchange', () => {
    test('a link is exchanged once for a session; the link itself opens nothing', async () => {
      const created = await call('POST', 'portal/sessions/', { as: 'publisher', json: { owner: 'alice' } })
      const link = created.body.token as string
      expectError(await call('GET', 'hooks/', as(link)), 401, 'unauthenticated')
      const first = await call('POST', 'portal/sessions/exchange/', { as: null, json: { token: link } })
      expect(first.status).toBe(200)
      expect(first.body.token).toMatch(/^whps_[a-z0-9]{12}_[\w-]{43}$/)
      expect(first.body.token.split('_')[1]).toBe(created.body.id)
      expectError(
        await call('POST', 'portal/sessions/exchange/', { as: null, json: { token: link } }),
        401,
        'portal_link_used',
      )
      const me = await call('GET', 'me/', as(first.body.token))
      expect(me.body).toEqual({
        owner: 'alice',
        admin: false,
        scopes: ['subscriber'],
        portal: { event_types: null, read_only: false, expires_date: '2026-01-01T01:00:00.000Z' },
      })
    })

    test('an unknown, altered or malformed link is refused', async () => {
      const created = await call('POST', 'portal/sessions/', { as: 'publisher', json: { owner: 'alice' } })
      const link = created.body.token as string
      const altered = `${link.slice(0, -1)}${link.endsWith('A') ? 'B' : 'A'}`
      for (const token of [altered, `whpl_000000000000_${'A'.repeat(43)}`, 'nonsense']) {
        expectError(
          await call('POST', 'portal/sessions/exchange/', { as: null, json: { token } }),
          401,
          'unauthenticated',
        )
      }
      expectError(
        await call('POST', 'portal/sessions/exchange/', { as: null, json: {} }),
        400,
        'validation_error',
      )
      // The real link still works: a failed exchange does not use it.
      expect(
        (await call('POST', 'portal/sessions/exchange/', { as: null, json: { token: link } })).status,
      ).toBe(200)
    })
  })

  describe('scope', () => {
    test('a session sees its owner’s webhooks and deliveries only', async () => {
      const { token } = await session()
      const list = await call('GET', 'hooks/', as(token))
      expect(list.body.results.map((hook: { id: number }) => hook.id)).toEqual([hooks.order, hooks.invoice])
      expectError(await call('GET', `hooks/${hooks.bob}/`, as(token)), 404, 'webhook_not_found')
      expectError(await call('GET', `hook_events/${deliveries.bob}/`, as(token)), 404, 'delivery_not_found')
      expectError(
        await call('POST', `hook_events/${deliveries.bob}/retry/`, as(token)),
        404,
        'delivery_not_found',
      )
      const events = await call('GET', 'hook_events/', as(token))
      expect(events.body.results.map((event: { uuid: string }) => event.uuid).sort()).toEqual(
        [deliveries.order, deliveries.invoice].sort(),
      )
      // An owner query is an admin's: a session's is ignored, as any subscriber's.
      const other = await call('GET', 'hooks/?owner=bob', as(token))
      expect(other.body.results.map((hook: { owner: string }) => hook.owner)).toEqual(['alice', 'alice'])
    })

    test('a session with event types sees and subscribes to those only', async () => {
      const { token } = await session({ event_types: ['order-created'] })
      const list = await call('GET', 'hooks/', as(token))
      expect(list.body.results.map((hook: { id: number }) => hook.id)).toEqual([hooks.order])
      expect((await call('GET', 'hooks/registry/', as(token))).body).toEqual(['order-created'])
      const types = await call('GET', 'event_types/', as(token))
      expect(types.body.map((type: { type: string }) => type.type)).toEqual(['order-created'])
      // Every route that names the other type's webhook or delivery answers as if it did not exist.
      for (const [method, path] of [
        ['GET', `hooks/${hooks.invoice}/`],
        ['PATCH', `hooks/${hooks.invoice}/`],
        ['PUT', `hooks/${hooks.invoice}/`],
        ['DELETE', `hooks/${hooks.invoice}/`],
        ['POST', `hooks/${hooks.invoice}/ping/`],
        ['POST', `hooks/${hooks.invoice}/rotate-secret/`],
      ] as const) {
        const json =
          method === 'PATCH' || method === 'PUT'
            ? { event_type: 'order-created', target_url: 'http://127.0.0.1:9/x' }
            : undefined
        expectError(await call(method, path, as(token, json ? { json } : {})), 404, 'webhook_not_found')
      }
      for (const [method, path] of [
        ['GET', `hook_events/${deliveries.invoice}/`],
        ['GET', `hook_events/${deliveries.invoice}/attempts/`],
        ['POST', `hook_events/${deliveries.invoice}/retry/`],
        ['POST', `hook_events/${deliveries.invoice}/resend/`],
      ] as const) {
        expectError(await call(method, path, as(token)), 404, 'delivery_not_found')
      }
      expectError(await call('GET', `events/${invoiceEvent}/routing/`, as(token)), 404, 'event_not_found')
      const events = await call('GET', 'hook_events/', as(token))
      expect(events.body.results.map((event: { uuid: string }) => event.uuid)).toEqual([deliveries.order])
      expect((await call('GET', 'event_queues/', as(token))).body.results).toHaveLength(1)
      const stats = await call('GET', 'stats/', as(token))
      expect(stats.body.totals.total).toBe(1)
      await db.sql(`UPDATE ${whisperer.config.schema}.deliveries SET status = 'failed'`)
      const replayable = await call('GET', 'hook_events/replay/', as(token))
      expect(replayable.body.count).toBe(1)
      expect((await call('GET', 'hook_events/replay/', { as: 'alice' })).body.count).toBe(2)
      // It may not subscribe to another type, nor move a webhook to one.
      const created = await call(
        'POST',
        'hooks/',
        as(token, { json: { event_type: 'invoice-paid', target_url: 'http://127.0.0.1:9/new' } }),
      )
      expectError(created, 400, 'validation_error')
      expect(Object.keys(created.body.errors)).toEqual(['event_type'])
      const moved = await call(
        'PATCH',
        `hooks/${hooks.order}/`,
        as(token, { json: { event_type: 'invoice-paid' } }),
      )
      expectError(moved, 400, 'validation_error')
      expect(Object.keys(moved.body.errors)).toEqual(['event_type'])
      const allowed = await call(
        'POST',
        'hooks/',
        as(token, { json: { event_type: 'order-created', target_url: 'http://127.0.0.1:9/new' } }),
      )
      expect(allowed.status).toBe(201)
      expect(allowed.body.owner).toBe('alice')
    })

    test('every route: a session is a subscriber of its owner, and a read-only one only reads', async () => {
      const writer = await session()
      const reader = await session({ read_only: true })
      const document = (await call('GET', 'openapi.json', { as: null })).body
      let checked = 0
      for (const [path, operations] of Object.entries<Record<string, { security?: { token: string[] }[] }>>(
        document.paths,
      )) {
        for (const [method, operation] of Object.entries(operations)) {
          const alternatives = (operation.security ?? []).map((requirement) => requirement.token)
          if (path.endsWith('openapi.json') || alternatives.length === 0) continue
          const url = path.replace('/whisperer/', '').replace(/\{[^}]+\}/g, 'not-an-id')
          const body = ['post', 'put', 'patch'].includes(method) ? '{"event_type":' : undefined
          // A subscriber's route is one that some requirement grants with the subscriber scope alone.
          const needsMore = !alternatives.some((scopes) => scopes.every((scope) => scope === 'subscriber'))
          for (const [who, token] of [
            ['writer', writer.token],
            ['reader', reader.token],
          ] as const) {
            const response = await call(method.toUpperCase(), url, as(token, body ? { body } : {}))
            const name = `${who} ${method} ${path}`
            checked += 1
            // A schedule is computed, not stored: the one POST a reader may send.
            const writes = method !== 'get' && !path.endsWith('/countdowns/schedule/')
            if (who === 'reader' && writes) {
              expect({ name, status: response.status, code: response.body?.code }).toEqual({
                name,
                status: 403,
                code: 'portal_read_only',
              })
            } else if (needsMore) {
              expect({ name, status: response.status, code: response.body?.code }).toEqual({
                name,
                status: 403,
                code: 'forbidden',
              })
            } else {
              expect(response.status, name).not.toBe(403)
              expect(response.status, name).not.toBe(401)
            }
          }
        }
      }
      expect(checked).toBeGreaterThan(40)
    })

    test('a read-only session reads everything of its owner and changes nothing', async () => {
      const { token } = await session({ read_only: true })
      expect((await call('GET', `hooks/${hooks.order}/`, as(token))).status).toBe(200)
      expect((await call('GET', `hook_events/${deliveries.order}/attempts/`, as(token))).status).toBe(200)
      expectError(await call('DELETE', `hooks/${hooks.order}/`, as(token)), 403, 'portal_read_only')
      expectError(
        await call('POST', `hook_events/${deliveries.order}/resend/`, as(token)),
        403,
        'portal_read_only',
      )
      expect((await whisperer.webhooks.get('alice', hooks.order)).id).toBe(hooks.order)
    })
  })

  describe('revocation and expiry', () => {
    test('a revoked session and a revoked link are refused from the next request on', async () => {
      const { token, id } = await session()
      expect((await call('GET', 'hooks/', as(token))).status).toBe(200)
      expectError(await call('DELETE', `portal/sessions/${id}/`), 403, 'forbidden')
      expect((await call('DELETE', `portal/sessions/${id}/`, { as: 'publisher' })).status).toBe(204)
      expectError(await call('GET', 'hooks/', as(token)), 401, 'unauthenticated')
      expectError(await call('DELETE', `portal/sessions/${id}/`, { as: 'admin' }), 404, 'not_found')
      const created = await call('POST', 'portal/sessions/', { as: 'publisher', json: { owner: 'alice' } })
      await call('DELETE', `portal/sessions/${created.body.id}/`, { as: 'publisher' })
      expectError(
        await call('POST', 'portal/sessions/exchange/', { as: null, json: { token: created.body.token } }),
        401,
        'unauthenticated',
      )
    })

    test('an expired session and an expired link are 401 portal_session_expired', async () => {
      const { token } = await session({ expires_in_seconds: 60 })
      const link = (
        await call('POST', 'portal/sessions/', {
          as: 'publisher',
          json: { owner: 'alice', expires_in_seconds: 60 },
        })
      ).body.token
      clock.advance(59_999)
      expect((await call('GET', 'hooks/', as(token))).status).toBe(200)
      clock.advance(1)
      const expired = await call('GET', 'hooks/', as(token))
      expectError(expired, 401, 'portal_session_expired')
      expect(expired.headers.get('www-authenticate')).toBe('Bearer')
      expectError(
        await call('POST', 'portal/sessions/exchange/', { as: null, json: { token: link } }),
        401,
        'portal_session_expired',
      )
    })
  })

  test('maintenance deletes sessions a day past their expiry', async () => {
    const old = await whisperer.portal.createSession({ owner: 'alice', expiresInSeconds: 60 })
    clock.advance(3_600_000)
    const recent = await whisperer.portal.createSession({ owner: 'alice', expiresInSeconds: 60 })
    clock.advance(86_400_000 - 3_600_000 + 61_000)
    await whisperer.runMaintenance()
    const left = await db.sql<{ id: string }>(`SELECT id FROM ${whisperer.config.schema}.portal_sessions`)
    expect(left.map((row) => row.id)).toEqual([recent.session.id])
    expect(old.session.id).not.toBe(recent.session.id)
  })

  test('no secret of a session is ever logged', async () => {
    const created = await call('POST', 'portal/sessions/', { as: 'publisher', json: { owner: 'alice' } })
    const link = created.body.token as string
    const exchanged = await call('POST', 'portal/sessions/exchange/', { as: null, json: { token: link } })
    const token = exchanged.body.token as string
    await call('POST', 'portal/sessions/exchange/', { as: null, json: { token: link } })
    await call('GET', 'hooks/', as(token))
    await call('POST', 'hooks/', as(token, { body: '{"event_type":' }))
    await call('GET', 'hooks/', as(`${token}x`))
    clock.advance(3_600_000)
    await call('GET', 'hooks/', as(token))
    // The session's creation and exchange are logged, by id, and no line holds a secret.
    const id = created.body.id as string
    expect(lines.filter((line) => line.includes(id)).length).toBeGreaterThanOrEqual(2)
    const logged = lines.join('\n')
    for (const secret of [link, token, link.slice(18), token.slice(18)]) {
      expect(logged).not.toContain(secret)
    }
  })
})
