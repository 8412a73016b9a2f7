import { afterEach, test } from 'vitest'
import { onPostgres } from '../support/databases.ts'
import { closeRun, type LoadRun, orderUnderLoad } from './ordering-load.ts'

// Two `whisperer worker` processes deliver 200 keys × 20 events, in order, despite failures.
onPostgres((db) => {
  const run: LoadRun = { workers: [], server: null }
  afterEach(() => closeRun(run))

  test(
    'every lane is delivered in publish order, one attempt at a time, despite failures',
    () => orderUnderLoad(db, run),
    240_000,
  )
})
