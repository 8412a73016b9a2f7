/**
 * `npm start`: Whisperer end to end on the embedded default. PGlite in ./.whisperer, a receiver on
 * a local port that refuses the first try of some events, a webhook, a few events, and a summary
 * of every delivery and its attempts.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createWhisperer, verifySignature } from '../src/index.ts'

const secret = 'demo-secret'
let requests = 0

// The subscriber's endpoint: verifies both signatures, and answers 503 to every other first try.
const seen = new Set<string>()
const receiver = createServer((req, res) => {
  let body = ''
  req.on('data', (chunk) => {
    body += chunk
  })
  req.on('end', () => {
    requests += 1
    const verified = verifySignature({ secret, body, headers: req.headers })
    const id = String(req.headers['webhook-id'])
    const refuse = !seen.has(id) && JSON.parse(body).data.id % 2 === 0
    seen.add(id)
    console.log(
      `  receiver: ${req.headers['x-whisperer-event']} ${id.slice(0, 8)}… signature ${verified.ok ? 'valid' : 'INVALID'} → ${refuse ? 503 : 200}`,
    )
    res.writeHead(refuse ? 503 : 200).end(refuse ? 'busy, try again' : 'thanks')
  })
})
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
const targetUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/packages`

const whisperer = await createWhisperer({
  database: process.env.DATABASE_URL ?? './.whisperer',
  allowedTargets: ['127.0.0.1'],
  logger: { debug() {}, info() {}, warn() {}, error: (object, message) => console.error(message, object) },
})
const database = whisperer.database.kind === 'pglite' ? 'embedded PGlite (./.whisperer)' : 'PostgreSQL'
console.log(`Whisperer demo on ${database}\n`)

whisperer.eventTypes.register({
  type: 'package-created',
  description: 'A package was created',
  serialize: (pkg: { id: number; name: string; version: string }) => ({
    id: pkg.id,
    name: pkg.name,
    version: pkg.version,
  }),
})
const webhook = await whisperer.webhooks.create('demo', {
  eventType: 'package-created',
  targetUrl,
  secretKey: secret,
  retryCountdownConfig: { choice: 'fixed', kwargs: { seconds: 1 } },
})
console.log(`webhook ${webhook.id}: package-created → ${targetUrl}, retried every 1 s\n`)

await whisperer.start()
const packages = [
  { id: 1, name: 'left-pad', version: '1.3.0' },
  { id: 2, name: 'right-pad', version: '0.1.0' },
  { id: 3, name: 'is-even', version: '1.0.0' },
  { id: 4, name: 'is-odd', version: '3.0.1' },
]
const uuids: string[] = []
for (const pkg of packages) {
  const { deliveries } = await whisperer.deliverEvent(pkg, 'package-created')
  uuids.push(...deliveries.map((d) => d.uuid))
}
console.log(`published ${packages.length} events; the worker delivers them:`)

// Wait until every delivery is final (bounded: the retries are due after 1 s).
const deadline = Date.now() + 15_000
for (;;) {
  const statuses = await Promise.all(
    uuids.map(async (uuid) => (await whisperer.deliveries.get('demo', uuid)).status),
  )
  if (statuses.every((status) => status === 'delivered' || status === 'failed')) break
  if (Date.now() > deadline) throw new Error('the demo deliveries did not finish in 15 s')
  await new Promise((resolve) => setTimeout(resolve, 100))
}

console.log('\ndeliveries and their attempts:')
for (const uuid of uuids) {
  const delivery = await whisperer.deliveries.get('demo', uuid)
  const attempts = await whisperer.deliveries.attempts('demo', uuid)
  const data = JSON.parse(delivery.body).data as { name: string }
  console.log(
    `  ${uuid}  ${data.name.padEnd(9)}  ${delivery.status}  after ${delivery.retryCount} attempt(s)`,
  )
  for (const attempt of attempts) {
    console.log(
      `    #${attempt.attempt}  ${attempt.createdAt.toISOString()}  HTTP ${attempt.status}  ${attempt.durationMs} ms  "${attempt.responseBody}"`,
    )
  }
}
console.log(`\nthe receiver saw ${requests} requests for ${uuids.length} deliveries.`)

await whisperer.webhooks.delete('demo', webhook.id)
await whisperer.close()
receiver.close()
