import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { type Receiver, startReceiver } from '../support/receiver.ts'
import { processEnv, startServe, stop, type WhispererProcess } from './processes.ts'
import { type Publish, startPublishing } from './publisher.ts'
import { type ChaosRun, deliveryKey, type Snapshot } from './verdict.ts'

/** Load before the fault, and after the database or process is back. */
const warmupMs = 3_000
const afterMs = 6_000
/** A publish unanswered this long is given up on (and fails the run). */
const publishTimeoutMs = 10_000
/** The longest the run waits for acknowledged deliveries to arrive and for the queue to drain. */
const settleTimeoutMs = 60_000

type Serve = Awaited<ReturnType<typeof startServe>>

/** A chaos run's world: a receiver, a config file, `whisperer serve` and the tokens and webhook. */
export interface World {
  name: string
  /** Publishes per second. */
  perSecond: number
  database: string
  schema: string
  env: Record<string, string>
  receiver: Receiver
  config: string
  serve: Serve
  /** Other processes (workers) to stop at the end. */
  others: WhispererProcess[]
  subscriber: string
  publisher: string
  /** Restarts `whisperer serve` on the same port, after it was killed. */
  restartServe(): Promise<void>
  close(): Promise<void>
}

/** The fields of the API's answers the runs read. */
interface Answer {
  token?: string
  results?: unknown[]
}

async function api(url: string, token: string, path: string, body?: unknown): Promise<Answer> {
  const response = await fetch(`${url}/whisperer/${path}`, {
    method: body ? 'POST' : 'GET',
    headers: { authorization: `Token ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(publishTimeoutMs),
  })
  const json = (await response.json()) as Answer
  if (!response.ok) throw new Error(`${path}: ${response.status} ${JSON.stringify(json)}`)
  return json
}

/** Starts `whisperer serve` on a fresh schema or directory, then makes the tokens and the webhook. */
export interface WorldOptions {
  name: string
  database: string
  schema: string
  /** Publishes per second. */
  perSecond: number
  /** Settings for the processes beyond {@link processEnv}'s. */
  env?: Record<string, string>
}

export async function openWorld(options: WorldOptions): Promise<World> {
  const { name, database, schema, perSecond } = options
  const directory = mkdtempSync(join(tmpdir(), 'whisperer-chaos-'))
  const config = join(directory, 'whisperer.config.json')
  writeFileSync(config, JSON.stringify({ eventTypes: [{ type: 'chaos', description: 'chaos load' }] }))
  const env = { ...processEnv(database, schema), ...options.env }
  const receiver = await startReceiver()
  const serve = await startServe(env, 0, config)
  const admin = serve.adminToken
  if (!admin) throw new Error(`serve announced no admin token:\n${serve.output()}`)
  const token = async (owner: string, scope: string) =>
    (await api(serve.url, admin, 'tokens/', { owner, scopes: [scope] })).token!
  const subscriber = await token('acme', 'subscriber')
  const publisher = await token('shop', 'publisher')
  await api(serve.url, subscriber, 'hooks/', {
    event_type: 'chaos',
    target_url: receiver.url,
    secret_key: 'chaos-secret',
    retry_countdown_config: { choice: 'fixed', kwargs: { seconds: 1 } },
  })
  const world: World = {
    name,
    perSecond,
    database,
    schema,
    env,
    receiver,
    config,
    serve,
    others: [],
    subscriber,
    publisher,
    async restartServe() {
      world.serve = await startServe(env, world.serve.port, config)
    },
    async close() {
      await Promise.all([world.serve, ...world.others].map((running) => stop(running, 'SIGTERM')))
      await receiver.close()
      rmSync(directory, { recursive: true, force: true })
    },
  }
  return world
}

const queryScript = new URL('./query-once.ts', import.meta.url).pathname
const run = promisify(execFile)

/** Runs one query in a child process, on a database no process holds open (PGlite) or on PostgreSQL. */
async function queryOnce<R>(database: string, text: string, values: unknown[] = []): Promise<R[]> {
  const args = [queryScript, database, text, JSON.stringify(values)]
  const { stdout } = await run(process.execPath, args, { timeout: 60_000, maxBuffer: 64 * 1024 * 1024 })
  return JSON.parse(stdout) as R[]
}

/** Which deliveries are finished, and which claimed: read just after a process was killed. */
export async function readSnapshot(database: string, schema: string): Promise<Snapshot> {
  const rows = await queryOnce<{ uuid: string; status: string }>(
    database,
    `SELECT uuid::text AS uuid, status FROM "${schema}".deliveries WHERE status <> 'pending'`,
  )
  const keys = (status: (status: string) => boolean) =>
    new Set(rows.filter((row) => status(row.status)).map((row) => deliveryKey(row.uuid)))
  return {
    finished: keys((status) => status !== 'delivering'),
    held: keys((status) => status === 'delivering'),
  }
}

/** Deliveries created before `at`, by key. */
export async function createdBefore(database: string, schema: string, at: number): Promise<Set<string>> {
  const rows = await queryOnce<{ uuid: string }>(
    database,
    `SELECT uuid::text AS uuid FROM "${schema}".deliveries WHERE created_at < $1`,
    [new Date(at).toISOString()],
  )
  return new Set(rows.map((row) => deliveryKey(row.uuid)))
}

/** What a fault reports: when it began, when things were back, and the database's view. */
export interface FaultReport {
  faultAt: number
  backAt: number
  snapshot: Snapshot
  inFlightUntil: number
}

/**
 * Runs the steady publishing load through `fault`, then waits (bounded) for every acknowledged
 * delivery to arrive and for the queue to drain, and returns what happened.
 */
export async function runUnderLoad(
  world: World,
  fault: () => Promise<FaultReport>,
  serveKilled: boolean,
): Promise<ChaosRun> {
  const load = startPublishing({
    url: () => world.serve.url,
    token: world.publisher,
    eventType: 'chaos',
    perSecond: world.perSecond,
    maxCount: world.perSecond * 120,
    timeoutMs: publishTimeoutMs,
  })
  let report: FaultReport
  let publishes: Publish[]
  try {
    await sleep(warmupMs)
    report = await fault()
    await sleep(afterMs)
  } finally {
    publishes = await load.stop()
  }

  const acked = new Set(publishes.flatMap((publish) => publish.uuids.map(deliveryKey)))
  const received = () =>
    new Set(world.receiver.requests.map((request) => deliveryKey(String(request.headers['webhook-id']))))
  const deadline = Date.now() + settleTimeoutMs
  while (Date.now() < deadline && [...acked].some((id) => !received().has(id))) await sleep(200)
  let queue = await unsettled(world)
  while (Date.now() < deadline && queue !== null) {
    await sleep(200)
    queue = await unsettled(world)
  }

  return {
    name: world.name,
    publishes,
    requests: [...world.receiver.requests],
    serveKilled,
    undrained: queue,
    ...report,
  }
}

/** Null once no delivery is pending or claimed, through the REST API; else what is left, or the error. */
async function unsettled(world: World): Promise<string | null> {
  try {
    for (const status of ['pending', 'delivering']) {
      const page = await api(world.serve.url, world.subscriber, `hook_events/?status=${status}&limit=1`)
      if ((page.results ?? []).length > 0) return `deliveries still ${status}`
    }
    return null
  } catch (error) {
    return `the API did not answer: ${(error as Error).message}`
  }
}
