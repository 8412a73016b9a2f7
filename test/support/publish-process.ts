// Publishes events from a process of its own, as a library user's application would, then sends
// what is due: `node publish-process.ts <database> <schema> <event type> <JSON array of data>`.
// Prints, as JSON, the deliveries of each event (or its error code) and how many were sent.
import { createWhisperer } from '../../src/whisperer.ts'

const [database, schema, type, data] = process.argv.slice(2)
const whisperer = await createWhisperer({
  database: database!,
  schema: schema!,
  allowedTargets: ['127.0.0.1'],
  logger: { debug() {}, info() {}, warn() {}, error() {} },
})
try {
  const results: (number | string)[] = []
  for (const instance of JSON.parse(data!) as unknown[]) {
    try {
      results.push((await whisperer.deliverEvent(instance, type!)).deliveries.length)
    } catch (error) {
      results.push((error as { code?: string }).code ?? String(error))
    }
  }
  const sent = await whisperer.processDue()
  process.stdout.write(`${JSON.stringify({ results, sent })}\n`)
} finally {
  await whisperer.close()
}
