/**
 * Creates the PGlite data directory the bench copies for each run: `openDatabase(dir)` on an empty
 * directory runs PGlite's initdb there (with Whisperer's PGlite settings), then closes it cleanly.
 * Run by bench/runner.ts in a process of its own, once per bench run, so that initdb's memory
 * peak (about 1 GB) is not counted in the runner, which publishes and delivers. It prints, as JSON,
 * how long initdb took, that peak, and the server's version and settings (every copy has the same:
 * Whisperer's PGlite settings are in the directory's postgresql.conf).
 *
 *   node bench/pglite-init.ts <directory>
 */
import { openDatabase } from '../src/storage/open-database.ts'

const dir = process.argv[2]
if (!dir) {
  console.error('usage: node bench/pglite-init.ts <directory>')
  process.exit(2)
}
const started = performance.now()
const db = await openDatabase(dir)
const seconds = (performance.now() - started) / 1000
const { rows: version } = await db.query<{ version: string }>('SELECT version()')
const { rows: settings } = await db.query<{ name: string; setting: string; unit: string | null }>(
  `SELECT name, setting, unit FROM pg_settings
   WHERE name IN ('shared_buffers', 'max_wal_size', 'min_wal_size', 'wal_buffers', 'fsync')`,
)
await db.close()
console.log(
  JSON.stringify({
    seconds,
    maxRssKb: process.resourceUsage().maxRSS,
    version: version[0]?.version,
    settings,
  }),
)
