import { type ChildProcess, execFile, spawn } from 'node:child_process'
import type { AddressInfo } from 'node:net'
import { createServer } from 'node:net'
import { promisify, stripVTControlCharacters } from 'node:util'
import { afterEach, describe, expect, test } from 'vitest'
import { uuidHex } from '../../src/core/payload.ts'
import type { Whisperer } from '../../src/whisperer.ts'
import { forEachDatabase } from '../support/databases.ts'

const cli = new URL('../../src/cli/bin.ts', import.meta.url).pathname
const run = promisify(execFile)
const {
  DATABASE_URL: _database,
  FORCE_COLOR: _force,
  NO_COLOR: _none,
  ...env
} = process.env as Record<string, string>

interface Listening {
  child: ChildProcess
  url: string
  /** Everything printed on stdout so far. */
  output(): string
  /** Resolves with stdout once `done(stdout)` holds; rejects after 20 s. */
  waitFor(done: (output: string) => boolean): Promise<string>
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>
}

const listening: Listening[] = []
afterEach(async () => {
  for (const { child } of listening.splice(0)) if (child.exitCode === null) child.kill('SIGKILL')
})

/** `whisperer listen` on a free port, the real CLI in a child process; resolves once it listens. */
function listen(args: string[], extraEnv: Record<string, string> = {}): Promise<Listening> {
  const child = spawn(process.execPath, [cli, 'listen', '--port', '0', ...args], {
    env: { ...env, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  let stdout = ''
  let stderr = ''
  const changed = new Set<() => void>()
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString()
    for (const check of changed) check()
  })
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
    for (const check of changed) check()
  })
  const waitFor = (done: (output: string) => boolean) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        changed.delete(check)
        reject(new Error(`listen did not print what was expected:\n${stdout}\n${stderr}`))
      }, 20_000)
      const check = () => {
        if (!done(stdout)) return
        clearTimeout(timer)
        changed.delete(check)
        resolve(stdout)
      }
      changed.add(check)
      check()
    })
  return new Promise((resolve, reject) => {
    void exited.then((code) => reject(new Error(`listen exited with ${code}:\n${stdout}\n${stderr}`)))
    const check = () => {
      const url = /Listening for webhooks on (http:\S+)/.exec(stdout + stderr)?.[1]
      if (!url) return
      changed.delete(check)
      const started: Listening = {
        child,
        url,
        output: () => stdout,
        waitFor,
        stop: () => {
          child.kill('SIGTERM')
          return exited
        },
      }
      listening.push(started)
      resolve(started)
    }
    changed.add(check)
  })
}

/** The printed block of the request carrying this delivery uuid, request `n` of it. */
function block(output: string, uuid: string, n = 1): string {
  const blocks = output.split('\n\n').filter((b) => b.includes(`(uuid ${uuidHex(uuid)})`))
  return blocks.find((b) => b.includes(`request ${n} of this delivery`)) ?? ''
}

async function subscribe(
  whisperer: Whisperer,
  owner: string,
  targetUrl: string,
  secretKey: string | null = null,
): Promise<void> {
  whisperer.eventTypes.register({ type: 'order-created' })
  await whisperer.webhooks.create(owner, {
    eventType: 'order-created',
    targetUrl,
    secretKey,
    retryCountdownConfig: { choice: 'fixed', kwargs: { seconds: 0 } },
  })
}

