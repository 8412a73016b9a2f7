import { type ChildProcess, fork } from 'node:child_process'
import { once } from 'node:events'
import { afterEach, expect, test } from 'vitest'
import { processEnv, startWorker, stop, type WhispererProcess } from '../chaos/processes.ts'
import { onPostgres } from '../support/databases.ts'
import { busiestWindow } from '../support/windows.ts'

const receiverProcess = new URL('../support/receiver-process.ts', import.meta.url).pathname

/** A receiver in a child process: its URL, and what it received so far. */
async function startReceiverProcess(): Promise<{
  child: ChildProcess
  url: string
  received(): Promise<{ at: number; id: string }[]>
}> {
  const child = fork(receiverProcess, { stdio: 'ignore' })
  const [{ port }] = (await once(child, 'message')) as [{ port: number }]
  return {
    child,
    url: `http://127.0.0.1:${port}/hook`,
    async received() {
      child.send('report')
      const [{ received }] = (await once(child, 'message')) as [{ received: { at: number; id: string }[] }]
      return received
    },
  }
}

// Two `whisperer worker` processes share one webhook's budget through PostgreSQL.
onPostgres((db) => {
  let workers: WhispererProcess[] = []
  let receiver: Awaited<ReturnType<typeof startReceiverProcess>> | null = null
  afterEach(async () => {
    await Promise.all(workers.map((worker) => stop(worker, 'SIGTERM')))
    workers = []
    receiver?.child.kill()
    receiver = null
  })

  test('a 1,000-event burst to a webhook limited to 50/s, on two worker processes, stays within it', async () => {
    receiver = await startReceiverProcess()
    const whisperer = await db.whisperer()
    whisperer.eventTypes.register({ type: 'burst' })
    const webhook = await whisperer.webhooks.create('acme', {
      eventType: 'burst',
      targetUrl: receiver.url,
      rateLimit: 50,
    })
    const schema = whisperer.config.schema
    const env = processEnv(whisperer.config.database as string, schema)
    workers = await Promise.all([startWorker(env), startWorker(env)])
    await Promise.all(Array.from({ length: 1000 }, (_, n) => whisperer.deliverEvent({ n }, 'burst')))
    let received = await receiver.received()
    // Bounded: the whole burst takes 20 s at 50/s; give up after 60.
    for (let i = 0; i < 120 && received.length < 1000; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 500))
      received = await receiver.received()
    }
    await Promise.all(workers.map((worker) => stop(worker, 'SIGTERM')))
    expect(received.length).toBe(1000)
    const times = received.map((request) => request.at)
    // At most 50 in any second, give or take 10%; and no faster overall than the limit.
    expect(busiestWindow(times)).toBeLessThanOrEqual(55)
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThan(18_000)
    const [row] = await db.sql<{ delivered: number; attempts: number; retried: number }>(
      `SELECT count(*) FILTER (WHERE status = 'delivered')::int AS delivered,
         count(*) FILTER (WHERE retry_count <> 1)::int AS retried,
         (SELECT count(*)::int FROM "${schema}".attempts) AS attempts
       FROM "${schema}".deliveries WHERE webhook_id = $1`,
      [webhook.id],
    )
    // Every delivery was attempted once: those held back were not attempts.
    expect(row).toEqual({ delivered: 1000, attempts: 1000, retried: 0 })
    // Each request was sent once: none lost or doubled between the two processes.
    expect(new Set(received.map((r) => r.id)).size).toBe(1000)
  }, 120_000)
})
