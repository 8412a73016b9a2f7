import { type SQL, type SQLChunk, type SQLWrapper, sql } from 'drizzle-orm'
import type { Queryable } from '../storage/database.ts'

/** What {@link drizzleTx} needs of Drizzle: any PostgreSQL database or transaction has it. */
export interface DrizzleExecutor {
  execute(query: SQLWrapper): PromiseLike<unknown>
}

/**
 * A Drizzle transaction (or database) as `deliverEvent`'s `tx`, so the event commits or rolls back
 * with it: `whisperer.deliverEvent(order, 'order-created', { tx: drizzleTx(tx) })`. It runs on
 * whatever driver Drizzle was given (node-postgres, PGlite, postgres.js and others).
 */
export function drizzleTx(executor: DrizzleExecutor): Queryable {
  return {
    async query<R>(text: string, values: unknown[] = []) {
      const result = await executor.execute(parameterized(text, values))
      // node-postgres and PGlite answer { rows }; postgres.js answers the rows themselves.
      return { rows: (Array.isArray(result) ? result : (result as { rows: R[] }).rows) as R[] }
    },
  }
}

/**
 * `text` with its `$n` placeholders bound to `values`, as Drizzle SQL. Drizzle numbers parameters
 * itself, in order, so each placeholder is bound where it first appears and its later uses name
 * Drizzle's number for it: a value used twice is sent once, as PostgreSQL would have it. Whisperer's
 * statements have no `$n` inside a string literal, which this would take for a placeholder.
 */
export function parameterized(text: string, values: readonly unknown[]): SQL {
  const chunks: SQLChunk[] = []
  const numbers = new Map<number, number>()
  let last = 0
  for (const match of text.matchAll(/\$(\d+)/g)) {
    const placeholder = Number(match[1])
    if (placeholder < 1 || placeholder > values.length) {
      throw new RangeError(`$${placeholder} has no value (${values.length} given)`)
    }
    chunks.push(sql.raw(text.slice(last, match.index)))
    const bound = numbers.get(placeholder)
    if (bound === undefined) {
      numbers.set(placeholder, numbers.size + 1)
      chunks.push(sql.param(values[placeholder - 1]))
    } else {
      chunks.push(sql.raw(`$${bound}`))
    }
    last = match.index + match[0].length
  }
  chunks.push(sql.raw(text.slice(last)))
  return sql.join(chunks)
}
