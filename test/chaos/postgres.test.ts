import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import { afterAll, afterEach, beforeAll, describe, test } from 'vitest'
import { schemaName } from '../support/databases.ts'
import {
  asServerUser,
  findPostgresBinaries,
  startThrowawayCluster,
  type ThrowawayCluster,
} from '../support/postgres-server.ts'
import { runCommand, startWorker, stop, type WhispererProcess } from './processes.ts'
import {
  createdBefore,
  type FaultReport,
  openWorld,
  readSnapshot,
  runUnderLoad,
  type World,
} from './scenario.ts'
import { expectSound } from './verdict.ts'

const bin = findPostgresBinaries()
const required = process.env.WHISPERER_REQUIRE_POSTGRES === '1'
if (!bin && !required)
  console.warn('\n!! No PostgreSQL binaries found: the PostgreSQL chaos runs are SKIPPED.\n')

/** Whether the server answers a query now. */
async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 })
  // The server may end the connection at any moment of the probe: that is an answer of "no".
  client.on('error', () => {})
  try {
    await client.connect()
    await client.query('SELECT 1')
    return true
  } catch {
    return false
  } finally {
    await client.end().catch(() => {})
  }
}

/**
 * Runs `restart` and resolves with the first moment the server answered again after it stopped
 * answering, probing every 50 ms for at most 120 s (the end of `restart` alone would be late:
 * `pg_ctl -w` polls once a second).
 */
async function backAfter(url: string, restart: Promise<void>): Promise<number> {
  let finished = false
  const done = restart.finally(() => {
    finished = true
  })
  let down = false
  for (let i = 0; i < 2400; i += 1) {
    const up = await answers(url)
    if (!up) down = true
    else if (down || finished) {
      const at = Date.now()
      await done
      return at
    }
    await sleep(50)
  }
  await done
  throw new Error('PostgreSQL did not come back within 120 s')
}

// Real `whisperer serve` and `whisperer worker` processes on a PostgreSQL server of the suite's own,
// which the runs restart and crash.
describe.runIf(bin || required)('chaos on PostgreSQL', () => {
  let cluster: ThrowawayCluster
  let world: World | undefined
  beforeAll(async () => {
    if (!bin) throw new Error('WHISPERER_REQUIRE_POSTGRES=1 but no PostgreSQL binaries were found')
    cluster = await startThrowawayCluster(bin, {
      settings: { max_connections: '100' },
      directoryPrefix: 'whisperer-chaos-pg-',
    })
  })
  afterAll(() => cluster?.stop())
  afterEach(async () => {
    await world?.close()
    world = undefined
  })

  /** A fresh schema with `whisperer serve` and one `whisperer worker` on it. */
  async function serveAndWorker(name: string): Promise<World> {
    // Half the API's default per-owner limit (50/s).
    world = await openWorld({ name, database: cluster.url, schema: schemaName(), perSecond: 25 })
    world.others.push(await startWorker(world.env))
    return world
  }

  function restartPostgres(mode: 'fast' | 'immediate') {
    return async (): Promise<FaultReport> => {
      const before = await readSnapshot(cluster.url, world!.schema)
      const faultAt = Date.now()
      const args = ['-D', cluster.data, '-l', cluster.log, '-m', mode, '-w', '-t', '60', 'restart']
      const backAt = await backAfter(
        cluster.url,
        runCommand(...asServerUser(join(cluster.bin, 'pg_ctl'), args)),
      )
      // Nothing is created while the server is down: what existed unfinished then may have been held.
      const existing = await createdBefore(cluster.url, world!.schema, backAt)
      const held = new Set([...existing].filter((key) => !before.finished.has(key)))
      return { faultAt, backAt, snapshot: { finished: before.finished, held }, inFlightUntil: backAt }
    }
  }

  /** SIGKILLs a process, reads the database, and starts the process again. */
  function kill(victim: () => WhispererProcess, restart: () => Promise<void>) {
    return async (): Promise<FaultReport> => {
      const faultAt = Date.now()
      await stop(victim(), 'SIGKILL')
      const inFlightUntil = Date.now()
      const snapshot = await readSnapshot(cluster.url, world!.schema)
      await restart()
      return { faultAt, backAt: Date.now(), snapshot, inFlightUntil }
    }
  }

  test('pg_ctl restart -m fast under a steady publishing load', async () => {
    const world = await serveAndWorker('pg-fast')
    expectSound(await runUnderLoad(world, restartPostgres('fast'), false))
  })

  test('pg_ctl restart -m immediate (a crash and recovery) under a steady publishing load', async () => {
    const world = await serveAndWorker('pg-immediate')
    expectSound(await runUnderLoad(world, restartPostgres('immediate'), false))
  })

  test('SIGKILL of the serving process, then a restart', async () => {
    const world = await serveAndWorker('kill-serve')
    expectSound(
      await runUnderLoad(
        world,
        kill(() => world.serve, world.restartServe),
        true,
      ),
    )
  })

  test('SIGKILL of a worker, then a restart', async () => {
    const world = await serveAndWorker('kill-worker')
    const restart = async () => {
      world.others[0] = await startWorker(world.env)
    }
    expectSound(
      await runUnderLoad(
        world,
        kill(() => world.others[0]!, restart),
        false,
      ),
    )
  })
})
