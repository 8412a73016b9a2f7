import { execFileSync, spawnSync } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A PostgreSQL server for the test run: one named by DATABASE_URL, or a throwaway cluster. */
export interface PostgresServer {
  url: string
  stop(): void
}

/** Finds PostgreSQL's server binaries: `pg_config --bindir`, or Debian's and common install paths. */
export function findPostgresBinaries(): string | null {
  const candidates: string[] = []
  try {
    candidates.push(
      execFileSync('pg_config', ['--bindir'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim(),
    )
  } catch {}
  for (const root of ['/usr/lib/postgresql', '/usr/local/pgsql', '/opt/homebrew/opt']) {
    if (!existsSync(root)) continue
    for (const entry of readdirSync(root).sort().reverse()) candidates.push(join(root, entry, 'bin'))
  }
  candidates.push('/usr/local/bin', '/usr/bin')
  return candidates.find((dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'))) ?? null
}

/** A TCP port free on the loopback address now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/** A throwaway cluster, with what a test needs to run `pg_ctl` on it itself (restarts, crashes). */
export interface ThrowawayCluster extends PostgresServer {
  /** The directory of PostgreSQL's binaries. */
  bin: string
  /** The cluster's data directory (`pg_ctl -D`). */
  data: string
  /** The server's log file (`pg_ctl -l`). */
  log: string
}

/** The command line running a PostgreSQL binary: as root, as the `postgres` user (initdb refuses root). */
export function asServerUser(command: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args]
}

/** Runs `pg_ctl` on a throwaway cluster (`stop -m immediate`, `start -w`...), as the server's user. */
export function pgCtl(cluster: ThrowawayCluster, ...args: string[]): void {
  const [file, argv] = asServerUser(join(cluster.bin, 'pg_ctl'), [
    '-D',
    cluster.data,
    '-l',
    cluster.log,
    ...args,
  ])
  execFileSync(file, argv, { stdio: 'ignore' })
}

export interface ThrowawayOptions {
  /** Server settings beyond the port, socket directory and listen address. @default none */
  settings?: Record<string, string>
  /** How `stop()` shuts the server down. @default 'immediate' */
  stopMode?: 'fast' | 'immediate'
  /** @default 'whisperer-pg-' */
  directoryPrefix?: string
}

/**
 * Starts a throwaway cluster in a temporary directory, on a free port with trust auth. `initdb`
 * refuses to run as root, so as root it runs as the `postgres` user. `--no-sync` only spares
 * initdb's own final fsync. `stop()` stops the server and removes the directory, once.
 */
export async function startThrowawayCluster(
  bin: string,
  options: ThrowawayOptions = {},
): Promise<ThrowawayCluster> {
  const dir = mkdtempSync(join(tmpdir(), options.directoryPrefix ?? 'whisperer-pg-'))
  chmodSync(dir, 0o777)
  const data = join(dir, 'data')
  const log = join(dir, 'log')
  const port = await freePort()
  const run = (command: string, args: string[]) => {
    const [file, argv] = asServerUser(command, args)
    const result = spawnSync(file, argv, { encoding: 'utf8' })
    if (result.status !== 0) {
      throw new Error(
        `${command} failed (${result.status}): ${result.stderr || result.stdout || result.error}`,
      )
    }
  }
  const settings = Object.entries(options.settings ?? {}).map(([name, value]) => ` -c ${name}=${value}`)
  try {
    run(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8'])
    const serverOptions = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1${settings.join('')}`
    run(join(bin, 'pg_ctl'), ['-D', data, '-o', serverOptions, '-l', log, '-w', 'start'])
  } catch (error) {
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
  let stopped = false
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    bin,
    data,
    log,
    stop() {
      if (stopped) return
      stopped = true
      try {
        run(join(bin, 'pg_ctl'), ['-D', data, '-m', options.stopMode ?? 'immediate', 'stop'])
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    },
  }
}

/**
 * The PostgreSQL half of the suite's database: DATABASE_URL if set, else a throwaway cluster from
 * installed binaries (fsync off: the tests check behaviour, not durability), else null (the
 * PostgreSQL tests are skipped, and said to be).
 */
export async function startPostgres(env: NodeJS.ProcessEnv): Promise<PostgresServer | null> {
  if (env.DATABASE_URL) return { url: env.DATABASE_URL, stop() {} }
  const bin = findPostgresBinaries()
  return bin ? startThrowawayCluster(bin, { settings: { max_connections: '200', fsync: 'off' } }) : null
}
