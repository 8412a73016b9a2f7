/**
 * Screenshots of the dashboard's main pages, written to docs/dashboard/ (`npm run
 * dashboard:screenshots`). It serves an in-memory Whisperer with an hour and a day of deliveries to
 * local receivers (some slow, some failing), signs in as a subscriber in headless Chromium, and
 * photographs the overview, the webhooks, the creation of one, a delivery's attempts and the event
 * types. Any error in the page's console fails it.
 */
import { mkdir } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import type { Page } from 'playwright-core'
import { type RunningServer, startServer } from '../src/server/server.ts'
import { createWhisperer } from '../src/whisperer.ts'
import { launchBrowser } from '../test/support/browser.ts'
import { startReceiver } from '../test/support/receiver.ts'

const directory = fileURLToPath(new URL('../docs/dashboard/', import.meta.url))
const minute = 60_000

const eventTypes = [
  {
    type: 'order-created',
    description: 'A customer placed an order.',
    jsonSchema: {
      type: 'object',
      required: ['id', 'customer', 'total'],
      properties: {
        id: { type: 'integer', description: 'The order number' },
        customer: {
          type: 'object',
          description: 'Who ordered',
          properties: { name: { type: 'string' }, email: { type: 'string' } },
        },
        total: { type: 'number', minimum: 0, description: 'In euros' },
        status: { type: 'string', enum: ['paid', 'pending'] },
        created_at: { type: 'string', description: 'When it was placed (ISO 8601)' },
      },
    },
  },
  {
    type: 'package-shipped',
    description: 'A package left the warehouse.',
    jsonSchema: {
      type: 'object',
      required: ['tracking'],
      properties: { tracking: { type: 'string' }, carrier: { type: 'string', enum: ['dhl', 'ups'] } },
    },
  },
  { type: 'invoice-paid', description: 'An invoice was paid in full.' },
]

/** A pseudo-random sequence, so that every run draws the same pictures. */
function seeded(seed: number): () => number {
  let state = seed
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31
    return state / 2 ** 31
  }
}

