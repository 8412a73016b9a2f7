import type { Database } from '../../src/storage/database.ts'

/** Wraps a Database and counts the statements sent through it (caller transactions excluded). */
export function countingDatabase(inner: Database): Database & { statements: string[] } {
  const statements: string[] = []
  return {
    kind: inner.kind,
    statements,
    query(text, values, options) {
      statements.push(text)
      return inner.query(text, values, options)
    },
    transaction(fn) {
      return inner.transaction((tx) =>
        fn({
          query(text, values) {
            statements.push(text)
            return tx.query(text, values)
          },
        }),
      )
    },
    listen: (channel, onNotify) => inner.listen(channel, onNotify),
    close: () => inner.close(),
  }
}
