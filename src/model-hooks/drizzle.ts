import { type Column, getTableColumns, getTableName, is, QueryPromise, type SQL, sql } from 'drizzle-orm'
import { type PgDatabase, type PgQueryResultHKT, type PgTable, PgTransaction } from 'drizzle-orm/pg-core'
import { WhispererError } from '../core/errors.ts'
import type { Whisperer } from '../whisperer.ts'
import { drizzleTx } from './drizzle-tx.ts'

export { type DrizzleExecutor, drizzleTx } from './drizzle-tx.ts'

/**
 * The event types fired by one table's writes, as durian's ModelHook bound a model's signals. Each
 * row written is one event, whose instance is the row as Drizzle returns it (JavaScript keys and
 * values): as inserted, as updated, or as it was before it was deleted.
 */
export interface ModelHook {
  table: PgTable
  /** Fired for each row an insert writes (with `onConflictDoUpdate`: each row it inserts). */
  insert?: string
  /** Fired for each row an update changes, and each row an insert's `onConflictDoUpdate` updates. */
  update?: string
  /** Fired for each row a delete removes. */
  delete?: string
}

type Action = 'insert' | 'update' | 'delete'
type DrizzleDatabase = PgDatabase<PgQueryResultHKT, Record<string, unknown>>
/** A query builder, seen loosely: its methods are called by name when a write is replayed. */
type Builder = Record<string, (...args: unknown[]) => unknown>
type Fields = Record<string, unknown>

interface Scope {
  whisperer: Whisperer
  hooks: Map<PgTable, ModelHook>
  /** Where a hooked write outside a transaction opens its own. */
  database: DrizzleDatabase
  /** The transaction the writes run in; null on the database itself. */
  transaction: DrizzleDatabase | null
  /** What `insert`, `update` and `delete` are called on, from a database or transaction (`with(...)`). */
  origin: (executor: DrizzleDatabase) => Builder
}

interface Write {
  scope: Scope
  hook: ModelHook
  action: Action
  /** The builder's method calls, replayed on the transaction that runs the write. */
  steps: [method: string, args: unknown[]][]
}

/** The names under which every column comes back beside the caller's own `returning` fields. */
const columnKey = (key: string) => `whisperer:${key}`
const insertedKey = 'whisperer:inserted'

/** The databases and transactions with model hooks, which must not be hooked twice. */
const hookedDatabases = new WeakSet<object>()

/**
 * `db` with model hooks: every insert, update and delete of a hooked table (through `db`, its
 * transactions and `db.with(...)`) enqueues one event per row it writes in the same transaction
 * as the write, so a write that rolls back delivers nothing and one that commits delivers once. A
 * hooked write made outside a transaction runs in one of its own. Raw SQL (`db.execute`) and
 * prepared statements are not seen. The event types must be registered first.
 */
export function withModelHooks<D extends DrizzleDatabase>(
  whisperer: Whisperer,
  db: D,
  hooks: readonly ModelHook[],
): D {
  if (hookedDatabases.has(db)) {
    throw new WhispererError(
      'invalid_options',
      'This database has model hooks already: pass them all at once',
    )
  }
  const byTable = new Map<PgTable, ModelHook>()
  for (const hook of hooks) {
    if (byTable.has(hook.table)) {
      throw new WhispererError('invalid_options', `Table "${getTableName(hook.table)}" has two model hooks`)
    }
    for (const type of [hook.insert, hook.update, hook.delete]) {
      if (type !== undefined) whisperer.eventTypes.registry.get(type)
    }
    byTable.set(hook.table, hook)
  }
  const transaction = is(db, PgTransaction) ? db : null
  return hooked(db, { whisperer, hooks: byTable, database: db, transaction, origin: (e) => e as never })
}

/** A database, transaction or `with(...)` whose writes to hooked tables fire events. */
function hooked<T extends object>(target: T, scope: Scope): T {
  const proxy = new Proxy(target, {
    get(object, property) {
      const value = Reflect.get(object, property, object)
      if (typeof value !== 'function') return value
      if (property === 'insert' || property === 'update' || property === 'delete') {
        return (table: PgTable) => {
          const builder = value.call(object, table)
          const hook = scope.hooks.get(table)
          const fires = property === 'insert' ? (hook?.insert ?? hook?.update) : hook?.[property]
          return hook && fires ? statement(builder, { scope, hook, action: property, steps: [] }) : builder
        }
      }
      if (property === 'transaction') {
        return (fn: (tx: DrizzleDatabase) => unknown, config?: unknown) =>
          value.call(
            object,
            (tx: DrizzleDatabase) => fn(hooked(tx, { ...scope, transaction: tx, origin: (e) => e as never })),
            config,
          )
      }
      if (property === 'with') {
        return (...queries: unknown[]) =>
          hooked(value.apply(object, queries), {
            ...scope,
            origin: (e) => scope.origin(e).with!(...queries) as Builder,
          })
      }
      return value.bind(object)
    },
  })
  hookedDatabases.add(proxy)
  return proxy
}

