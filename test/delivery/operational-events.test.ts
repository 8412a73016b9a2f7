import { afterEach, beforeEach, expect, test } from 'vitest'
import type { OperationalEvent } from '../../src/core/operational-events.ts'
import { verifySignature } from '../../src/core/signature.ts'
import type { Whisperer } from '../../src/whisperer.ts'
import { ManualClock } from '../support/clock.ts'
import { forEachDatabase } from '../support/databases.ts'
import { type Receiver, startReceiver } from '../support/receiver.ts'

const hour = 3600 * 1000
const day = 24 * hour

forEachDatabase((db) => {
  let subscriber: Receiver
  let operator: Receiver
  beforeEach(async () => {
    subscriber = await startReceiver()
    operator = await startReceiver()
  })
  afterEach(async () => {
    await subscriber.close()
    await operator.close()
  })

  /** The operator's webhook (owner `admin`) and acme's own, subscribed to one operational type each. */
  async function watchers(whisperer: Whisperer, types: string[]) {
    for (const type of types) {
      await whisperer.webhooks.create('admin', {
        eventType: type,
        targetUrl: `${operator.url}/admin/${type}`,
        secretKey: 'operator-secret',
      })
      await whisperer.webhooks.create('acme', { eventType: type, targetUrl: `${operator.url}/acme/${type}` })
      // Another owner's watcher hears nothing about acme's webhooks.
      await whisperer.webhooks.create('globex', {
        eventType: type,
        targetUrl: `${operator.url}/globex/${type}`,
      })
    }
  }

  /** What a receiver got: each request's path after the receiver's own, and its parsed body. */
  const received = (receiver: Receiver) =>
    receiver.requests.map((r) => ({
      path: r.path.slice(new URL(receiver.url).pathname.length),
      body: JSON.parse(r.body) as { event: { type: string }; data: Record<string, unknown> },
    }))

  const operationalRows = (whisperer: Whisperer) =>
    db.sql<{ type: string; subject_id: string }>(
      `SELECT type, subject_id FROM "${whisperer.config.schema}".events WHERE type LIKE 'whisperer.%' ORDER BY id`,
    )

  test('a webhook answering 410 produces exactly one whisperer.webhook.disabled, signed, to its owner and the operator', async () => {
    const clock = new ManualClock()
    const whisperer = await db.whisperer({ clock: clock.now })
    whisperer.eventTypes.register({ type: 'order.paid' })
    await watchers(whisperer, ['whisperer.webhook.disabled', 'whisperer.webhook.failing'])
    const heard: OperationalEvent[] = []
    whisperer.on('webhook.disabled', (event) => {
      heard.push(event)
    })
    const gone = await whisperer.webhooks.create('acme', {
      eventType: 'order.paid',
      targetUrl: `${subscriber.url}/gone`,
    })
    subscriber.respond(() => ({ status: 410 }))
    await whisperer.deliverEvent({ n: 1 }, 'order.paid')
    await whisperer.deliverEvent({ n: 2 }, 'order.paid')
    await whisperer.processDue()

    expect((await whisperer.webhooks.get({ owner: 'acme' }, gone.id)).disabledReason).toBe('gone')
    const requests = received(operator)
    expect(requests.map((r) => r.path).sort()).toEqual([
      '/acme/whisperer.webhook.disabled',
      '/admin/whisperer.webhook.disabled',
    ])
    for (const { body } of requests) {
      expect(body.event.type).toBe('whisperer.webhook.disabled')
      expect(body.data).toMatchObject({
        webhook: {
          id: gone.id,
          owner: 'acme',
          event_type: 'order.paid',
          target_url: `${subscriber.url}/gone`,
        },
        reason: 'gone',
        attempt: { status: 410, error_kind: 'http' },
      })
    }
    const signed = operator.requests[requests.findIndex((r) => r.path.startsWith('/admin/'))]!
    expect(
      verifySignature({
        secret: 'operator-secret',
        body: signed.body,
        headers: signed.headers,
        now: clock.now(),
      }),
    ).toMatchObject({ ok: true })
    // Stored once, whoever receives it; heard once in this process. Each delivery that failed
    // for good is exhausted too (the second, attempted before the first was recorded, or cancelled).
    const rows = await operationalRows(whisperer)
    const failed = await db.sql(
      `SELECT 1 FROM "${whisperer.config.schema}".deliveries WHERE webhook_id = $1 AND status = 'failed'`,
      [gone.id],
    )
    expect(rows.filter((row) => row.type === 'whisperer.webhook.disabled')).toEqual([
      { type: 'whisperer.webhook.disabled', subject_id: String(gone.id) },
    ])
    expect(rows.filter((row) => row.type === 'whisperer.delivery.exhausted')).toHaveLength(failed.length)
    expect(rows).toHaveLength(1 + failed.length)
    expect(heard).toHaveLength(1)
    expect(heard[0]).toMatchObject({ type: 'whisperer.webhook.disabled', webhookId: gone.id })
  })

  test('failing once, again after an hour, then recovered; a delivery out of attempts is exhausted', async () => {
    const clock = new ManualClock()
    const whisperer = await db.whisperer({ clock: clock.now, maxAttempts: 3 })
    whisperer.eventTypes.register({ type: 'order.paid' })
    await watchers(whisperer, [
      'whisperer.webhook.failing',
      'whisperer.webhook.recovered',
      'whisperer.delivery.exhausted',
    ])
    const flaky = await whisperer.webhooks.create('acme', {
      eventType: 'order.paid',
      targetUrl: `${subscriber.url}/flaky`,
      retryCountdownConfig: { choice: 'fixed', kwargs: { seconds: 40 * 60 } },
    })
    subscriber.respond(() => ({ status: 500 }))
    const published = await whisperer.deliverEvent({ n: 1 }, 'order.paid')
    await whisperer.processDue() // attempt 1: failing
    clock.advance(40 * 60 * 1000)
    await whisperer.processDue() // attempt 2, 40 min later: no second notice within the hour
    const types = () =>
      received(operator)
        .filter((r) => r.path.startsWith('/acme/'))
        .map((r) => r.body.event.type)
    expect(types()).toEqual(['whisperer.webhook.failing'])

    clock.advance(40 * 60 * 1000)
    await whisperer.processDue() // attempt 3, 80 min after the first: failing again, and exhausted
    expect(types().sort()).toEqual([
      'whisperer.delivery.exhausted',
      'whisperer.webhook.failing',
      'whisperer.webhook.failing',
    ])
    const exhausted = received(operator).find((r) => r.path === '/acme/whisperer.delivery.exhausted')!
    expect(exhausted.body.data).toMatchObject({
      webhook: { id: flaky.id },
      reason: 'max_attempts',
      delivery: { uuid: published.deliveries[0]!.uuid, event_type: 'order.paid', attempts: 3 },
      attempt: { status: 500 },
    })

    subscriber.respond(() => ({ status: 200 }))
    await whisperer.deliverEvent({ n: 2 }, 'order.paid')
    await whisperer.processDue()
    expect(types().filter((t) => t === 'whisperer.webhook.recovered')).toHaveLength(1)
    const recovered = received(operator).find((r) => r.path === '/acme/whisperer.webhook.recovered')!
    expect(recovered.body.data).toMatchObject({ webhook: { id: flaky.id }, attempt: { status: 200 } })
    // The operator heard everything acme did; globex nothing.
    expect(received(operator).filter((r) => r.path.startsWith('/admin/'))).toHaveLength(types().length)
    expect(received(operator).filter((r) => r.path.startsWith('/globex/'))).toEqual([])
  })

  test('a webhook that starts failing while a success to it is under way recovers, with its event', async () => {
    const whisperer = await db.whisperer()
    const schema = whisperer.config.schema
    whisperer.eventTypes.register({ type: 'order.paid' })
    await watchers(whisperer, ['whisperer.webhook.recovered'])
    const hook = await whisperer.webhooks.create('acme', {
      eventType: 'order.paid',
      targetUrl: `${subscriber.url}/x`,
    })
    // Claimed while healthy; another attempt's failure is recorded before this success is.
    subscriber.respond(async () => {
      await db.sql(`UPDATE "${schema}".webhooks SET failing_since = now() WHERE id = $1`, [hook.id])
      return { status: 200 }
    })
    await whisperer.deliverEvent({ n: 1 }, 'order.paid')
    await whisperer.processDue()
    expect((await whisperer.webhooks.get({ owner: 'acme' }, hook.id)).failingSince).toBeNull()
    expect(
      received(operator)
        .map((r) => r.path)
        .sort(),
    ).toEqual(['/acme/whisperer.webhook.recovered', '/admin/whisperer.webhook.recovered'])
    expect(received(operator)[0]!.body.data).toMatchObject({
      webhook: { id: hook.id },
      attempt: { status: 200 },
    })
  })

  test('maintenance disabling a webhook failing too long emits disabled with reason failing_too_long', async () => {
    const clock = new ManualClock()
    const whisperer = await db.whisperer({ clock: clock.now, disableAfterFailingDays: 1 })
    whisperer.eventTypes.register({ type: 'order.paid' })
    await watchers(whisperer, ['whisperer.webhook.disabled'])
    const heard: OperationalEvent[] = []
    whisperer.on('*', (event) => {
      heard.push(event)
    })
    const hook = await whisperer.webhooks.create('acme', {
      eventType: 'order.paid',
      targetUrl: `${subscriber.url}/down`,
      retryCountdownConfig: { choice: 'fixed', kwargs: { seconds: 3600 } },
    })
    subscriber.respond(() => ({ status: 503 }))
    await whisperer.deliverEvent({ n: 1 }, 'order.paid')
    await whisperer.processDue()
    clock.advance(day + hour)
    await whisperer.runMaintenance()
    await whisperer.runMaintenance() // a second pass finds nothing more to disable
    await whisperer.processDue()
    const disabled = received(operator).filter((r) => r.body.event.type === 'whisperer.webhook.disabled')
    expect(disabled.map((r) => r.path).sort()).toEqual([
      '/acme/whisperer.webhook.disabled',
      '/admin/whisperer.webhook.disabled',
    ])
    expect(disabled[0]!.body.data).toMatchObject({
      webhook: { id: hook.id },
      reason: 'failing_too_long',
      attempt: null,
    })
    expect(heard.filter((e) => e.type === 'whisperer.webhook.disabled')).toHaveLength(1)
  })

  test('a webhook subscribed to operational events never triggers operational events about itself', async () => {
    const clock = new ManualClock()
    const whisperer = await db.whisperer({ clock: clock.now, maxAttempts: 2 })
    whisperer.eventTypes.register({ type: 'order.paid' })
    // The operator's receivers answer 410: their webhooks are disabled, silently.
    await watchers(whisperer, [
      'whisperer.webhook.failing',
      'whisperer.webhook.disabled',
      'whisperer.delivery.exhausted',
    ])
    operator.respond(() => ({ status: 410 }))
    subscriber.respond(() => ({ status: 410 }))
    await whisperer.webhooks.create('acme', { eventType: 'order.paid', targetUrl: `${subscriber.url}/gone` })
    await whisperer.deliverEvent({ n: 1 }, 'order.paid')
    for (let i = 0; i < 3; i += 1) {
      await whisperer.processDue()
      clock.advance(day)
    }
    // One disabled and one exhausted about acme's webhook; nothing about the watchers themselves.
    expect((await operationalRows(whisperer)).map((row) => row.type).sort()).toEqual([
      'whisperer.delivery.exhausted',
      'whisperer.webhook.disabled',
    ])
  })

  test('a completion that fails changes nothing and emits nothing; written again, it emits exactly once', async () => {
    const clock = new ManualClock()
    const whisperer = await db.whisperer({ clock: clock.now })
    const schema = whisperer.config.schema
    whisperer.eventTypes.register({ type: 'order.paid' })
    await watchers(whisperer, ['whisperer.webhook.disabled'])
    const gone = await whisperer.webhooks.create('acme', {
      eventType: 'order.paid',
      targetUrl: `${subscriber.url}/g`,
    })
    subscriber.respond(() => ({ status: 410 }))
    // Recording attempts fails until the trigger is dropped: the statement that would disable the
    // webhook and emit the event rolls back whole, and the recorder writes it again.
    await db.sql(`CREATE FUNCTION "${schema}".refuse() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'attempts refused'; END $$`)
    await db.sql(
      `CREATE TRIGGER refuse BEFORE INSERT ON "${schema}".attempts FOR EACH ROW EXECUTE FUNCTION "${schema}".refuse()`,
    )
    await whisperer.deliverEvent({ n: 1 }, 'order.paid')
    const processing = whisperer.processDue()
    await until(
      async () =>
        (await db.sql(`SELECT 1 FROM "${schema}".attempts`)).length === 0 && subscriber.requests.length > 0,
    )
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(await operationalRows(whisperer)).toEqual([])
    expect((await whisperer.webhooks.get({ owner: 'acme' }, gone.id)).isActive).toBe(true)

    await db.sql(`DROP TRIGGER refuse ON "${schema}".attempts`)
    await processing
    await whisperer.processDue()
    expect(await operationalRows(whisperer)).toEqual([
      { type: 'whisperer.webhook.disabled', subject_id: String(gone.id) },
      { type: 'whisperer.delivery.exhausted', subject_id: String(gone.id) },
    ])
    expect(
      received(operator)
        .map((r) => r.path)
        .sort(),
    ).toEqual(['/acme/whisperer.webhook.disabled', '/admin/whisperer.webhook.disabled'])
  })

  test('operational types are built in and reserved; the list is scoped to the owner', async () => {
    const whisperer = await db.whisperer()
    expect((await whisperer.eventTypes.list()).map((t) => t.type)).toEqual(
      expect.arrayContaining(['whisperer.webhook.disabled', 'whisperer.delivery.exhausted']),
    )
    expect(() => whisperer.eventTypes.register({ type: 'whisperer.custom' })).toThrow(
      expect.objectContaining({ code: 'reserved_event_type' }),
    )
    await expect(whisperer.eventTypes.declare({ type: 'whisperer.webhook.failing' })).rejects.toMatchObject({
      code: 'reserved_event_type',
    })
    await expect(whisperer.deliverEvent({}, 'whisperer.webhook.disabled')).rejects.toMatchObject({
      code: 'reserved_event_type',
    })

    whisperer.eventTypes.register({ type: 'order.paid' })
    const acme = await whisperer.webhooks.create('acme', {
      eventType: 'order.paid',
      targetUrl: `${subscriber.url}/a`,
    })
    await whisperer.webhooks.create('globex', { eventType: 'order.paid', targetUrl: `${subscriber.url}/b` })
    subscriber.respond(() => ({ status: 410 }))
    await whisperer.deliverEvent({}, 'order.paid')
    await whisperer.processDue()
    // No webhook receives them, yet they are stored and listed, each to its owner.
    const mine = await whisperer.deliveries.operationalEvents({ owner: 'acme' })
    expect(mine.map((e) => `${e.type} ${e.webhookId}`).sort()).toEqual([
      `whisperer.delivery.exhausted ${acme.id}`,
      `whisperer.webhook.disabled ${acme.id}`,
    ])
    expect(mine).toHaveLength(2)
    expect(await whisperer.deliveries.operationalEvents({ owner: 'admin', admin: true })).toHaveLength(4)
  })
})

async function until(condition: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
