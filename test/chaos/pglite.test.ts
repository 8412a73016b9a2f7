import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, test } from 'vitest'
import { stop } from './processes.ts'
import { openWorld, readSnapshot, runUnderLoad, type World } from './scenario.ts'
import { expectSound } from './verdict.ts'

let world: World | undefined
let directory: string | undefined
afterEach(async () => {
  await world?.close()
  world = undefined
  if (directory) rmSync(directory, { recursive: true, force: true })
})

// `whisperer serve` on an embedded PGlite directory, SIGKILLed mid-load: the directory is reopened
// (first to read it, then by a new `whisperer serve`) and nothing acknowledged is lost.
test('SIGKILL of an embedded PGlite service, then a reopen', async () => {
  directory = mkdtempSync(join(tmpdir(), 'whisperer-chaos-pglite-'))
  const database = join(directory, 'data')
  // One process holds the whole database, so a modest load; a lease outlasting a busy moment.
  world = await openWorld({
    name: 'pglite-kill',
    database,
    schema: 'whisperer',
    perSecond: 5,
    env: { WHISPERER_LEASE_SECONDS: '10' },
  })
  const running = world
  const run = await runUnderLoad(
    running,
    async () => {
      const faultAt = Date.now()
      await stop(running.serve, 'SIGKILL')
      const inFlightUntil = Date.now()
      const snapshot = await readSnapshot(database, running.schema)
      await running.restartServe()
      return { faultAt, backAt: Date.now(), snapshot, inFlightUntil }
    },
    true,
  )
  expectSound(run)
})
