import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { freePort } from './postgres-server.ts'

/** A PgBouncer in front of a PostgreSQL server, started for a test file. */
export interface Pgbouncer {
  /** The same database as the server's URL, through the pooler. */
  url: string
  port: number
  /** Its process id, where it could be started. */
  pid: number | null
  stop(): Promise<void>
}

/** PgBouncer's binary: on the PATH, or where Debian installs it; null when it is not installed. */
export function findPgbouncer(): string | null {
  try {
    return execFileSync('sh', ['-c', 'command -v pgbouncer'], { encoding: 'utf8' }).trim() || null
  } catch {
    return existsSync('/usr/sbin/pgbouncer') ? '/usr/sbin/pgbouncer' : null
  }
}

/** A value of a libpq connection string, quoted. */
const quoted = (value: string) => `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`

/**
 * Starts PgBouncer in `poolMode` in front of the server at `serverUrl`, on a free loopback port,
 * with `poolSize` server connections per database and user. Clients are not authenticated
 * (`auth_type = any`); PgBouncer logs in to the server as the URL's user. As root it drops to the
 * `postgres` user (it refuses to run as root). Resolves once it accepts a query.
 */
export async function startPgbouncer(
  binary: string,
  serverUrl: string,
  options: {
    poolMode: 'transaction' | 'session'
    poolSize: number
    /** Addresses to listen on; the URL names the first. @default ['127.0.0.1'] */
    listen?: string[]
  },
): Promise<Pgbouncer> {
  const server = new URL(serverUrl)
  const dir = mkdtempSync(join(tmpdir(), 'whisperer-pgbouncer-'))
  chmodSync(dir, 0o777)
  const port = await freePort()
  const login = [
    `host=${quoted(server.hostname)}`,
    `port=${server.port || '5432'}`,
    `user=${quoted(decodeURIComponent(server.username || 'postgres'))}`,
    ...(server.password ? [`password=${quoted(decodeURIComponent(server.password))}`] : []),
  ].join(' ')
  const config = join(dir, 'pgbouncer.ini')
  writeFileSync(
    config,
    [
      '[databases]',
      `* = ${login}`,
      '[pgbouncer]',
      `listen_addr = ${(options.listen ?? ['127.0.0.1']).join(',')}`,
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = any',
      `pool_mode = ${options.poolMode}`,
      `default_pool_size = ${options.poolSize}`,
      'max_client_conn = 200',
      `logfile = ${join(dir, 'pgbouncer.log')}`,
      '',
    ].join('\n'),
  )
  chmodSync(config, 0o644)
  const args = process.getuid?.() === 0 ? ['-u', 'postgres', config] : [config]
  const child: ChildProcess = spawn(binary, args, { stdio: 'ignore' })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))])
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    }
    rmSync(dir, { recursive: true, force: true })
  }
  const url = `postgres://${server.username || 'postgres'}@${options.listen?.[0] ?? '127.0.0.1'}:${port}${server.pathname}`
  // Up to 10 s for it to accept a query.
  for (let attempt = 0; ; attempt += 1) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 })
    try {
      await client.connect()
      await client.query('SELECT 1')
      await client.end()
      return { url, port, pid: child.pid ?? null, stop }
    } catch (error) {
      await client.end().catch(() => {})
      if (attempt >= 50 || child.exitCode !== null) {
        await stop()
        throw new Error(`PgBouncer did not start: ${(error as Error).message}`)
      }
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  }
}
