import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterEach, beforeEach, expect, inject, test } from 'vitest'
import { verifySignature } from '../../src/core/signature.ts'
import { openDatabase } from '../../src/storage/open-database.ts'
import type { ApiResponse } from '../api/support.ts'
import { forEachDatabase, schemaName } from '../support/databases.ts'
import { type Receiver, startReceiver } from '../support/receiver.ts'

const cli = new URL('../../src/cli/bin.ts', import.meta.url).pathname
const run = promisify(execFile)

interface Service {
  child: ChildProcess
  url: string
  adminToken: string
  exited: Promise<number | null>
}

/** `whisperer serve`, the real CLI, in a child process; resolves once it serves. */
function serve(args: string[], env: Record<string, string | undefined>): Promise<Service> {
  const child = spawn(process.execPath, [cli, ...args, 'serve', '--port', '0', '--host', '127.0.0.1'], {
    env: {
      ...env,
      WHISPERER_ALLOWED_TARGETS: '127.0.0.1',
      WHISPERER_LOG_LEVEL: 'info',
      WHISPERER_POLL_INTERVAL: '200',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  let output = ''
  let errors = ''
  child.stderr!.on('data', (chunk: Buffer) => {
    errors += chunk.toString()
  })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${output}\n${errors}`)), 60_000)
    void exited.then((code) => reject(new Error(`serve exited with ${code}:\n${output}\n${errors}`)))
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      const serving = /"url":"(http:[^"]+)\/whisperer\/".*"msg":"Whisperer is serving"/.exec(output)
      const token = /\n {2}(wh_[a-z0-9]{12}_[A-Za-z0-9_-]{43})\n/.exec(output)
      if (serving && token) {
        clearTimeout(timer)
        resolve({ child, url: serving[1]!, adminToken: token[1]!, exited })
      }
    })
  })
}

forEachDatabase((db) => {
  let receiver: Receiver
  let service: Service | undefined
  let directory: string
  beforeEach(async () => {
    receiver = await startReceiver()
    directory = mkdtempSync(join(tmpdir(), 'whisperer-cli-'))
  })
  afterEach(async () => {
    if (service?.child.exitCode === null) service.child.kill('SIGKILL')
    await service?.exited
    service = undefined
    await receiver.close()
    rmSync(directory, { recursive: true, force: true })
  })

  test('serve, tokens, a hook, an event signed and delivered, then SIGTERM with nothing lost', async () => {
    const schema = schemaName()
    const { DATABASE_URL: _unset, ...env } = process.env
    const database = db.kind === 'postgres' ? inject('postgresUrl')! : join(directory, 'data')
    const config = join(directory, 'whisperer.config.json')
    writeFileSync(
      config,
      JSON.stringify({
        eventTypes: [
          {
            type: 'order-created',
            description: 'An order was placed',
            jsonSchema: { type: 'object', required: ['id'], properties: { id: { type: 'integer' } } },
          },
        ],
      }),
    )
    const globals = ['--database', database, '--schema', schema]
    service = await serve([...globals], { ...env, WHISPERER_CONFIG: config })
    const { url, adminToken } = service
    const api = async (
      method: string,
      path: string,
      token: string,
      body?: unknown,
    ): Promise<Pick<ApiResponse, 'status' | 'body'>> => {
      const response = await fetch(`${url}/whisperer/${path}`, {
        method,
        headers: { authorization: `Token ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      })
      return { status: response.status, body: response.status === 204 ? null : await response.json() }
    }

    // A subscriber token: through the API (any database), and with the CLI where the database
    // may be shared (PostgreSQL); the embedded one belongs to the running service.
    const created = await api('POST', 'tokens/', adminToken, { owner: 'acme', scopes: ['subscriber'] })
    expect(created.status).toBe(201)
    let subscriber = created.body.token as string
    if (db.kind === 'postgres') {
      const { stdout } = await run(
        process.execPath,
        [cli, ...globals, 'tokens', 'create', '--owner', 'acme'],
        { env },
      )
      subscriber = stdout.trim()
    } else {
      await expect(run(process.execPath, [cli, ...globals, 'tokens', 'list'], { env })).rejects.toMatchObject(
        {
          code: 1,
          stderr: expect.stringContaining('in use by process'),
        },
      )
    }

    const hook = await api('POST', 'hooks/', subscriber, {
      event_type: 'order-created',
      target_url: receiver.url,
      secret_key: 'cli-secret',
      retry_countdown_config: { choice: 'fixed', kwargs: { seconds: 1 } },
    })
    expect(hook.status).toBe(201)
    expect(
      (await api('POST', 'events/', subscriber, { event_type: 'order-created', data: { id: 1 } })).status,
    ).toBe(403)
    const refused = await api('POST', 'events/', adminToken, {
      event_type: 'order-created',
      data: { id: 'one' },
    })
    expect(refused).toMatchObject({
      status: 422,
      body: { code: 'invalid_event_data', errors: { 'data.id': [expect.any(String)] } },
    })

    const published = await api('POST', 'events/', adminToken, {
      event_type: 'order-created',
      data: { id: 1 },
    })
    expect(published.status).toBe(202)
    const [request] = await receiver.waitFor(1, 20_000)
    expect(
      verifySignature({ secret: 'cli-secret', body: request!.body, headers: request!.headers }),
    ).toMatchObject({ ok: true })
    let events = await api('GET', 'hook_events/', subscriber)
    for (let i = 0; i < 100 && events.body.results[0]?.status !== 'delivered'; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      events = await api('GET', 'hook_events/', subscriber)
    }
    expect(events.body.results).toMatchObject([
      {
        uuid: published.body.deliveries[0].uuid,
        status: 'delivered',
        delivered: true,
        response_http_status: 200,
      },
    ])

    // Deliveries in flight when SIGTERM arrives are finished and recorded before the exit.
    receiver.respond(async () => {
      await new Promise((resolve) => setTimeout(resolve, 300))
      return { status: 200 }
    })
    for (let i = 2; i <= 11; i += 1) {
      expect(
        (await api('POST', 'events/', adminToken, { event_type: 'order-created', data: { id: i } })).status,
      ).toBe(202)
    }
    await receiver.waitFor(2, 20_000)
    service.child.kill('SIGTERM')
    expect(await service.exited).toBe(0)

    const opened = await openDatabase(database)
    try {
      const rows = (
        await opened.query<{ status: string; n: number }>(
          `SELECT status, count(*)::int AS n FROM "${schema}".deliveries GROUP BY status`,
        )
      ).rows
      const byStatus = Object.fromEntries(rows.map((row) => [row.status, row.n]))
      expect(byStatus.delivering).toBeUndefined()
      expect((byStatus.delivered ?? 0) + (byStatus.pending ?? 0)).toBe(11)
      const [{ n: attempts }] = (
        await opened.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".attempts`)
      ).rows as [{ n: number }]
      expect(attempts).toBe(receiver.requests.length)
      expect(byStatus.delivered).toBe(receiver.requests.length)
    } finally {
      if (db.kind === 'postgres') await opened.query(`DROP SCHEMA "${schema}" CASCADE`)
      await opened.close()
    }
  }, 120_000)

  test('errors a person can act on, with meaningful exit codes', async () => {
    const { DATABASE_URL: _unset, ...env } = process.env
    const database = db.kind === 'postgres' ? inject('postgresUrl')! : join(directory, 'data')
    const globals = ['--database', database, '--schema', schemaName()]
    await expect(run(process.execPath, [cli, 'frobnicate'], { env })).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining("unknown command 'frobnicate'"),
    })
    await expect(run(process.execPath, [cli, ...globals, 'tokens', 'create'], { env })).rejects.toMatchObject(
      {
        code: 2,
        stderr: expect.stringContaining("required option '--owner <owner>'"),
      },
    )
    await expect(
      run(process.execPath, [cli, ...globals, 'tokens', 'create', '--owner', 'x', '--scope', 'root'], {
        env,
      }),
    ).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('scopes: Choose one or more of') })
    await expect(
      run(process.execPath, [cli, ...globals, 'deliveries', 'retry', '123'], { env }),
    ).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('Delivery 123 does not exist'),
    })
    const { stdout } = await run(process.execPath, [cli, ...globals, 'deliveries', 'replay', '--dry-run'], {
      env,
    })
    expect(stdout).toBe('0 deliveries would be sent again\n')
    const help = await run(process.execPath, [cli, 'deliveries', 'replay', '--help'], { env })
    expect(help.stdout).toContain('--event-type <type>')
  }, 120_000)
})
