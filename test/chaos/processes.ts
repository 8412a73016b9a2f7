import { type ChildProcess, spawn } from 'node:child_process'

/** The CLI entry point the chaos suite runs, as a user runs `whisperer`. */
export const cliEntry = new URL('../../src/cli/bin.ts', import.meta.url).pathname

/** How long a process may take to start, and to exit after a signal. */
const startTimeoutMs = 60_000
const exitTimeoutMs = 30_000

/** A `whisperer serve` or `whisperer worker` running in a child process. */
export interface WhispererProcess {
  child: ChildProcess
  /** Resolves with the exit code, or the signal's name. */
  exited: Promise<number | string>
  /** The tail of its output, for failure messages. */
  output(): string
}

/** Settings every chaos process gets: loopback targets, quick polling, short leases. */
export function processEnv(database: string, schema: string): Record<string, string> {
  const { DATABASE_URL: _unset, ...env } = process.env
  return {
    ...(env as Record<string, string>),
    DATABASE_URL: database,
    WHISPERER_SCHEMA: schema,
    WHISPERER_ALLOWED_TARGETS: '127.0.0.1',
    WHISPERER_POLL_INTERVAL: '200',
    WHISPERER_LEASE_SECONDS: '3',
    WHISPERER_LOG_LEVEL: 'info',
  }
}

/** Spawns the CLI with `args`; resolves once a line of its output matches `ready`. */
function start(args: string[], env: Record<string, string>, ready: RegExp): Promise<WhispererProcess> {
  const child = spawn(process.execPath, [cliEntry, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let tail = ''
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-20_000)
  }
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  )
  const running: WhispererProcess = { child, exited, output: () => tail }
  child.stderr!.on('data', keep)
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`whisperer ${args.join(' ')} did not start:\n${tail}`))
    }, startTimeoutMs)
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`whisperer ${args.join(' ')} exited with ${code}:\n${tail}`))
    })
    child.stdout!.on('data', (chunk: Buffer) => {
      keep(chunk)
      if (ready.test(tail)) {
        clearTimeout(timer)
        resolve(running)
      }
    })
  })
}

/** `whisperer serve` on loopback; `port` 0 picks a free one. Resolves once it serves. */
export async function startServe(
  env: Record<string, string>,
  port: number,
  config: string,
): Promise<WhispererProcess & { url: string; port: number; adminToken: string | null }> {
  const args = ['serve', '--host', '127.0.0.1', '--port', String(port), '--config', config]
  const running = await start(args, env, /"msg":"Whisperer is serving"/)
  const output = running.output()
  const url = /"url":"(http:\/\/127\.0\.0\.1:(\d+))\/whisperer\/"/.exec(output)
  if (!url) throw new Error(`serve announced no URL:\n${output}`)
  const token = /\n {2}(wh_[a-z0-9]{12}_[A-Za-z0-9_-]{43})\n/.exec(output)
  return { ...running, url: url[1]!, port: Number(url[2]), adminToken: token?.[1] ?? null }
}

/** `whisperer worker`; resolves once it claims. */
export function startWorker(env: Record<string, string>): Promise<WhispererProcess> {
  return start(['worker'], env, /Whisperer worker started/)
}

/** Sends `signal` and waits for the exit. */
export async function stop(
  running: WhispererProcess | undefined,
  signal: NodeJS.Signals,
): Promise<number | string | null> {
  if (!running || running.child.exitCode !== null || running.child.signalCode !== null) return null
  running.child.kill(signal)
  const timer = setTimeout(() => running.child.kill('SIGKILL'), exitTimeoutMs)
  try {
    return await running.exited
  } finally {
    clearTimeout(timer)
  }
}

/** Runs a command to its exit, without blocking this process's event loop (the load goes on). */
export function runCommand(file: string, args: string[], timeoutMs = 60_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'] })
    let errors = ''
    child.stderr!.on('data', (chunk: Buffer) => {
      errors += chunk.toString()
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.once('exit', (code) => {
      clearTimeout(timer)
      if (code === 0) resolve()
      else reject(new Error(`${file} ${args.join(' ')} failed (${code}): ${errors}`))
    })
  })
}