/** A write to a hooked table: built as usual, run with its events when awaited or executed. */
function statement<B extends object>(builder: B, write: Write): B {
  return new Proxy(builder, {
    get(object, property) {
      const value = Reflect.get(object, property, object)
      if (typeof value !== 'function') return value
      const run = () => runWrite(write, object as Builder)
      if (property === 'then') return (resolve?: never, reject?: never) => run().then(resolve, reject)
      if (property === 'catch') return (reject?: never) => run().catch(reject)
      if (property === 'finally') return (fn?: () => void) => run().finally(fn)
      if (property === 'execute') {
        return (...args: unknown[]) => {
          if (args[0] !== undefined) throw preparedRefused()
          return run()
        }
      }
      if (property === 'prepare') {
        return () => {
          throw preparedRefused()
        }
      }
      return (...args: unknown[]) => {
        const result = value.apply(object, args)
        if (result !== object && !is(result, QueryPromise)) return result
        return statement(result, { ...write, steps: [...write.steps, [property as string, args]] })
      }
    },
  })
}

function preparedRefused(): WhispererError {
  return new WhispererError(
    'invalid_options',
    'A write to a table with model hooks cannot be prepared or given placeholder values',
  )
}

async function runWrite(write: Write, original: Builder): Promise<unknown> {
  const { hook, action, scope } = write
  const upsert = action === 'insert' && write.steps.some(([method]) => method === 'onConflictDoUpdate')
  // An insert hooked only for its updates fires nothing unless it is an upsert.
  if (action === 'insert' && !hook.insert && !upsert) return original.execute!()
  const { transaction } = scope
  return transaction
    ? writeWithEvents(write, transaction, upsert)
    : scope.database.transaction((tx) => writeWithEvents(write, tx as DrizzleDatabase, upsert))
}

/**
 * Replays the write on `tx` with every column returned (and, for an upsert, whether each row was
 * inserted), enqueues one event per row on `tx`, and resolves to what the write alone would have:
 * the caller's `returning` rows, or the driver's result when it asked for none.
 */
async function writeWithEvents(write: Write, tx: DrizzleDatabase, upsert: boolean): Promise<unknown> {
  const { hook, action, scope } = write
  let builder = scope.origin(tx)[action]!(hook.table) as Builder
  let selection: Fields | undefined | null = null
  for (const [method, args] of write.steps) {
    if (method === 'returning') selection = args[0] as Fields | undefined
    else builder = builder[method]!(...args) as Builder
  }
  const columns = getTableColumns(hook.table) as Record<string, Column>
  const inserted: Fields = upsert ? { [insertedKey]: sql<boolean>`(xmax = 0)`.as(insertedKey) } : {}
  let result: unknown
  let written: { row: Fields; inserted: unknown }[]
  if (selection === null) {
    result = await tx.execute(builder.returning!({ ...columns, ...inserted }) as SQL)
    const rows = (Array.isArray(result) ? result : (result as { rows: Fields[] }).rows) as Fields[]
    written = rows.map((raw) => ({ row: fromDriver(columns, raw), inserted: raw[insertedKey] }))
  } else {
    const hidden = Object.fromEntries(
      Object.entries(columns).map(([key, column]) => [columnKey(key), column]),
    )
    const rows = (await builder.returning!({ ...selection, ...hidden, ...inserted })) as Fields[]
    written = rows.map((row) => ({
      row: Object.fromEntries(Object.keys(columns).map((key) => [key, row[columnKey(key)]])),
      inserted: row[insertedKey],
    }))
    const keys = selection ? Object.keys(selection) : null
    result = rows.map((row, i) =>
      keys ? Object.fromEntries(keys.map((key) => [key, row[key]])) : { ...written[i]!.row },
    )
  }
  const queryable = drizzleTx(tx)
  for (const { row, inserted } of written) {
    const type = upsert && inserted === false ? hook.update : hook[action]
    if (type) await scope.whisperer.deliverEvent(row, type, { tx: queryable })
  }
  return result
}

/** A row as the driver returned it, keyed and decoded as Drizzle would have (JavaScript keys). */
function fromDriver(columns: Record<string, Column>, raw: Fields): Fields {
  return Object.fromEntries(
    Object.entries(columns).map(([key, column]) => {
      const value = raw[column.name]
      return [key, value === null || value === undefined ? null : column.mapFromDriverValue(value)]
    }),
  )
}
