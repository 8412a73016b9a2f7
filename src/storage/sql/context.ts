import { KeyRing } from '../../core/key-ring.ts'
import type { Database, Queryable, QueryOptions } from '../database.ts'
import { quoteIdentifier } from '../identifier.ts'
import { ClaimedWebhooks } from './claimed-webhooks.ts'
import type { Statement } from './statement.ts'

/**
 * Told of what statements did, for metrics (storage does not know who listens): a statement that
 * failed, by name, and deliveries cancelled beside a completion (a webhook deleted, deactivated
 * or disabled for failing).
 */
export interface StoreObserver {
  statementFailed?(name: string, error: unknown): void
  deliveriesCancelled?(count: number): void
}

/** What the statements of one store share: the database, its schema, and texts built once. */
export class Sql {
  readonly db: Database
  readonly schema: string
  /** The quoted schema name, as statement texts use it. */
  readonly s: string
  /** The NOTIFY channel that wakes workers when deliveries are due. */
  readonly channel: string
  readonly #texts = new Map<Statement, string>()
  /** Webhooks as sending needs them, kept between claims. */
  readonly webhooks = new ClaimedWebhooks()
  /** Weekly attempt partitions known to exist, by name. */
  readonly partitions = new Set<string>()
  observer: StoreObserver = {}
  /** Seals secrets as they are written and opens them as they are read. */
  readonly keys: KeyRing

  constructor(db: Database, schema: string, keys: KeyRing = new KeyRing()) {
    this.db = db
    this.keys = keys
    this.schema = schema
    this.s = quoteIdentifier(schema)
    this.channel = `whisperer_${schema}`
  }

  /** The statement's text for this schema, built on first use. */
  text(st: Statement): string {
    let text = this.#texts.get(st)
    if (text === undefined) {
      text = st.text(this.s)
      this.#texts.set(st, text)
    }
    return text
  }

  /** Runs a statement on the database, or on `tx` when given (a caller's transaction). */
  query<R = Record<string, unknown>>(
    st: Statement,
    values: unknown[] = [],
    options: QueryOptions & { tx?: Queryable } = {},
  ): Promise<{ rows: R[] }> {
    const { tx, ...queryOptions } = options
    const result = tx
      ? tx.query<R>(this.text(st), values)
      : this.db.query<R>(this.text(st), values, queryOptions)
    if (!this.observer.statementFailed) return result
    return result.catch((error: unknown) => {
      // An integrity violation is an answer the caller turns into a domain error, not a failure.
      if (!String((error as { code?: unknown }).code ?? '').startsWith('23'))
        this.observer.statementFailed?.(st.name, error)
      throw error
    })
  }

  /** Reports deliveries a statement cancelled. */
  cancelled(count: number | string | undefined): void {
    const n = Number(count ?? 0)
    if (n > 0) this.observer.deliveriesCancelled?.(n)
  }
}
