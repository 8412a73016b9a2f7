import { spawn } from 'node:child_process'
import { dirname } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest'
import { startMetricsServer } from '../../src/server/metrics-server.ts'
import { startServer } from '../../src/server/server.ts'
import { createWhisperer } from '../../src/whisperer.ts'
import { forEachDatabase, quietLogger, schemaName, testDefaults } from '../support/databases.ts'
import {
  findPostgresBinaries,
  freePort,
  pgCtl,
  startThrowawayCluster,
  type ThrowawayCluster,
} from '../support/postgres-server.ts'
import { sample } from '../telemetry/exposition.ts'

const get = (handler: (request: Request) => Promise<Response>, path: string) =>
  handler(new Request(`http://api.test${path}`))

forEachDatabase((db) => {
  test('liveness and readiness answer without a token', async () => {
    const whisperer = await db.whisperer()
    // Any token would be refused: the health routes never ask.
    const api = whisperer.api({ authenticate: () => null })
    for (const path of ['/whisperer/health', '/whisperer/health/']) {
      const response = await get(api, path)
      expect(response.status, path).toBe(200)
      expect(await response.json()).toEqual({ status: 'ok' })
    }
    // Readiness says whether secrets are stored in clear or encrypted.
    const ready = await get(api, '/whisperer/health/ready')
    expect(ready.status).toBe(200)
    expect(await ready.json()).toEqual({ status: 'ok', secrets: 'clear' })
    const sealed = await db.whisperer({ encryptionKeys: [`k1:${Buffer.alloc(32, 7).toString('base64')}`] })
    const sealedApi = sealed.api({ authenticate: () => null })
    expect(await (await get(sealedApi, '/whisperer/health/ready')).json()).toEqual({
      status: 'ok',
      secrets: 'encrypted',
    })
    expect((await get(api, '/whisperer/hooks/')).status).toBe(401)
    const document = (await (await get(api, '/whisperer/openapi.json')).json()) as { paths: object }
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining(['/whisperer/health/', '/whisperer/health/ready/']),
    )
  })

  test('readiness is 503 migrations_pending on a schema whose migrations are behind', async () => {
    const whisperer = await db.whisperer()
    const { schema } = whisperer.config
    await db.sql(
      `DELETE FROM "${schema}".migrations WHERE version = (SELECT max(version) FROM "${schema}".migrations)`,
    )
    const api = whisperer.api({ authenticate: () => null, prefix: '/hooks-api' })
    const response = await get(api, '/hooks-api/health/ready')
    expect(response.status).toBe(503)
    expect(await response.json()).toEqual({ status: 'unavailable', reason: 'migrations_pending' })
    // Liveness does not depend on the database.
    expect((await get(api, '/hooks-api/health')).status).toBe(200)
    await db.sql(`DROP TABLE "${schema}".migrations`)
    expect(await whisperer.ready()).toEqual({ ready: false, reason: 'migrations_pending' })
  })

  test("a worker's metrics port serves /metrics and the health routes, nothing else", async () => {
    const whisperer = await db.whisperer()
    const server = await startMetricsServer({ whisperer, port: 0, host: '127.0.0.1' })
    try {
      const metrics = await fetch(`${server.url}/metrics`)
      expect(metrics.status).toBe(200)
      expect(metrics.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
      expect(sample(await metrics.text(), 'whisperer_in_flight')).toBe(0)
      expect((await fetch(`${server.url}/whisperer/health/ready`)).status).toBe(200)
      expect((await fetch(`${server.url}/whisperer/health`)).status).toBe(200)
      expect((await fetch(`${server.url}/whisperer/hooks/`)).status).toBe(404)
    } finally {
      await server.close()
    }
  })

  test('whisperer serve answers /metrics without a token', async () => {
    const whisperer = await db.whisperer()
    const running = await startServer({
      whisperer,
      port: 0,
      host: '127.0.0.1',
      config: { eventTypes: [] },
      announce: () => {},
    })
    try {
      const response = await fetch(`${running.url}/metrics`)
      expect(response.status).toBe(200)
      expect(await response.text()).toContain('# TYPE whisperer_attempts_total counter')
      expect((await fetch(`${running.url}/whisperer/health/ready`)).status).toBe(200)
    } finally {
      await running.close()
    }
  })
})

describe.runIf(inject('postgresUrl'))('whisperer worker --metrics-port', () => {
  test('serves /metrics and readiness while it runs', async () => {
    const port = await freePort()
    const cli = new URL('../../src/cli/bin.ts', import.meta.url).pathname
    const child = spawn(process.execPath, [cli, 'worker', '--metrics-host', '127.0.0.1'], {
      env: {
        ...process.env,
        DATABASE_URL: inject('postgresUrl')!,
        WHISPERER_SCHEMA: schemaName(),
        WHISPERER_METRICS_PORT: String(port),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const exited = new Promise((resolve) => child.once('exit', resolve))
    try {
      let output = ''
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`worker did not start:\n${output}`)), 60_000)
        const onData = (chunk: Buffer) => {
          output += chunk.toString()
          if (output.includes('Whisperer worker started')) {
            clearTimeout(timer)
            resolve()
          }
        }
        child.stdout!.on('data', onData)
        child.stderr!.on('data', onData)
      })
      expect(output).toContain(`http://127.0.0.1:${port}/metrics`)
      const metrics = await fetch(`http://127.0.0.1:${port}/metrics`)
      expect(await metrics.text()).toContain('whisperer_queue_due 0')
      const ready = await fetch(`http://127.0.0.1:${port}/whisperer/health/ready`)
      expect(await ready.json()).toEqual({ status: 'ok', secrets: 'clear' })
    } finally {
      child.kill('SIGTERM')
      await exited
    }
  })
})

const postgresBin = findPostgresBinaries()

describe.runIf(postgresBin)('readiness while PostgreSQL is down', () => {
  let cluster: ThrowawayCluster
  beforeAll(async () => {
    cluster = await startThrowawayCluster(postgresBin!, {
      settings: { fsync: 'off' },
      directoryPrefix: 'whisperer-health-',
    })
  })
  afterAll(() => cluster?.stop())

  test('readiness turns 503 database_unavailable when PostgreSQL stops, and 200 when it is back', async () => {
    const whisperer = await createWhisperer({
      ...testDefaults,
      logger: quietLogger,
      database: cluster.url,
      schema: schemaName(),
    })
    try {
      const api = whisperer.api({ authenticate: () => null })
      expect((await get(api, '/whisperer/health/ready')).status).toBe(200)

      pgCtl(cluster, 'stop', '-m', 'immediate')
      const down = await get(api, '/whisperer/health/ready')
      expect(down.status).toBe(503)
      expect(await down.json()).toEqual({ status: 'unavailable', reason: 'database_unavailable' })
      expect((await get(api, '/whisperer/health')).status).toBe(200)
      expect(
        sample(await whisperer.metrics(), 'whisperer_db_errors_total', { operation: 'schemaVersion' }),
      ).toBe(1)

      const [, port] = /:(\d+)\//.exec(cluster.url)!
      const serverOptions = `-p ${port} -k ${dirname(cluster.data)} -c listen_addresses=127.0.0.1 -c fsync=off`
      pgCtl(cluster, 'start', '-w', '-o', serverOptions)
      // The pool connects again by itself; a bounded number of tries covers the first refusals.
      let status = 0
      for (let i = 0; i < 50 && status !== 200; i++) {
        status = (await get(api, '/whisperer/health/ready')).status
        if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100))
      }
      expect(status).toBe(200)
    } finally {
      await whisperer.close()
    }
  })
})
