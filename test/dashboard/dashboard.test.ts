import type { Browser, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import * as format from '../../dashboard/format.js'
import { verifySignature } from '../../src/core/signature.ts'
import { type RunningServer, startServer } from '../../src/server/server.ts'
import type { Whisperer } from '../../src/whisperer.ts'
import { browserAvailable, launchBrowser } from '../support/browser.ts'
import { forEachDatabase } from '../support/databases.ts'
import { type Receiver, startReceiver } from '../support/receiver.ts'

/** Every wait in the browser is bounded by this. */
const wait = { timeout: 10_000 }

const runs = browserAvailable()
let browser: Browser
beforeAll(async () => {
  if (runs) browser = await launchBrowser()
})
afterAll(() => browser?.close())

/**
 * The dashboard in headless Chromium, against the real service: sign in with a subscriber's token,
 * create a webhook with a condition through the listener flow, and follow its one matching delivery
 * from its first failed attempt to a redelivery.
 */
forEachDatabase((db) => {
  describe.runIf(runs)('dashboard', () => {
    let receiver: Receiver
    let whisperer: Whisperer
    let server: RunningServer
    let admin: string
    let page: Page
    /** What the page reported: errors in its console (other than the API's expected answers) and uncaught ones. */
    let problems: string[]

    beforeEach(async () => {
      // The ping is answered; the first event fails, and every later request succeeds.
      let events = 0
      receiver = await startReceiver((request) => {
        if (request.headers['x-whisperer-event'] === 'whisperer.ping') return { status: 200, body: 'pong' }
        events += 1
        return events === 1 ? { status: 500, body: 'down for a moment' } : { status: 200, body: 'thanks' }
      })
      whisperer = await db.whisperer()
      server = await startServer({
        whisperer,
        port: 0,
        host: '127.0.0.1',
        config: {
          eventTypes: [
            {
              type: 'order-created',
              description: 'A customer placed an order',
              jsonSchema: {
                type: 'object',
                required: ['id', 'name'],
                properties: { id: { type: 'integer' }, name: { type: 'string' } },
              },
            },
          ],
        },
        announce: (text) => {
          admin = /wh_\w+_[\w-]+/.exec(text)![0]
        },
      })
      page = await browser.newPage()
      page.setDefaultTimeout(wait.timeout)
      problems = []
      page.on('pageerror', (error) => problems.push(error.message))
      page.on('console', (message) => {
        // A 409 is how the API says a delivery is still in its schedule (the page offers to force);
        // a 400 is the webhook form's refused field, shown beside it.
        if (message.type() === 'error' && !/status of (400|409)/.test(message.text()))
          problems.push(message.text())
      })
    })
    afterEach(async () => {
      await page?.close()
      await server?.close()
      await receiver?.close()
    })

    // biome-ignore lint/suspicious/noExplicitAny: JSON bodies are checked by expect, field by field
    async function api(method: string, path: string, token: string, body?: unknown): Promise<any> {
      const response = await fetch(`${server.url}/whisperer/${path}`, {
        method,
        headers: { authorization: `Token ${token}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
      expect(response.status, `${method} ${path}`).toBeLessThan(300)
      return response.json()
    }

    test('sign in, create a webhook with a condition, follow its one delivery and redeliver it', async () => {
      const { token } = await api('POST', 'tokens/', admin, { owner: 'acme', scopes: ['subscriber'] })

      // 1. Sign in with the subscriber's token.
      const index = await page.goto(`${server.url}/whisperer/dashboard/`)
      expect(index!.headers()['content-security-policy']).toContain("script-src 'self'")
      await page.getByLabel('API token').fill(token)
      await page.getByRole('button', { name: 'Sign in' }).click()
      await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor(wait)
      await expect(page.getByText('Signed in as acme').isVisible()).resolves.toBe(true)

      // 2. The listener flow: an event type and its fields, a condition, a countdown and its
      // timeline, the target; then a test ping.
      await page.getByRole('link', { name: 'Webhooks', exact: true }).click()
      await page.getByRole('link', { name: 'New webhook' }).click()
      await page.getByLabel('Event type', { exact: true }).selectOption('order-created')
      await page.getByRole('table', { name: 'The fields of order-created' }).getByText('name').waitFor(wait)
      await page.getByRole('button', { name: 'Add condition' }).click()
      const condition = page.getByRole('group', { name: 'Condition 1' })
      await condition.getByLabel('Field', { exact: true }).fill('name')
      await condition.getByLabel('Condition', { exact: true }).selectOption('startswith')
      await condition.getByLabel('Value', { exact: true }).fill('J')
      await page.getByLabel('Countdown').selectOption('fixed')
      await page.getByLabel('seconds').fill('3600')
      await page.getByText('19 attempts at most, the last 18 h after the first').waitFor(wait)
      await expect(page.getByRole('img', { name: /^Retry timeline/ }).count()).resolves.toBe(1)
      await page.getByLabel('Target URL').fill(receiver.url)
      await page.getByLabel('Send a W3C traceparent header with each request').check()
      // More event types: a pattern that matches no type is refused beside the field.
      await page.getByLabel('More event types (optional)').fill('nope.*')
      // A rate limit and a timeout: bad ones are named beside their fields too.
      await page.getByLabel('Rate limit (optional)').fill('fast')
      await page.getByLabel('Timeout (optional)').fill('90')
      await page.getByRole('button', { name: 'Create webhook' }).click()
      await page.getByText('"nope.*" matches no registered event type.').waitFor(wait)
      await expect(page.locator('#main .error:not([hidden])').count()).resolves.toBe(3)
      await page.getByLabel('More event types (optional)').fill('')
      await page.getByLabel('Rate limit (optional)').fill('50')
      await page.getByLabel('Timeout (optional)').fill('10')
      await page.getByRole('button', { name: 'Create webhook' }).click()
      await page.getByText(/^Webhook #\d+ created/).waitFor(wait)
      // The generated secret is shown this once; the ping is signed with it.
      const secret = await page.getByLabel('New secret', { exact: true }).inputValue()
      expect(secret).toMatch(/^whsec_/)
      const [webhook] = (await api('GET', 'hooks/', token)).results
      expect(webhook).toMatchObject({
        owner: 'acme',
        event_type: 'order-created',
        filters: { name: { startswith: 'J' } },
        retry_countdown_config: { choice: 'fixed', kwargs: { seconds: 3600 } },
        send_traceparent: true,
        rate_limit: 50,
        timeout: 10,
      })
      await page.getByRole('button', { name: 'Send a test ping' }).click()
      await page.getByText('Delivered: HTTP 200').waitFor(wait)
      const ping = receiver.requests.find((r) => r.headers['x-whisperer-event'] === 'whisperer.ping')!
      expect(verifySignature({ secret, body: ping.body, headers: ping.headers })).toMatchObject({ ok: true })

      // 3. Two events, one matching the condition.
      const matching = await api('POST', 'events/', admin, {
        event_type: 'order-created',
        data: { id: 1, name: 'Jane' },
      })
      const other = await api('POST', 'events/', admin, {
        event_type: 'order-created',
        data: { id: 2, name: 'Bob' },
      })
      expect([matching.deliveries.length, other.deliveries.length]).toEqual([1, 0])
      // The worker attempts it once (the receiver fails it), and schedules a retry an hour later.
      await receiver.waitFor(2)
      for (let i = 0; i < 50; i++) {
        const [delivery] = (await api('GET', 'hook_events/', token)).results
        if (delivery.retry_count === 1 && delivery.status === 'pending') break
        await new Promise((resolve) => setTimeout(resolve, 100))
      }

      // 4. Exactly one delivery on the deliveries page.
      await page.getByRole('link', { name: 'Deliveries', exact: true }).click()
      const rows = page.getByRole('table', { name: 'Deliveries, newest first' }).locator('tbody tr')
      await rows.first().waitFor(wait)
      await expect(rows.count()).resolves.toBe(1)
      await expect(rows.first().textContent()).resolves.toMatch(/Pending.*order-created.*HTTP 500/)

      // 5. Its attempts: the first one, failed, with its request and response.
      await rows.first().getByRole('link').click()
      await page.getByRole('heading', { name: 'Attempts' }).waitFor(wait)
      const first = page.locator('details.attempt').first()
      await expect(first.locator('summary').textContent()).resolves.toMatch(/Attempt 1 · HTTP 500/)
      await expect(first.getByRole('table', { name: 'Request headers' }).textContent()).resolves.toContain(
        'x-whisperer-event',
      )
      await expect(first.locator('pre').textContent()).resolves.toBe('down for a moment')

      // 6. Redeliver: still in its schedule, so the page asks, then forces; the new attempt shows.
      await page.getByRole('button', { name: 'Redeliver now', exact: true }).click()
      await page.getByRole('button', { name: 'Redeliver now anyway' }).click()
      await page.getByText(/^Delivered: HTTP 200/).waitFor(wait)
      await expect(page.locator('details.attempt').count()).resolves.toBe(2)
      await expect(page.locator('details.attempt').nth(1).locator('summary').textContent()).resolves.toMatch(
        /Attempt 2 · HTTP 200/,
      )
      await expect(page.locator('h1 .badge').textContent()).resolves.toBe('Delivered')
      expect(receiver.requests).toHaveLength(3)

      // 7. Redeliver the delivered delivery: a resend, the same request as attempt 3.
      await page.getByRole('button', { name: 'Redeliver now', exact: true }).click()
      await page.getByText(/^Delivered: HTTP 200.*Attempt 3 is below/).waitFor(wait)
      await expect(page.locator('details.attempt').count()).resolves.toBe(3)
      await expect(page.locator('details.attempt').nth(2).locator('summary').textContent()).resolves.toMatch(
        /Attempt 3 · HTTP 200/,
      )
      expect(receiver.requests).toHaveLength(4)
      const [, , retried, resent] = receiver.requests
      expect(resent!.headers['webhook-id']).toBe(retried!.headers['webhook-id'])
      expect(resent!.body).toBe(retried!.body)

      // 7b. The event's page: its routing, and one webhook asked about.
      await page.getByRole('link', { name: matching.event_uuid }).click()
      await page.getByRole('heading', { name: 'Routing', exact: true }).waitFor(wait)
      await expect(
        page.getByRole('table', { name: 'Routing of this event' }).first().textContent(),
      ).resolves.toMatch(/Yes \(delivered\)/)
      await page.getByLabel('Webhook id').fill('999999')
      await page.getByRole('button', { name: 'Explain' }).click()
      await page.getByText('You have no webhook #999999.').waitFor(wait)
      await page.getByLabel('Webhook id').fill(String(webhook.id))
      await page.getByRole('button', { name: 'Explain' }).click()
      await page.getByRole('table', { name: 'Routing of this event' }).nth(1).waitFor(wait)
      await page.goBack()
      await page.getByRole('heading', { name: 'Attempts' }).waitFor(wait)

      // 8. The overview lists what happened to the webhook: failing, then recovered.
      await page.getByRole('link', { name: 'Overview', exact: true }).click()
      const events = page
        .getByRole('table', { name: 'Operational events, the newest first' })
        .locator('tbody tr')
      await events.nth(1).waitFor(wait)
      await expect(events.allTextContents()).resolves.toEqual([
        expect.stringMatching(/Recovered.*order-created.*HTTP 200/),
        expect.stringMatching(/Failing.*order-created.*HTTP 500/),
      ])
      expect(problems).toEqual([])
    })

    test('rotate a secret: the new one shown once with the old key’s expiry, then masked', async () => {
      const { token } = await api('POST', 'tokens/', admin, { owner: 'acme', scopes: ['subscriber'] })
      const created = await api('POST', 'hooks/', token, {
        event_type: 'order-created',
        target_url: receiver.url,
      })
      expect(created.secret_key).toMatch(/^whsec_/)

      await page.goto(`${server.url}/whisperer/dashboard/#/webhooks/${created.id}`)
      await page.getByLabel('API token').fill(token)
      await page.getByRole('button', { name: 'Sign in' }).click()
      await page.getByRole('heading', { name: `Webhook #${created.id}`, level: 1 }).waitFor(wait)
      const signing = page.getByRole('region', { name: '5. Signing' })
      await expect(signing.locator('dl').textContent()).resolves.toContain('SignedYes, with HMAC-SHA256')
      await expect(page.content()).resolves.not.toContain(created.secret_key)

      // A grace period of an hour, chosen and rotated from the keyboard.
      await page.getByLabel('The current keys keep signing for').selectOption('3600')
      await page.getByRole('button', { name: 'Rotate secret' }).press('Enter')
      await page.getByText('Secret rotated.').waitFor(wait)
      const secret = await page.getByLabel('New secret', { exact: true }).inputValue()
      expect(secret).toMatch(/^whsec_/)
      expect(secret).not.toBe(created.secret_key)
      await page.getByText('It is not shown again:').waitFor(wait)

      const rotated = await api('GET', `hooks/${created.id}/`, token)
      expect(rotated).toMatchObject({ secret_key: '********', signed: true, signature_scheme: 'hmac-sha256' })
      expect(rotated.previous_keys).toHaveLength(1)
      const expiresAt = rotated.previous_keys[0].expires_at
      expect(Date.parse(expiresAt) - Date.parse(rotated.secret_rotated_at)).toBe(3_600_000)
      const until = format.dateTime(expiresAt)
      await page.getByText(`The previous HMAC-SHA256 key keeps signing until ${until}.`).waitFor(wait)
      const previous = page.getByRole('table', {
        name: 'Previous keys, still signing beside the current one',
      })
      await expect(previous.locator('tbody tr').allTextContents()).resolves.toEqual([`HMAC-SHA256—${until}`])

      // The ping carries both signatures: receivers with the new secret verify.
      await page.getByRole('button', { name: 'Send a test ping' }).click()
      await page.getByText('Delivered: HTTP 200').waitFor(wait)
      const [ping] = await receiver.waitFor(1)
      expect(ping!.headers['webhook-signature']).toMatch(/^v1,\S+ v1,\S+$/)
      expect(verifySignature({ secret, body: ping!.body, headers: ping!.headers })).toMatchObject({
        ok: true,
      })

      // Once reloaded, the page shows the secret masked, and the previous key still.
      await page.reload()
      await page.getByRole('heading', { name: `Webhook #${created.id}`, level: 1 }).waitFor(wait)
      await previous.waitFor(wait)
      await expect(page.getByText('Secret rotated.').count()).resolves.toBe(0)
      await expect(page.getByLabel('New secret', { exact: true }).count()).resolves.toBe(0)
      await expect(page.content()).resolves.not.toContain(secret)
      await expect(signing.locator('dl').textContent()).resolves.toContain(
        '******** (shown only when it is set)',
      )

      // To Ed25519 with no grace: the public key is shown (and stays), the HMAC keys stop at once.
      await page.getByLabel('The current keys keep signing for').selectOption('0')
      await page.getByLabel('Scheme of the new key').selectOption('ed25519')
      await page.getByRole('button', { name: 'Rotate secret' }).click()
      await page.getByText('No previous key signs any more.').waitFor(wait)
      const publicKey = await page.getByLabel('New public key', { exact: true }).inputValue()
      expect(publicKey).toMatch(/^whpk_/)
      expect(await api('GET', `hooks/${created.id}/`, token)).toMatchObject({
        signature_scheme: 'ed25519',
        public_key: publicKey,
        previous_keys: [],
      })
      await page.reload()
      await expect(page.getByLabel('Public key', { exact: true }).inputValue()).resolves.toBe(publicKey)
      await expect(previous.count()).resolves.toBe(0)
      expect(problems).toEqual([])
    })
  })
})
