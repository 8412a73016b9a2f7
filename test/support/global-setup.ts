import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import type { TestProject } from 'vitest/node'
import { startPostgres } from './postgres-server.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string | null
    /** A PGlite data directory, initialised once for the run (a tarball), which each test file loads. */
    pgliteDataDir: string
  }
}

/**
 * Runs PGlite's initdb once and keeps the data directory as a tarball: a test file's PGlite loads
 * it in a fraction of initdb's time.
 */
async function pgliteDataDir(): Promise<{ file: string; remove: () => Promise<void> }> {
  const directory = await mkdtemp(join(tmpdir(), 'whisperer-test-'))
  const file = join(directory, 'pglite.tar')
  const pglite = await PGlite.create()
  await writeFile(file, Buffer.from(await (await pglite.dumpDataDir('none')).arrayBuffer()))
  await pglite.close()
  return { file, remove: () => rm(directory, { recursive: true, force: true }) }
}

/**
 * Finds or starts PostgreSQL once for the whole run. Without one, the PGlite half still runs and
 * the skip is announced; with WHISPERER_REQUIRE_POSTGRES=1 (CI) a missing server fails the run.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dataDir = await pgliteDataDir()
  project.provide('pgliteDataDir', dataDir.file)
  const required = process.env.WHISPERER_REQUIRE_POSTGRES === '1'
  let server: Awaited<ReturnType<typeof startPostgres>>
  try {
    server = await startPostgres(process.env)
  } catch (error) {
    if (required) throw error
    console.warn(`\n!! Could not start PostgreSQL (${(error as Error).message}).`)
    server = null
  }
  if (!server) {
    if (required)
      throw new Error('WHISPERER_REQUIRE_POSTGRES=1 but no PostgreSQL was found: set DATABASE_URL')
    console.warn(
      '\n!! No PostgreSQL found (set DATABASE_URL or install the server): the PostgreSQL half of the suite is SKIPPED.\n',
    )
  } else {
    const pg = (await import('pg')).default
    const client = new pg.Client({ connectionString: server.url })
    await client.connect()
    const { rows } = await client.query<{ server_version: string }>('SHOW server_version')
    await client.end()
    console.log(`PostgreSQL ${rows[0]?.server_version} at ${server.url.replace(/:[^:@/]*@/, ':***@')}`)
  }
  project.provide('postgresUrl', server?.url ?? null)
  return async () => {
    await server?.stop()
    await dataDir.remove()
  }
}
