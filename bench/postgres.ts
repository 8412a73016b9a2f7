/**
 * The PostgreSQL server the bench measures on: the one DATABASE_URL names, or a throwaway cluster
 * started from the installed binaries with PostgreSQL's DEFAULT settings (fsync and
 * synchronous_commit on; unlike the tests' cluster, which turns fsync off). Modelled on
 * test/support/postgres-server.ts.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface BenchPostgres {
  url: string
  /** `DATABASE_URL`, or a throwaway cluster. */
  origin: string
  stop(): void
}

function findBinaries(): string | null {
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

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/**
 * initdb and pg_ctl start in a temporary directory, on a free port with trust auth; as root (initdb
 * refuses root) they run as the `postgres` user. Only the port, the socket directory and the listen
 * address are set: every other setting is PostgreSQL's default. `--no-sync` only spares initdb's
 * own final fsync; the server then runs with fsync on.
 */
function startThrowaway(bin: string, port: number): BenchPostgres {
  const dir = mkdtempSync(join(tmpdir(), 'whisperer-bench-pg-'))
  chmodSync(dir, 0o777)
  const data = join(dir, 'data')
  const asRoot = process.getuid?.() === 0
  const run = (command: string, args: string[]) => {
    const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args]
    const result = spawnSync(file, argv, { encoding: 'utf8' })
    if (result.status !== 0) {
      throw new Error(
        `${command} failed (${result.status}): ${result.stderr || result.stdout || result.error}`,
      )
    }
  }
  try {
    run(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8'])
    const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`
    run(join(bin, 'pg_ctl'), ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', 'start'])
  } catch (error) {
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
  let stopped = false
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    origin: 'throwaway cluster (the installed server binaries, default settings)',
    stop() {
      if (stopped) return
      stopped = true
      try {
        run(join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', 'stop'])
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    },
  }
}

/** DATABASE_URL if set, else a throwaway cluster, else null (the PostgreSQL half is skipped). */
export async function startPostgres(env: NodeJS.ProcessEnv): Promise<BenchPostgres | null> {
  if (env.DATABASE_URL) return { url: env.DATABASE_URL, origin: 'DATABASE_URL', stop() {} }
  const bin = findBinaries()
  return bin ? startThrowaway(bin, await freePort()) : null
}
