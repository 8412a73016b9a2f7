import { createHash } from 'node:crypto'

/** Anything that runs a query: a pool, a client, a transaction. A caller's `tx` needs only this. */
export interface Queryable {
  query<R = Record<string, unknown>>(text: string, values?: unknown[]): Promise<{ rows: R[] }>
}

export interface QueryOptions {
  /** Run as a named prepared statement where the driver supports it (hot statements only). */
  prepare?: boolean
}

/**
 * The one storage seam: queries, transactions and notifications. Adapted from node-postgres and
 * PGlite; nothing above storage sees a driver.
 */
export interface Database {
  readonly kind: 'postgres' | 'pglite'
  query<R = Record<string, unknown>>(
    text: string,
    values?: unknown[],
    options?: QueryOptions,
  ): Promise<{ rows: R[] }>
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>
  /** Calls `onNotify` for each notification on `channel`; resolves to an unsubscribe function. */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>
  /** Closes what this adapter opened; a pool or instance passed in by the caller stays open. */
  close(): Promise<void>
}

/**
 * Names prepared statements by their text (a hash, so that a name never outlives its text and two
 * adapters on one connection agree); cached, as hot statements are named on every run.
 */
export function statementNames(): (text: string) => string {
  const names = new Map<string, string>()
  return (text) => {
    let name = names.get(text)
    if (!name) {
      name = `whisperer_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`
      names.set(text, name)
    }
    return name
  }
}
