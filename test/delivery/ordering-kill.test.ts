import { afterEach, test } from 'vitest'
import { onPostgres } from '../support/databases.ts'
import { closeRun, type LoadRun, orderThroughKill } from './ordering-load.ts'

// Two `whisperer worker` processes, one SIGKILLed midway: a lane's head in flight is sent again at
// its lease expiry, before anything after it in its lane.
onPostgres((db) => {
  const run: LoadRun = { workers: [], server: null }
  afterEach(() => closeRun(run))

  test(
    'a worker SIGKILLed midway: order holds, and only lane heads are sent twice',
    () => orderThroughKill(db, run),
    240_000,
  )
})
