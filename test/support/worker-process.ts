/**
 * A worker in a process of its own, as `whisperer worker` runs: for crash and multi-worker tests.
 * Reads DATABASE_URL, WHISPERER_SCHEMA and the options below from the environment, prints "ready"
 * once claiming, and shuts down cleanly on SIGTERM.
 */
import { createWhisperer } from '../../src/whisperer.ts'

const whisperer = await createWhisperer({
  allowedTargets: ['127.0.0.1'],
  concurrency: Number(process.env.WORKER_CONCURRENCY ?? 16),
  leaseSeconds: Number(process.env.WORKER_LEASE_SECONDS ?? 5),
  pollInterval: 100,
  logger: { debug() {}, info() {}, warn() {}, error: (object, message) => console.error(message, object) },
})
whisperer.events.register({ type: 'load' })
await whisperer.start()
process.stdout.write('ready\n')
process.on('SIGTERM', async () => {
  await whisperer.close()
  process.exit(0)
})
