import { type ChildProcess, spawn } from 'node:child_process'
import { afterEach, beforeEach, describe, expect, inject, test } from 'vitest'
import type { Whisperer } from '../../src/whisperer.ts'
import { onPostgres } from '../support/databases.ts'
import { type Receiver, startReceiver } from '../support/receiver.ts'

const cli = new URL('../../src/cli/bin.ts', import.meta.url).pathname

/** `whisperer worker`, the real CLI, in a process of its own; resolves once it claims. */
function startWorker(schema: string, env: Record<string, string> = {}): Promise<ChildProcess> {
  const child = spawn(process.execPath, [cli, 'worker'], {
    env: {
      ...process.env,
      DATABASE_URL: inject('postgresUrl')!,
      WHISPERER_SCHEMA: schema,
      WHISPERER_ALLOWED_TARGETS: '127.0.0.1',
      WHISPERER_CONCURRENCY: '16',
      WHISPERER_LEASE_SECONDS: '5',
      WHISPERER_POLL_INTERVAL: '100',
      WHISPERER_LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`worker exited early with ${code}`)))
    let output = ''
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      if (output.includes('worker started')) resolve(child)
    })
  })
}

async function until(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

// Real worker processes on a real PostgreSQL server: PGlite lives inside one process.
onPostgres((db) => {
  describe('worker processes', () => {
    let receiver: Receiver
    let children: ChildProcess[]
    beforeEach(async () => {
      receiver = await startReceiver()
      children = []
    })
    afterEach(async () => {
      for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
      await receiver.close()
    })

    async function loaded(count: number): Promise<{ publisher: Whisperer; count: number }> {
      const publisher = await db.whisperer()
      publisher.eventTypes.register({ type: 'load' })
      for (let w = 0; w < 10; w += 1) {
        await publisher.webhooks.create('acme', { eventType: 'load', targetUrl: `${receiver.url}?w=${w}` })
      }
      for (let i = 0; i < count / 10; i += 1) await publisher.deliverEvent({ i }, 'load')
      return { publisher, count }
    }

    const statusCounts = async (schema: string) =>
      Object.fromEntries(
        (
          await db.sql<{ status: string; n: number }>(
            `SELECT status, count(*)::int AS n FROM "${schema}".deliveries GROUP BY status`,
          )
        ).map((r) => [r.status, r.n]),
      )

    test('a worker killed with SIGKILL mid-load loses nothing: a second worker finishes', async () => {
      receiver.respond(async () => {
        await new Promise((resolve) => setTimeout(resolve, 5))
        return { status: 200 }
      })
      const { publisher, count } = await loaded(1200)
      const schema = publisher.config.schema
      const first = await startWorker(schema, { WHISPERER_LEASE_SECONDS: '3' })
      children.push(first)
      await receiver.waitFor(300, 20_000)
      first.kill('SIGKILL')
      await new Promise((resolve) => first.once('exit', resolve))
      const killedAt = Date.now()
      const seenAtKill = receiver.requests.length
      expect(seenAtKill).toBeLessThan(count)

      children.push(await startWorker(schema, { WHISPERER_LEASE_SECONDS: '3' }))
      await until(async () => (await statusCounts(schema)).delivered === count, 60_000)
      expect(await statusCounts(schema)).toEqual({ delivered: count })

      const byId = new Map<string, number[]>()
      for (const request of receiver.requests) {
        const id = String(request.headers['webhook-id'])
        byId.set(id, [...(byId.get(id) ?? []), request.receivedAt])
      }
      expect(byId.size).toBe(count)
      const duplicates = [...byId.values()].filter((times) => times.length > 1)
      console.log(`killed after ${seenAtKill} requests; ${duplicates.length} deliveries arrived twice`)
      // Only deliveries in flight at the kill (sent, not yet recorded) may arrive twice.
      for (const times of duplicates) {
        expect(times).toHaveLength(2)
        expect(times[0]!).toBeLessThanOrEqual(killedAt)
      }
      const [{ n: attempts }] = (await db.sql<{ n: number }>(
        `SELECT count(*)::int AS n FROM "${schema}".attempts`,
      )) as [{ n: number }]
      // Every recorded attempt was a request the receiver saw; those lost with the worker were never recorded.
      expect(attempts).toBeLessThanOrEqual(receiver.requests.length)
      expect(attempts).toBeGreaterThanOrEqual(count)
    }, 90_000)

    test('two workers on one PostgreSQL never attempt the same delivery, nor at the same time', async () => {
      const inFlight = new Set<string>()
      let overlaps = 0
      receiver.respond(async (request) => {
        const id = String(request.headers['webhook-id'])
        if (inFlight.has(id)) overlaps += 1
        inFlight.add(id)
        await new Promise((resolve) => setTimeout(resolve, 2))
        inFlight.delete(id)
        return { status: 200 }
      })
      const { publisher, count } = await loaded(1000)
      const schema = publisher.config.schema
      children.push(...(await Promise.all([startWorker(schema), startWorker(schema)])))
      await until(async () => (await statusCounts(schema)).delivered === count, 60_000)
      expect(overlaps).toBe(0)
      const ids = receiver.requests.map((r) => String(r.headers['webhook-id']))
      expect(new Set(ids).size).toBe(count)
      expect(ids).toHaveLength(count)
      await Promise.all(
        children.map(
          (child) =>
            new Promise((resolve) => {
              child.once('exit', resolve)
              child.kill('SIGTERM')
            }),
        ),
      )
      expect(children.map((child) => child.exitCode)).toEqual([0, 0])
    }, 90_000)
  })
})