async function main(): Promise<void> {
  const random = seeded(7)
  let offset = 0
  const now = () => new Date(Date.now() + offset)
  const healthy = await startReceiver(() => ({
    status: 200,
    body: 'ok',
    delayMs: 5 + Math.floor(random() * 60),
  }))
  const flaky = await startReceiver(() =>
    random() < 0.25 ? { status: 503, body: 'busy, try later' } : { status: 202, body: '{"queued":true}' },
  )
  const broken = await startReceiver(() => ({ status: 500, body: 'Internal Server Error' }))
  const whisperer = await createWhisperer({
    database: 'memory://',
    allowedTargets: ['127.0.0.1'],
    clock: now,
    logger: { debug() {}, info() {}, warn() {}, error() {} },
  })
  let admin = ''
  const server: RunningServer = await startServer({
    whisperer,
    port: 0,
    host: '127.0.0.1',
    config: { eventTypes },
    announce: (text) => {
      admin = /wh_\w+_[\w-]+/.exec(text)![0]
    },
  })
  const browser = await launchBrowser()
  try {
    // biome-ignore lint/suspicious/noExplicitAny: the API's JSON, read where the pictures need it
    const api = async (method: string, path: string, token: string, body?: unknown): Promise<any> => {
      const response = await fetch(`${server.url}/whisperer/${path}`, {
        method,
        headers: { authorization: `Token ${token}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
      if (!response.ok && response.status !== 406)
        throw new Error(`${method} ${path}: ${await response.text()}`)
      return response.status === 204 ? null : response.json()
    }
    const acme = (await api('POST', 'tokens/', admin, { owner: 'acme', scopes: ['subscriber'] }))
      .token as string
    const hook = async (body: Record<string, unknown>, owner = 'acme') =>
      (await api('POST', `hooks/?owner=${owner}`, admin, body)).id as number
    await hook({
      event_type: 'order-created',
      target_url: `${healthy.url}/orders`,
      secret_key: 'a-long-random-secret',
      filters: { status: 'paid' },
      retry_countdown_config: { choice: 'fixed', kwargs: { seconds: 60 } },
    })
    await hook({
      event_type: 'order-created',
      target_url: `${flaky.url}/crm`,
      retry_countdown_config: { choice: 'linear', kwargs: { base: 60, limit: 600 } },
      config: { auth: { auth_type: 'bearer', token: 'crm-token' } },
    })
    await hook({ event_type: 'package-shipped', target_url: `${healthy.url}/shipping`, fields: ['tracking'] })
    const failing = await hook({
      event_type: 'invoice-paid',
      target_url: `${broken.url}/billing`,
      retry_countdown_config: { choice: 'fixed', kwargs: { seconds: 30 } },
    })
    const paused = await hook({ event_type: 'package-shipped', target_url: `${healthy.url}/archive` })
    await api('PATCH', `hooks/${paused}/`, admin, { is_active: false })
    await hook({ event_type: 'order-created', target_url: `${healthy.url}/other-shop` }, 'globex')

    // A day of events, busier in the last hour, each step's due deliveries sent as the clock moves.
    let order = 1000
    const publish = async () => {
      const type = random() < 0.6 ? 'order-created' : random() < 0.7 ? 'package-shipped' : 'invoice-paid'
      const data =
        type === 'order-created'
          ? {
              id: order++,
              customer: { name: random() < 0.5 ? 'Jane Doe' : 'John Roe', email: 'jane@example.com' },
              total: Math.round(random() * 20_000) / 100,
              status: random() < 0.7 ? 'paid' : 'pending',
              created_at: now().toISOString(),
            }
          : type === 'package-shipped'
            ? { tracking: `1Z${order++}`, carrier: random() < 0.5 ? 'dhl' : 'ups' }
            : { invoice: order++, amount: 120 }
      await api('POST', 'events/', admin, { event_type: type, data })
    }
    const start = Date.now()
    for (let at = -24 * 60; at <= 0; at += at < -60 ? 15 : 1) {
      offset = at * minute - (Date.now() - start)
      const count = at < -60 ? Math.floor(random() * 6) : Math.floor(random() * 9)
      for (let i = 0; i < count; i++) await publish()
      await whisperer.processDue()
    }
    offset = 0
    await whisperer.processDue()
    console.log(`seeded: ${order - 1000} events`)

    await mkdir(directory, { recursive: true })
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 }, colorScheme: 'light' })
    const problems: string[] = []
    page.on('console', (message) => {
      // The webhook form's 400 is expected: it shows the API's validation errors.
      if (/status of 400/.test(message.text())) return
      if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text())
    })
    page.on('pageerror', (error) => problems.push(error.message))
    const shot = async (name: string, target: Page = page) => {
      await target.screenshot({ path: `${directory}${name}.png`, fullPage: true })
      console.log(`wrote docs/dashboard/${name}.png`)
    }

    await page.goto(`${server.url}/whisperer/dashboard/`)
    await page.getByLabel('API token').fill(acme)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor({ timeout: 10_000 })
    await page.locator('svg.chart').first().waitFor({ timeout: 10_000 })
    await shot('overview')

    await page.getByRole('link', { name: 'Webhooks', exact: true }).click()
    await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor({ timeout: 10_000 })
    await shot('webhooks')

    await page.getByRole('link', { name: 'New webhook' }).click()
    await page.getByLabel('Event type', { exact: true }).selectOption('order-created')
    await page.getByRole('button', { name: 'Add condition' }).click()
    const first = page.getByRole('group', { name: 'Condition 1' })
    await first.getByLabel('Field', { exact: true }).fill('customer.name')
    await first.getByLabel('Condition', { exact: true }).selectOption('startswith')
    await first.getByLabel('Value', { exact: true }).fill('J')
    await page.getByRole('button', { name: 'Add condition' }).click()
    const second = page.getByRole('group', { name: 'Condition 2' })
    await second.getByLabel('Field', { exact: true }).fill('status')
    await second.getByLabel('Condition', { exact: true }).selectOption('like')
    await second.getByLabel('Value', { exact: true }).fill('(a|a)*$')
    await page.getByLabel('Countdown').selectOption('exponential')
    await page.getByLabel('base').fill('2')
    await page.getByLabel('limit', { exact: true }).fill('3600')
    await page.getByLabel('Target URL').fill('https://hooks.example.com/orders')
    await page.getByLabel('Sign requests with').selectOption('own')
    await page.getByLabel('Secret key').fill('a-long-random-secret')
    await page.getByLabel('Authentication', { exact: true }).selectOption('bearer')
    await page.getByLabel('Token', { exact: true }).fill('crm-token')
    await page.getByRole('button', { name: 'Create webhook' }).click()
    // The API refuses the pattern; its error shows beside the condition.
    await page.getByText(/backtrack catastrophically/).waitFor({ timeout: 10_000 })
    await page.getByText(/attempts at most/).waitFor({ timeout: 10_000 })
    await shot('create-webhook')

    const { results } = await api('GET', 'hook_events/?status=delivered&limit=200', acme)
    const retried = (results as { id: number; retry_count: number }[]).find((d) => d.retry_count > 1)
    await page.goto(`${server.url}/whisperer/dashboard/#/deliveries/${retried?.id ?? results[0].id}`)
    await page.getByRole('heading', { name: 'Attempts' }).waitFor({ timeout: 10_000 })
    await page.locator('details.attempt summary').first().click()
    await shot('delivery')

    await page.goto(`${server.url}/whisperer/dashboard/#/deliveries?webhook=${failing}`)
    await page.getByRole('heading', { name: 'Deliveries', level: 1 }).waitFor({ timeout: 10_000 })
    await page.getByRole('button', { name: /^Replay failed deliveries/ }).click()
    await page.getByText(/Send them again\?/).waitFor({ timeout: 10_000 })
    await shot('deliveries')

    await page.goto(`${server.url}/whisperer/dashboard/#/event-types`)
    await page.getByRole('heading', { name: 'Event types', level: 1 }).waitFor({ timeout: 10_000 })
    await shot('event-types')

    if (problems.length > 0) throw new Error(`The page reported:\n${problems.join('\n')}`)
  } finally {
    await browser.close()
    await server.close()
    await Promise.all([healthy.close(), flaky.close(), broken.close()])
  }
}

await main()
