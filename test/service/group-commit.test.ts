import { expect, test } from 'vitest'
import { GroupCommit } from '../../src/service/group-commit.ts'

/** Holds this thread for `ms`, as a PGlite query does while it runs. */
function block(ms: number): void {
  const until = performance.now() + ms
  while (performance.now() < until) {}
}

test('calls made while a batch is written go together in the next one', async () => {
  const batches: number[][] = []
  const commit = new GroupCommit<number, number>(async (items) => {
    batches.push(items)
    return items
  }, 500)
  const first = commit.submit(1)
  await Promise.all([commit.submit(2), commit.submit(3)])
  await first
  expect(batches).toEqual([[1, 2, 3]])
})

test('calls that arrive while a write holds the thread (PGlite) join one next batch, not one each', async () => {
  const batches: number[][] = []
  const later: Promise<number>[] = []
  const commit = new GroupCommit<number, number>(async (items) => {
    batches.push(items)
    if (batches.length === 1) {
      // Two callers whose requests were read while this write ran on the thread (as a PGlite
      // query does): they call once the write is over.
      setImmediate(() => later.push(commit.submit(2)))
      setImmediate(() => later.push(commit.submit(3)))
      block(20)
    }
    return items
  }, 500)
  await commit.submit(1)
  await new Promise((resolve) => setImmediate(resolve))
  expect(await Promise.all(later)).toEqual([2, 3])
  expect(batches).toEqual([[1], [2, 3]])
})
