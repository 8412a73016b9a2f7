import { readFile } from 'node:fs/promises'
import type { Server } from 'node:http'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import express from 'express'
import type { Browser, Frame, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { expressMiddleware } from '../../src/api/adapters/express.ts'
import type { Whisperer } from '../../src/whisperer.ts'
import { browserAvailable, launchBrowser } from '../support/browser.ts'
import { ManualClock } from '../support/clock.ts'
import { forEachDatabase } from '../support/databases.ts'
import { type Receiver, startReceiver } from '../support/receiver.ts'

/** Every wait in the browser is bounded by this. */
const wait = { timeout: 10_000 }

const runs = browserAvailable()
let browser: Browser
let axeSource: string
beforeAll(async () => {
  if (!runs) return
  browser = await launchBrowser()
  axeSource = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')
})
afterAll(() => browser?.close())

/**
 * An application on Express that shows the subscriber portal to its signed-in user: `GET /account`
 * creates a portal session for the user and frames the one-time link. Its own pages have nothing
 * of Whisperer but the frame.
 */
async function startApplication(whisperer: Whisperer): Promise<{ url: string; server: Server }> {
  const app = express()
  // The application's own users never call the API with tokens: only portal sessions do.
  const api = whisperer.api({ authenticate: () => null, rateLimit: false })
  const dashboard = whisperer.dashboard({
    frameAncestors: ["'self'"],
    theme: { brandName: 'Acme webhooks', accentColor: '#1f5f99' },
  })
  app.use(expressMiddleware(dashboard, { prefix: '/whisperer/dashboard' }))
  app.use(expressMiddleware(api))
  app.get('/account', async (req, res) => {
    const { url } = await whisperer.portal.createSession({
      owner: String(req.query.user ?? 'alice'),
      readOnly: req.query.read_only === '1',
    })
    res
      .type('html')
      .send(
        `<!doctype html><html lang="en"><head><title>Acme: your account</title></head><body>` +
          `<h1>Your account</h1><iframe title="Webhooks" src="${url}" width="1200" height="900"></iframe></body></html>`,
      )
  })
  const server = await new Promise<Server>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening))
  })
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server }
}

/** The portal's frame, once its page has loaded. */
async function portalFrame(page: Page): Promise<Frame> {
  const element = await page.waitForSelector('iframe[title="Webhooks"]', wait)
  const frame = (await element.contentFrame())!
  await frame.waitForLoadState('load')
  return frame
}

/** axe-core's WCAG 2 A and AA violations in a frame (labels, contrast, names, ...). */
async function accessibilityViolations(frame: Frame): Promise<string[]> {
  // Evaluated by the browser's debugger, not as an inline script: the portal's CSP stays strict.
  await frame.evaluate(axeSource)
  const violations = await frame.evaluate(`
    axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa'] } }).then((result) =>
      result.violations.map((v) => v.id + ': ' + v.nodes.map((node) => node.target.join(' ')).join(', ')),
    )`)
  return violations as string[]
}

/** Goes to a page of the portal as typing its address would, without reloading it. */
async function go(frame: Frame, hash: string): Promise<void> {
  await frame.evaluate(`window.location.hash = ${JSON.stringify(hash)}`)
}

/** The enabled controls of the page's content, each as its tag and its text or label. */
async function enabledControls(frame: Frame): Promise<string[]> {
  return frame.evaluate(`
    [...document.querySelectorAll('main button, main a.button, main input, main select, main textarea')]
      .filter((element) => !element.disabled && !element.closest('fieldset[disabled]'))
      .map((element) => element.tagName + ' ' + (element.textContent.trim() || element.getAttribute('aria-label') || ''))`)
}

