import type { Database } from '../../src/storage/database.ts'
import { storeStatements } from '../../src/storage/store.ts'

/** A Database that counts the statements sent through it, by Store statement name where it knows it. */
export interface CountingDatabase extends Database {
  /** Statements so far; BEGIN and COMMIT of a transaction count as two. */
  readonly count: number
  /** Statements by Store statement name (`other` for the rest), so far. */
  breakdown(): Record<string, number>
  /** Starts counting again from zero (at the start of a measurement). */
  reset(): void
}

/**
 * Wraps a Database like test/support/counting-database.ts, but keeps counters instead of texts, so
 * that millions of statements cost no memory. Every process that talks to the database wraps its
 * Database with this, and the bench sums the counts.
 */
export function countingDatabase(inner: Database, schema: string): CountingDatabase {
  const names = new Map<string, string>()
  for (const [name, text] of storeStatements(schema)) names.set(text, name)
  const byText = new Map<string, number>()
  let count = 0
  const note = (text: string) => {
    count += 1
    byText.set(text, (byText.get(text) ?? 0) + 1)
  }
  return {
    kind: inner.kind,
    get count() {
      return count
    },
    reset() {
      count = 0
      byText.clear()
    },
    breakdown() {
      const result: Record<string, number> = {}
      for (const [text, n] of byText) {
        const name = names.get(text) ?? 'other'
        result[name] = (result[name] ?? 0) + n
      }
      return result
    },
    query(text, values, options) {
      note(text)
      return inner.query(text, values, options)
    },
    transaction(fn) {
      note('BEGIN')
      return inner
        .transaction((tx) =>
          fn({
            query(text, values) {
              note(text)
              return tx.query(text, values)
            },
          }),
        )
        .finally(() => note('COMMIT'))
    },
    listen: (channel, onNotify) => inner.listen(channel, onNotify),
    close: () => inner.close(),
  }
}

/** Adds statement breakdowns together. */
export function addBreakdowns(...parts: Record<string, number>[]): Record<string, number> {
  const sum: Record<string, number> = {}
  for (const part of parts) for (const [name, n] of Object.entries(part)) sum[name] = (sum[name] ?? 0) + n
  return sum
}
