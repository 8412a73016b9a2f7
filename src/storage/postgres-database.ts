import pg from 'pg'
import { WhispererError } from '../core/errors.ts'
import { type Database, type Queryable, type QueryOptions, statementNames } from './database.ts'

export interface PostgresOptions {
  /** Connections in the pool this adapter opens. @default 10 */
  max?: number
  applicationName?: string
  /** How long opening a connection may take before the database counts as unavailable, in ms. @default 5000 */
  connectTimeoutMs?: number
  /** Called when the LISTEN connection fails, before it is re-established. */
  onListenError?: (error: Error) => void
  /**
   * Run statements marked `prepare` as named prepared statements. Off behind a pooler in
   * transaction mode that does not keep them (PgBouncer before 1.21). @default true
   */
  prepare?: boolean
  /**
   * LISTEN on a connection of its own to this URL rather than through the pool: a pooler in
   * transaction mode hands the server connection on after each statement, and the LISTEN with it.
   * @default null (LISTEN through the pool)
   */
  listenUrl?: string | null
}

/** A {@link Database} on node-postgres: a pool it opens from a URL, or one the caller owns. */
export function postgresDatabase(source: string | pg.Pool, options: PostgresOptions = {}): Database {
  const owned = typeof source === 'string'
  const pool =
    typeof source === 'string'
      ? new pg.Pool({
          connectionString: source,
          max: options.max ?? 10,
          application_name: options.applicationName ?? 'whisperer',
          connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
        })
      : source
  // An idle client's error (the server restarted) must not crash the process; the pool drops it.
  if (owned) pool.on('error', () => {})
  const prepare = options.prepare ?? true
  // Two connections at most: a broken one is released while its replacement connects.
  const listenPool = options.listenUrl
    ? new pg.Pool({
        connectionString: options.listenUrl,
        max: 2,
        application_name: options.applicationName ?? 'whisperer',
        connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
      })
    : null
  listenPool?.on('error', () => {})
  const statementName = statementNames()

  return {
    kind: 'postgres',
    async query<R>(text: string, values: unknown[] = [], queryOptions: QueryOptions = {}) {
      const config =
        prepare && queryOptions.prepare ? { name: statementName(text), text, values } : { text, values }
      const result = await pool.query(config).catch(asUnavailable)
      return { rows: result.rows as R[] }
    },
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      const client = await pool.connect().catch(asUnavailable)
      let broken: Error | undefined
      try {
        await client.query('BEGIN').catch(asUnavailable)
        const tx: Queryable = {
          query: async <R>(text: string, values: unknown[] = []) => ({
            rows: (await client.query(text, values).catch(asUnavailable)).rows as R[],
          }),
        }
        const result = await fn(tx)
        await client.query('COMMIT').catch(asUnavailable)
        return result
      } catch (error) {
        await client.query('ROLLBACK').catch((rollbackError: Error) => {
          broken = rollbackError
        })
        throw error
      } finally {
        client.release(broken)
      }
    },
    async listen(channel, onNotify) {
      let client: pg.PoolClient | undefined
      let stopped = false
      let retry: NodeJS.Timeout | undefined
      const connect = async (): Promise<void> => {
        const next = await (listenPool ?? pool).connect()
        next.on('notification', (message) => {
          if (message.channel === channel) onNotify(message.payload ?? '')
        })
        next.on('error', (error) => {
          options.onListenError?.(error)
          next.release(error)
          if (client === next) client = undefined
          schedule(250)
        })
        await next.query(`LISTEN ${pg.escapeIdentifier(channel)}`)
        client = next
        // Anything sent while no connection listened is found by the caller's next claim.
        onNotify('')
      }
      const schedule = (delayMs: number): void => {
        if (stopped || retry) return
        retry = setTimeout(() => {
          retry = undefined
          connect().catch((error: Error) => {
            options.onListenError?.(error)
            schedule(Math.min(delayMs * 2, 5000))
          })
        }, delayMs)
      }
      await connect()
      return async () => {
        stopped = true
        clearTimeout(retry)
        const current = client
        client = undefined
        if (current) {
          await current.query(`UNLISTEN ${pg.escapeIdentifier(channel)}`).catch(() => {})
          current.release()
        }
      }
    },
    async close() {
      await listenPool?.end()
      if (owned) await pool.end()
    },
  }
}

/** SQLSTATEs of a server that is shutting down, crashed, starting up or out of connection slots. */
const unavailableStates = new Set(['57P01', '57P02', '57P03', '53300'])
/** Socket errors of a server that cannot be reached. */
const unreachableCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
])

/**
 * Whether an error from node-postgres means the server could not be reached or is not serving
 * (as opposed to a statement it refused): SQLSTATE class 08, a shutdown or start-up, a refused or
 * broken socket, or the pool's connection timeout.
 */
export function isUnavailable(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown }
  if (typeof code === 'string' && (code.startsWith('08') || unavailableStates.has(code))) return true
  if (typeof code === 'string' && unreachableCodes.has(code)) return true
  return (
    typeof message === 'string' &&
    /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error)/.test(
      message,
    )
  )
}

/** Rethrows a connection failure as `database_unavailable`, anything else as it is. */
function asUnavailable(error: unknown): never {
  if (isUnavailable(error)) {
    throw new WhispererError('database_unavailable', undefined, { cause: error })
  }
  throw error
}
