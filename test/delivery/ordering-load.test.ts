import { afterEach, test } from 'vitest'
import { forEachDatabase } from '../support/databases.ts'
import { closeRun, type LoadRun, orderUnderLoad } from './ordering-load.ts'

// PGlite here (one process, the publisher's, is its worker); PostgreSQL's two worker processes in
// ordering-load-processes.test.ts: each file within its time.
forEachDatabase((db) => {
  const run: LoadRun = { workers: [], server: null }
  afterEach(() => closeRun(run))

  test.runIf(db.kind === 'pglite')(
    'every lane is delivered in publish order, one attempt at a time, despite failures',
    () => orderUnderLoad(db, run),
    240_000,
  )
})