forEachDatabase((db) => {
  test('prints each webhook with its event, headers and body; both signatures valid or invalid', async () => {
    const listener = await listen(['--secret', 'right-secret', '--path', '/hooks'])
    const whisperer = await db.whisperer()
    await subscribe(whisperer, 'acme', listener.url, 'right-secret')
    await whisperer.webhooks.create('globex', {
      eventType: 'order-created',
      targetUrl: listener.url,
      secretKey: 'wrong-secret',
      retryCountdownConfig: { choice: 'fixed', kwargs: { seconds: 0 } },
    })

    const { outcomes } = await whisperer.deliverEvent({ id: 7 }, 'order-created', { async: false })
    const [good, bad] = [...outcomes!].sort((a, b) => a.webhookId - b.webhookId)
    expect(good).toMatchObject({ delivered: true, responseStatus: 200 })
    expect(bad).toMatchObject({
      delivered: false,
      responseStatus: 401,
      responseBody: 'signature bad_signature',
    })

    const output = await listener.waitFor(
      (out) => block(out, bad!.uuid) !== '' && block(out, good!.uuid) !== '',
    )
    const valid = block(output, good!.uuid)
    expect(valid).toMatch(/POST \/hooks {2}→ 200\n/)
    expect(valid).toContain(`order-created (uuid ${uuidHex(good!.uuid)})`)
    expect(valid).toMatch(/x-whisperer-event +order-created\n/)
    expect(valid).toMatch(/webhook-id +[0-9a-f]{32}\n/)
    expect(valid).toMatch(/x-whisperer-signature +sha256=[0-9a-f]{64}\n/)
    expect(valid).toMatch(/signature +x-whisperer-signature valid\n/)
    expect(valid).toMatch(/signature +webhook-signature valid\n/)
    expect(valid).toContain('  "data": {\n      "id": 7\n    }')
    const invalid = block(output, bad!.uuid)
    expect(invalid).toMatch(/→ 401 \(signature bad_signature\)/)
    expect(invalid).toMatch(
      /signature +x-whisperer-signature invalid \(bad_signature: it does not match --secret\)/,
    )
    expect(invalid).toMatch(
      /signature +webhook-signature invalid \(bad_signature: it does not match --secret\)/,
    )
    // Not a terminal: no colours.
    expect(output).not.toContain('\x1b[')
    expect(await listener.stop()).toBe(0)
  })

  test('--status 500 makes a failed attempt; --json prints one JSON line per request', async () => {
    const listener = await listen(['--status', '500', '--json'])
    const whisperer = await db.whisperer()
    await subscribe(whisperer, 'acme', listener.url)

    const { outcomes } = await whisperer.deliverEvent({ id: 1 }, 'order-created', { async: false })
    const uuid = outcomes![0]!.uuid
    expect(outcomes).toMatchObject([{ delivered: false, status: 'pending', responseStatus: 500 }])
    expect(await whisperer.deliveries.attempts('acme', uuid)).toMatchObject([
      { attempt: 1, status: 500, errorKind: 'http', responseBody: '--status 500' },
    ])

    const output = await listener.waitFor((out) => out.endsWith('\n'))
    // The banner went to stderr: stdout is only the requests.
    const lines = output
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line))
    expect(lines).toEqual([
      expect.objectContaining({
        method: 'POST',
        path: '/',
        status: 500,
        event_type: 'order-created',
        event_uuid: uuidHex(uuid),
        webhook_id: uuidHex(uuid),
        seen: 1,
        signatures: null,
        headers: expect.objectContaining({ 'x-whisperer-event': 'order-created' }),
        body: { event: { type: 'order-created', uuid: uuidHex(uuid) }, data: { id: 1 } },
      }),
    ])
    expect(await listener.stop()).toBe(0)
  })

  test('--fail-first 1 gives two attempts, then the delivery is delivered', async () => {
    const listener = await listen(['--fail-first', '1', '--secret', 'right-secret'])
    const whisperer = await db.whisperer()
    await subscribe(whisperer, 'acme', listener.url, 'right-secret')

    const { deliveries } = await whisperer.deliverEvent({ id: 2 }, 'order-created')
    const uuid = deliveries[0]!.uuid
    for (let i = 0; i < 10 && (await whisperer.deliveries.get('acme', uuid)).status !== 'delivered'; i += 1) {
      await whisperer.processDue()
    }
    expect(await whisperer.deliveries.get('acme', uuid)).toMatchObject({ status: 'delivered', retryCount: 2 })
    expect(
      (await whisperer.deliveries.attempts('acme', uuid)).map((a) => [a.attempt, a.status, a.responseBody]),
    ).toEqual([
      [1, 500, '--fail-first 1: request 1 of this delivery'],
      [2, 200, 'ok'],
    ])

    const output = await listener.waitFor((out) => block(out, uuid, 2) !== '')
    expect(block(output, uuid, 1)).toMatch(/→ 500 \(--fail-first 1: request 1 of this delivery\)/)
    expect(block(output, uuid, 1)).toMatch(/signature +webhook-signature valid\n/)
    expect(block(output, uuid, 2)).toMatch(/→ 200\n/)
    expect(await listener.stop()).toBe(0)
  })

  test('--delay longer than the sender waits is a timeout; stopping does not wait for it', async () => {
    const listener = await listen(['--delay', '60000'])
    const whisperer = await db.whisperer({ requestTimeout: 0.2 })
    await subscribe(whisperer, 'acme', listener.url)

    const { outcomes } = await whisperer.deliverEvent({ id: 3 }, 'order-created', { async: false })
    expect(outcomes).toMatchObject([{ delivered: false, errorKind: 'timeout', responseStatus: null }])
    await listener.waitFor((out) => block(out, outcomes![0]!.uuid) !== '')
    expect(await listener.stop()).toBe(0)
  })
})

describe('without Whisperer', () => {
  test('any request is printed; another path is 404; colours only when the terminal takes them', async () => {
    const listener = await listen(['--path', '/hooks'], { FORCE_COLOR: '1' })
    const response = await fetch(listener.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer hunter2' },
      body: JSON.stringify({ hello: 'world' }),
    })
    expect(response.status).toBe(200)
    expect((await fetch(new URL('/elsewhere', listener.url))).status).toBe(404)
    const output = await listener.waitFor((out) => out.includes('/elsewhere'))
    expect(output).toContain('\x1b[')
    const plain = stripVTControlCharacters(output)
    expect(plain).toMatch(/POST \/hooks {2}→ 200\n/)
    expect(plain).toMatch(/authorization +Bearer \*{8}\n/)
    expect(plain).not.toContain('hunter2')
    expect(plain).toContain('"hello": "world"')
    expect(plain).toMatch(/GET \/elsewhere {2}→ 404 \(not \/hooks\)/)
    expect(await listener.stop()).toBe(0)
  })

  test('a wrong command line exits 2 and names the option; a taken port exits 1', async () => {
    const cases: [string[], string][] = [
      [['--port', '70000'], "option '-p, --port <port>' argument '70000' is invalid"],
      [['--status', '99'], "option '--status <code>' argument '99' is invalid"],
      [['--fail-first', '0'], "option '--fail-first <n>' argument '0' is invalid"],
      [['--delay', 'soon'], "option '--delay <ms>' argument 'soon' is invalid"],
      [['--path', 'hooks'], "option '--path <path>' argument 'hooks' is invalid"],
    ]
    for (const [args, message] of cases) {
      await expect(run(process.execPath, [cli, 'listen', ...args], { env })).rejects.toMatchObject({
        code: 2,
        stderr: expect.stringContaining(message),
      })
    }
    const taken = createServer()
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
    try {
      const { port } = taken.address() as AddressInfo
      await expect(
        run(process.execPath, [cli, 'listen', '--port', String(port)], { env }),
      ).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('the port is taken') })
    } finally {
      taken.close()
    }
    const help = await run(process.execPath, [cli, 'listen', '--help'], { env })
    expect(help.stdout).toContain('answered 401')
    expect(help.stdout).toContain('WHISPERER_ALLOW_PRIVATE_TARGETS=1')
  }, 60_000)
})
