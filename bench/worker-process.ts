/**
 * One worker process of a PostgreSQL scenario: `createWhisperer({ database, schema, ... })` and
 * `start()`, with the bench's engine options and its Database wrapped to count statements. Forked by
 * the runner with its settings in BENCH_WORKER (JSON: url, schema). It says `ready` once claiming,
 * and on `stop` reports what it used since then (statements, CPU, peak RSS), closes and exits. It
 * exits by itself when its parent goes.
 */

import { postgresDatabase } from '../src/storage/postgres-database.ts'
import { createWhisperer } from '../src/whisperer.ts'
import { countingDatabase } from './support/counting-database.ts'
import { allowedTargets as benchTargets, engineOptions, quietLog } from './support/settings.ts'
import { networkNamespace } from './support/worker-network.ts'

/** What a worker process reports when it stops. */
export interface WorkerReport {
  type: 'stats'
  statements: number
  breakdown: Record<string, number>
  cpuMicros: number
  maxRssKb: number
  errors: string[]
  /** The network namespace it ran in (`net:[inode]`), or null where there is no /proc. */
  netns: string | null
}

const { url, schema, metrics, applicationName, allowedTargets, prepare, listenUrl } = JSON.parse(
  process.env.BENCH_WORKER ?? '{}',
) as {
  url: string
  schema: string
  metrics?: boolean
  applicationName?: string
  allowedTargets?: string[]
  /** Through PgBouncer in transaction mode: false, and LISTEN on `listenUrl`, straight to the server. */
  prepare?: boolean
  listenUrl?: string
}
process.on('disconnect', () => process.exit(1))

const db = countingDatabase(
  postgresDatabase(url, {
    applicationName: applicationName ?? 'whisperer-bench-worker',
    ...(prepare === false ? { prepare } : {}),
    ...(listenUrl ? { listenUrl } : {}),
  }),
  schema,
)
const log = quietLog()
const whisperer = await createWhisperer({
  database: db,
  schema,
  migrate: false,
  allowedTargets: allowedTargets ?? benchTargets,
  ...engineOptions,
  metrics: metrics ?? true,
  logger: log.logger,
})
await whisperer.start()
db.reset()
const cpuAtReady = process.cpuUsage()
process.send?.({ type: 'ready' })

process.on('message', async (message: { type?: string }) => {
  if (message?.type !== 'stop') return
  const cpu = process.cpuUsage(cpuAtReady)
  const report: WorkerReport = {
    type: 'stats',
    statements: db.count,
    breakdown: db.breakdown(),
    cpuMicros: cpu.user + cpu.system,
    maxRssKb: process.resourceUsage().maxRSS,
    netns: networkNamespace(),
    errors:
      log.errors + log.warnings > 0
        ? [`a worker logged ${log.errors} errors, ${log.warnings} warnings`, ...log.samples]
        : [],
  }
  await whisperer.close()
  await db.close()
  process.send?.(report, () => process.exit(0))
})
