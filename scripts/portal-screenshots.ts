/**
 * Screenshots of the subscriber portal inside an application, light and dark, written to
 * docs/portal/ (`npm run portal:screenshots`). An in-memory Whisperer with a few webhooks and a
 * day of deliveries is mounted in a small node:http application, themed with its brand; the
 * application's page frames a portal session's one-time link. Any error in the page fails it.
 */
import { mkdir } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import type { Frame, Page } from 'playwright-core'
import { toNodeHandler } from '../src/api/adapters/node.ts'
import { createWhisperer } from '../src/whisperer.ts'
import { launchBrowser } from '../test/support/browser.ts'
import { startReceiver } from '../test/support/receiver.ts'

const directory = fileURLToPath(new URL('../docs/portal/', import.meta.url))
const minute = 60_000
const wait = { timeout: 10_000 }

/** The application's own page around the portal: its header, and the frame. */
function applicationPage(link: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Acme · Webhooks</title>
<meta name="color-scheme" content="light dark">
<style>
  body { margin: 0; font-family: system-ui, sans-serif; background: Canvas; color: CanvasText; }
  header { padding: 0.75rem 1.5rem; background: #6b2fbf; color: #fff; font-weight: 700; }
  main { padding: 1rem 1.5rem; }
  iframe { width: 100%; height: 900px; border: 1px solid #8884; border-radius: 8px; }
</style></head>
<body><header>Acme · Settings</header><main><h1>Webhooks</h1>
<iframe title="Webhooks" src="${link}"></iframe></main></body></html>`
}

async function main(): Promise<void> {
  let offset = 0
  const now = () => new Date(Date.now() + offset)
  let count = 0
  const receiver = await startReceiver(() => {
    count += 1
    return count % 5 === 0 ? { status: 503, body: 'busy, try later' } : { status: 200, body: 'ok' }
  })
  const whisperer = await createWhisperer({
    database: 'memory://',
    allowedTargets: ['127.0.0.1'],
    clock: now,
    logger: { debug() {}, info() {}, warn() {}, error() {} },
  })
  whisperer.eventTypes.register({ type: 'invoice-paid', description: 'An invoice was paid in full.' })
  whisperer.eventTypes.register({ type: 'subscription-renewed', description: 'A subscription renewed.' })
  const api = whisperer.api({ authenticate: () => null })
  const dashboard = whisperer.dashboard({
    frameAncestors: ["'self'"],
    theme: { brandName: 'Acme webhooks', accentColor: '#6b2fbf', accentColorDark: '#c4a5f5' },
  })
  const server = createServer(
    toNodeHandler(async (request) => {
      const { pathname, searchParams } = new URL(request.url)
      if (pathname.startsWith('/whisperer/dashboard')) return dashboard(request)
      if (pathname.startsWith('/whisperer/')) return api(request)
      const { url } = await whisperer.portal.createSession({
        owner: 'acme-customer-42',
        readOnly: searchParams.get('read_only') === '1',
      })
      return new Response(applicationPage(url), { headers: { 'content-type': 'text/html; charset=utf-8' } })
    }),
  )
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const browser = await launchBrowser()
  try {
    const owner = 'acme-customer-42'
    await whisperer.webhooks.create(owner, {
      eventType: 'invoice-paid',
      targetUrl: `${receiver.url}/billing`,
    })
    await whisperer.webhooks.create(owner, {
      eventType: 'subscription-renewed',
      targetUrl: `${receiver.url}/crm`,
      retryCountdownConfig: { choice: 'fixed', kwargs: { seconds: 60 } },
    })
    const start = Date.now()
    for (let at = -24 * 60; at <= 0; at += at < -60 ? 30 : 5) {
      offset = at * minute - (Date.now() - start)
      await whisperer.deliverEvent({ invoice: 1000 - at, amount: 120 }, 'invoice-paid')
      if (at % 60 === 0) await whisperer.deliverEvent({ plan: 'pro' }, 'subscription-renewed')
      await whisperer.processDue()
    }
    offset = 0
    await whisperer.processDue()

    await mkdir(directory, { recursive: true })
    for (const scheme of ['light', 'dark'] as const) {
      const page = await browser.newPage({ viewport: { width: 1280, height: 1000 }, colorScheme: scheme })
      const problems: string[] = []
      page.on('console', (message) => {
        if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text())
      })
      page.on('pageerror', (error) => problems.push(error.message))
      const shot = async (name: string) => {
        await page.screenshot({ path: `${directory}${name}-${scheme}.png` })
        console.log(`wrote docs/portal/${name}-${scheme}.png`)
      }
      const portal = async (target: Page, query = ''): Promise<Frame> => {
        await target.goto(`${origin}/account${query}`)
        const frame = (await (await target.waitForSelector('iframe', wait)).contentFrame())!
        await frame.getByRole('heading', { name: 'Overview', level: 1 }).waitFor(wait)
        await frame.locator('svg.chart').first().waitFor(wait)
        return frame
      }
      const frame = await portal(page)
      await shot('overview')
      await frame.getByRole('link', { name: 'Webhooks', exact: true }).click()
      await frame.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor(wait)
      await shot('webhooks')
      await frame.getByRole('link', { name: 'Deliveries', exact: true }).click()
      await frame.getByRole('heading', { name: 'Deliveries', level: 1 }).waitFor(wait)
      await shot('deliveries')
      const readOnly = await portal(page, '?read_only=1')
      await readOnly.getByRole('link', { name: 'Webhooks', exact: true }).click()
      await readOnly.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor(wait)
      await shot('read-only')
      await readOnly.getByRole('link', { name: '#2 subscription-renewed' }).click()
      await readOnly.getByRole('heading', { name: 'Webhook #2', level: 1 }).waitFor(wait)
      await readOnly.getByText('attempts at most').first().waitFor(wait)
      await shot('read-only-webhook')
      // A link opened an hour and a minute after it was made.
      const { url } = await whisperer.portal.createSession({ owner })
      offset = 61 * minute
      await page.goto(`${origin}${url}`)
      await page.getByText('This link has expired.').waitFor(wait)
      offset = 0
      await shot('expired')
      await page.close()
      // The expired link's 401 is the point of the last picture.
      const unexpected = problems.filter((problem) => !/status of 401/.test(problem))
      if (unexpected.length > 0) throw new Error(`The page reported:\n${unexpected.join('\n')}`)
    }
  } finally {
    await browser.close()
    await new Promise((resolve) => server.close(resolve))
    await whisperer.close()
    await receiver.close()
  }
}

await main()
