import { createServer, type Server } from 'node:http'
import { expect } from 'vitest'
import type { Whisperer } from '../../src/whisperer.ts'
import { processEnv, startWorker, stop, type WhispererProcess } from '../chaos/processes.ts'
import type { TestDatabase } from '../support/databases.ts'

// Ordered delivery under load (the ordering-load*.test.ts files, each within its time): 200 keys × 20 events from 4 concurrent publishers, to a receiver
// that answers 500 to 30% of requests and lets 3% time out, on two worker processes (PostgreSQL).
// PGlite allows one process: there the publishing process is the one worker, with the receiver,
// and 100 keys keep the file within its time. Then the same with a worker SIGKILLed midway.

const publishers = 4
/** Events per key and publisher: 20 per key in all. */
const perPublisher = 5
const perKey = publishers * perPublisher

/** One request as the receiver saw it: when it started and ended, and what it answered. */
interface Receipt {
  key: string
  sequence: number
  id: string
  publisher: number
  j: number
  start: number
  end: number
  ok: boolean
}

/**
 * A receiver that records each request's start and end: 500 for 30%, and 3% held 1.5 s and
 * dropped (the webhook's timeout is 1 s, its countdown 1 s: the next attempt starts after the drop).
 */
async function startFlakyReceiver(): Promise<{ server: Server; url: string; receipts: Receipt[] }> {
  const receipts: Receipt[] = []
  const server = createServer((req, res) => {
    const start = Date.now()
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const { data } = JSON.parse(Buffer.concat(chunks).toString()) as { data: { p: number; j: number } }
      const receipt: Receipt = {
        key: String(req.headers['x-whisperer-ordering-key']),
        sequence: Number(req.headers['x-whisperer-sequence']),
        id: String(req.headers['webhook-id']),
        publisher: data.p,
        j: data.j,
        start,
        end: 0,
        ok: false,
      }
      const roll = Math.random()
      if (roll < 0.03) {
        setTimeout(() => {
          receipt.end = Date.now()
          receipts.push(receipt)
          req.socket.destroy()
        }, 1500)
        return
      }
      receipt.ok = roll >= 0.33
      receipt.end = Date.now()
      receipts.push(receipt)
      res.writeHead(receipt.ok ? 200 : 500)
      res.end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return { server, url: `http://127.0.0.1:${port}/hook`, receipts }
}

/** 4 publishers, each publishing its events to every key in turn, each publish awaited. */
async function publish(whisperer: Whisperer, keys: number): Promise<void> {
  await Promise.all(
    Array.from({ length: publishers }, async (_, p) => {
      for (let j = 0; j < perPublisher; j += 1) {
        for (let k = 0; k < keys; k += 1) {
          await whisperer.deliverEvent({ p, j }, 'order.changed', { orderingKey: `order:${k}` })
        }
      }
    }),
  )
}

/**
 * Checks every lane: its attempts never overlap; their sequences never go back (so a repeat is
 * only ever of the lane's head); the first successful receipts are sequences 1 to 20 in order;
 * and sequence order keeps each publisher's own publish order.
 */
function checkLanes(receipts: Receipt[], keys: number): { duplicates: Map<string, number> } {
  const lanes = new Map<string, Receipt[]>()
  for (const r of receipts) lanes.set(r.key, [...(lanes.get(r.key) ?? []), r])
  expect(lanes.size).toBe(keys)
  const duplicates = new Map<string, number>()
  for (const [key, lane] of lanes) {
    lane.sort((a, b) => a.start - b.start)
    for (let i = 1; i < lane.length; i += 1) {
      const [before, after] = [lane[i - 1]!, lane[i]!]
      if (after.start < before.end)
        throw new Error(`${key}: ${before.sequence} and ${after.sequence} overlap`)
      if (after.sequence < before.sequence)
        throw new Error(`${key}: ${after.sequence} after ${before.sequence}`)
    }
    const firsts: Receipt[] = []
    const seen = new Set<string>()
    for (const r of lane.filter((x) => x.ok)) {
      if (seen.has(r.id)) duplicates.set(r.id, (duplicates.get(r.id) ?? 0) + 1)
      else firsts.push(r)
      seen.add(r.id)
    }
    expect(firsts.map((r) => r.sequence)).toEqual(Array.from({ length: perKey }, (_, i) => i + 1))
    for (let p = 0; p < publishers; p += 1) {
      const js = firsts.filter((r) => r.publisher === p).map((r) => r.j)
      expect(js).toEqual(Array.from({ length: perPublisher }, (_, j) => j))
    }
  }
  return { duplicates }
}

/** Waits (bounded) until every event has a successful receipt. */
async function settle(receipts: Receipt[], keys: number, limitMs: number): Promise<void> {
  const deadline = Date.now() + limitMs
  for (let i = 0; i < 10_000 && Date.now() < deadline; i += 1) {
    if (new Set(receipts.filter((r) => r.ok).map((r) => r.id)).size >= keys * perKey) return
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}

/** What a load run leaves to close: the worker processes and the receiver. */
export interface LoadRun {
  workers: WhispererProcess[]
  server: Server | null
}

export async function closeRun(run: LoadRun): Promise<void> {
  await Promise.all(run.workers.map((worker) => stop(worker, 'SIGTERM')))
  run.workers = []
  run.server?.closeAllConnections()
  run.server?.close()
  run.server = null
}

async function setup(whisperer: Whisperer, url: string): Promise<void> {
  whisperer.eventTypes.register({ type: 'order.changed' })
  await whisperer.webhooks.create('acme', {
    eventType: 'order.changed',
    targetUrl: url,
    timeout: 1,
    retryCountdownConfig: { choice: 'fixed', kwargs: { seconds: 1 } },
  })
}

/** Every lane delivered in publish order, one attempt at a time, despite failures. */
export async function orderUnderLoad(db: TestDatabase, run: LoadRun): Promise<void> {
  const keys = db.kind === 'postgres' ? 200 : 100
  const receiver = await startFlakyReceiver()
  run.server = receiver.server
  // On PGlite the publishing process is the one worker.
  const whisperer = await db.whisperer({ maxAttempts: 1000, pollInterval: 200 })
  await setup(whisperer, receiver.url)
  if (db.kind === 'postgres') {
    const env = processEnv(whisperer.config.database as string, whisperer.config.schema)
    run.workers = await Promise.all([startWorker(env), startWorker(env)])
  } else {
    await whisperer.start()
  }
  const started = Date.now()
  await publish(whisperer, keys)
  await settle(receiver.receipts, keys, 150_000)
  const failed = receiver.receipts.filter((r) => !r.ok).length
  console.info(
    `${db.kind}: ${receiver.receipts.length} requests (${failed} failed) in ${Date.now() - started} ms`,
  )
  const { duplicates } = checkLanes(receiver.receipts, keys)
  expect(failed).toBeGreaterThan(keys * perKey * 0.2)
  // Without a crash, a success is sent again only when its worker did not see it: the answer came
  // after the webhook's timeout (a busy event loop), and the attempt was recorded as a timeout.
  const lost = await db.sql<{ id: string; lost: number }>(
    `SELECT replace(d.uuid::text, '-', '') AS id,
       count(*) FILTER (WHERE a.error_kind IN ('timeout', 'connect'))::int AS lost
     FROM "${whisperer.config.schema}".deliveries d
     JOIN "${whisperer.config.schema}".attempts a ON a.delivery_id = d.id GROUP BY d.uuid`,
  )
  const lostById = new Map(lost.map((row) => [row.id, Number(row.lost)]))
  for (const [id, again] of duplicates) expect(again).toBeLessThanOrEqual(lostById.get(id) ?? 0)
}

/** The same on PostgreSQL with a worker SIGKILLed midway: order holds, only lane heads are sent twice. */
export async function orderThroughKill(db: TestDatabase, run: LoadRun): Promise<void> {
  const keys = 200
  const receiver = await startFlakyReceiver()
  run.server = receiver.server
  const whisperer = await db.whisperer({ maxAttempts: 1000 })
  await setup(whisperer, receiver.url)
  const env = processEnv(whisperer.config.database as string, whisperer.config.schema)
  run.workers = await Promise.all([startWorker(env), startWorker(env)])
  const publishing = publish(whisperer, keys)
  // Midway: once a quarter of the events were received.
  for (let i = 0; i < 1200 && receiver.receipts.filter((r) => r.ok).length < (keys * perKey) / 4; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  await stop(run.workers[0], 'SIGKILL')
  await publishing
  await settle(receiver.receipts, keys, 150_000)
  // Sequences never go back in a lane: a repeat (a head in flight when its worker died, sent
  // again at its lease expiry) is never after a later delivery of its lane.
  const { duplicates } = checkLanes(receiver.receipts, keys)
  const again = [...duplicates.values()].reduce((a, b) => a + b, 0)
  console.info(`postgres, killed: ${receiver.receipts.length} requests, ${again} successes sent again`)
}