forEachDatabase((db) => {
  describe.runIf(runs)('subscriber portal', () => {
    let receiver: Receiver
    let whisperer: Whisperer
    let application: { url: string; server: Server }
    let page: Page
    /** Errors in the page (other than the API's expected answers) and uncaught ones. */
    let problems: string[]

    async function open(whispererOptions: Parameters<typeof db.whisperer>[0] = {}) {
      whisperer = await db.whisperer(whispererOptions)
      whisperer.eventTypes.register({ type: 'order-created' })
      application = await startApplication(whisperer)
      page = await browser.newPage({ viewport: { width: 1280, height: 1000 } })
      page.setDefaultTimeout(wait.timeout)
      problems = []
      page.on('pageerror', (error) => problems.push(error.message))
      page.on('console', (message) => {
        // 401, 404 and 409 are answers the portal shows (an expired link, another's id, a retry to force).
        if (message.type() === 'error' && !/status of (401|404|409)/.test(message.text()))
          problems.push(message.text())
      })
    }

    afterEach(async () => {
      await page?.close()
      await new Promise((resolve) => application?.server.close(resolve))
      await receiver?.close()
    })

    test('in a frame of the application: create a webhook, see its delivery, redeliver it; another owner’s is not found', async () => {
      // Alice's target fails the first event and takes every later request; bob's takes all.
      let failed = false
      receiver = await startReceiver((request) => {
        if (
          request.path.endsWith('/alice') &&
          request.headers['x-whisperer-event'] === 'order-created' &&
          !failed
        ) {
          failed = true
          return { status: 500, body: 'down for a moment' }
        }
        return { status: 200, body: 'thanks' }
      })
      await open()
      await whisperer.start()
      const bobs = await whisperer.webhooks.create('bob', {
        eventType: 'order-created',
        targetUrl: `${receiver.url}/bob`,
      })

      const response = await page.goto(`${application.url}/account`)
      expect(response!.status()).toBe(200)
      const link = (await page.locator('iframe').getAttribute('src'))!
      expect(link).toMatch(/^\/whisperer\/dashboard\/#session=whpl_/)
      const frame = await portalFrame(page)
      await frame.getByRole('heading', { name: 'Overview', level: 1 }).waitFor(wait)
      // The link left the address as soon as it was read, and the application's theme shows.
      expect(frame.url()).not.toContain('session=')
      expect(frame.url()).toMatch(/\/whisperer\/dashboard\/#\/$/)
      await expect(frame.locator('.brand').textContent()).resolves.toBe('Acme webhooks')
      await frame.getByText('Account alice').waitFor(wait)
      await expect(frame.getByRole('button', { name: 'Sign out' }).count()).resolves.toBe(0)
      await expect(frame.getByRole('link', { name: /token/i }).count()).resolves.toBe(0)

      // The listener steps: the keyboard reaches each in order, from the event type to the target.
      await frame.getByRole('link', { name: 'Webhooks', exact: true }).click()
      await frame.getByRole('link', { name: 'New webhook' }).click()
      await frame.getByLabel('Event type', { exact: true }).focus()
      const ids = {
        countdown: await frame.getByLabel('Countdown').getAttribute('id'),
        target: await frame.getByLabel('Target URL').getAttribute('id'),
      }
      const visited: string[] = []
      for (let i = 0; i < 80 && !visited.includes(ids.target!); i++) {
        await page.keyboard.press('Tab')
        visited.push(String(await frame.evaluate('document.activeElement.id')))
      }
      expect(visited).toContain(ids.countdown)
      expect(visited.indexOf(ids.countdown!)).toBeLessThan(visited.indexOf(ids.target!))
      await frame.getByLabel('Event type', { exact: true }).selectOption('order-created')
      await frame.getByLabel('Countdown').selectOption('fixed')
      await frame.getByLabel('seconds').fill('3600')
      await frame.getByLabel('Target URL').fill(`${receiver.url}/alice`)
      expect(await accessibilityViolations(frame)).toEqual([])
      await frame.getByRole('button', { name: 'Create webhook' }).press('Enter')
      await frame.getByText(/^Webhook #\d+ created/).waitFor(wait)
      const [mine] = await whisperer.webhooks.list('alice')
      expect(mine).toMatchObject({ owner: 'alice', targetUrl: `${receiver.url}/alice` })

      // The application publishes; the worker's first attempt fails and is rescheduled an hour on.
      await whisperer.deliverEvent({ id: 1 }, 'order-created')
      let first = null
      for (let i = 0; i < 100 && first?.retryCount !== 1; i++) {
        ;[first] = await whisperer.deliveries.list('alice')
        if (first?.retryCount !== 1) await new Promise((resolve) => setTimeout(resolve, 100))
      }
      expect(first).toMatchObject({ status: 'pending', retryCount: 1 })

      await frame.getByRole('link', { name: 'Deliveries', exact: true }).click()
      const rows = frame.getByRole('table', { name: 'Deliveries, newest first' }).locator('tbody tr')
      await rows.first().waitFor(wait)
      await expect(rows.count()).resolves.toBe(1)
      await expect(rows.first().textContent()).resolves.toMatch(/Pending.*order-created.*HTTP 500/)
      await rows.first().getByRole('link').click()
      await frame.getByRole('heading', { name: 'Attempts' }).waitFor(wait)
      expect(await accessibilityViolations(frame)).toEqual([])
      await frame.getByRole('button', { name: 'Redeliver now', exact: true }).click()
      await frame.getByRole('button', { name: 'Redeliver now anyway' }).click()
      await frame.getByText(/^Delivered: HTTP 200/).waitFor(wait)
      await expect(frame.locator('details.attempt').count()).resolves.toBe(2)
      expect((await whisperer.deliveries.get('alice', first!.uuid)).status).toBe('delivered')

      // Bob's delivery, its uuid typed into the address: not found, as the API answers.
      const [theirs] = await whisperer.deliveries.list('bob')
      expect(theirs!.webhookId).toBe(bobs.id)
      await go(frame, `#/deliveries/${theirs!.uuid}`)
      await frame.getByRole('heading', { name: 'Not found', level: 1 }).waitFor(wait)
      await expect(frame.getByRole('alert').textContent()).resolves.toMatch(/does not exist/)
      await go(frame, `#/webhooks/${bobs.id}`)
      await frame.getByRole('heading', { name: 'Not found', level: 1 }).waitFor(wait)

      // The session was in memory only: a reload of the frame ends it, with no sign-in form.
      await frame.evaluate('window.location.reload()')
      const reloaded = await portalFrame(page)
      await reloaded.getByRole('heading', { name: 'Session ended', level: 1 }).waitFor(wait)
      await expect(reloaded.getByLabel('API token').count()).resolves.toBe(0)
      // The link itself, opened again (copied from the history, say), was used already.
      await page.goto(`${application.url}${link}`)
      await page.getByRole('heading', { name: 'Link expired', level: 1 }).waitFor(wait)
      await page.getByText('This link was already used.').waitFor(wait)
      expect(problems).toEqual([])
    }, 120_000)

    test('an expired link says so; a read-only session shows everything and no write control', async () => {
      receiver = await startReceiver(() => ({ status: 500, body: 'down' }))
      const clock = new ManualClock(Date.now())
      await open({ clock: clock.now })
      await whisperer.webhooks.create('carol', {
        eventType: 'order-created',
        targetUrl: `${receiver.url}/carol`,
      })
      await whisperer.deliverEvent({ id: 7 }, 'order-created')
      await whisperer.processDue()
      const [delivery] = await whisperer.deliveries.list('carol')
      const [webhook] = await whisperer.webhooks.list('carol')

      // An hour and a second after its creation, the link has expired.
      const { url } = await whisperer.portal.createSession({ owner: 'carol', expiresInSeconds: 3600 })
      clock.advance(3_601_000)
      await page.goto(`${application.url}${url}`)
      await page.getByRole('heading', { name: 'Link expired', level: 1 }).waitFor(wait)
      await page.getByText('This link has expired.').waitFor(wait)
      expect(page.url()).not.toContain('session=')
      expect(await accessibilityViolations(page.mainFrame())).toEqual([])

      // A read-only session, in the application's frame.
      await page.goto(`${application.url}/account?user=carol&read_only=1`)
      const frame = await portalFrame(page)
      await frame.getByRole('heading', { name: 'Overview', level: 1 }).waitFor(wait)
      await frame.getByText('read-only').first().waitFor(wait)
      const writes =
        /^(New webhook|Create|Save|Pause|Resume|Delete|Redeliver|Replay|Rotate|Stop signing|Send a test ping|Sign)/
      const pages = [
        ['#/webhooks', 'Webhooks'],
        [`#/webhooks/${webhook!.id}`, `Webhook #${webhook!.id}`],
        ['#/webhooks/new', 'New webhook'],
        ['#/deliveries', 'Deliveries'],
        [`#/deliveries/${delivery!.uuid}`, `Delivery #${delivery!.id}`],
      ] as const
      for (const [hash, heading] of pages) {
        await go(frame, hash)
        await frame.getByRole('heading', { name: heading, level: 1 }).waitFor(wait)
        const controls = await enabledControls(frame)
        const named = controls.map((control) => control.replace(/^\w+ /, ''))
        expect(
          named.filter((name) => writes.test(name)),
          hash,
        ).toEqual([])
        // What stays enabled only reads: the deliveries' filters, a copy button.
        expect(
          controls.filter((control) => !/^(SELECT|INPUT|BUTTON (Filter|Copy))/.test(control)),
          hash,
        ).toEqual([])
      }
      // The webhook's steps are shown, each control disabled.
      await go(frame, `#/webhooks/${webhook!.id}`)
      await frame.getByLabel('Target URL').waitFor(wait)
      await expect(frame.getByLabel('Target URL').isDisabled()).resolves.toBe(true)
      await expect(frame.getByLabel('Target URL').inputValue()).resolves.toBe(`${receiver.url}/carol`)
      // Not even disabled: the steps' buttons (add a condition, ...) are not shown at all.
      await expect(frame.locator('fieldset.read-only').count()).resolves.toBe(1)
      await expect(frame.locator('main button:visible').allTextContents()).resolves.toEqual(
        expect.not.arrayContaining([expect.stringMatching(/Add condition|Remove/)]),
      )
      await expect(frame.locator('fieldset.read-only button:visible').count()).resolves.toBe(0)
      expect(await accessibilityViolations(frame)).toEqual([])
      expect(problems).toEqual([])
    }, 120_000)
  })
})
