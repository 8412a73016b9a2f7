import { fileURLToPath } from 'node:url'
import type { TestProject } from 'vitest/node'
import { initialisedDataDir } from '../../src/storage/pglite-database.ts'
import { startPostgres } from './postgres-server.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string | null
    /** The initialised PGlite data directory Whisperer ships (a tarball), which each test file loads. */
    pgliteDataDir: string
  }
}

/**
 * Finds or starts PostgreSQL once for the whole run. Without one, the PGlite half still runs and
 * the skip is announced; with WHISPERER_REQUIRE_POSTGRES=1 (CI) a missing server fails the run.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  project.provide('pgliteDataDir', fileURLToPath(initialisedDataDir))
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
  return async () => server?.stop()
}
