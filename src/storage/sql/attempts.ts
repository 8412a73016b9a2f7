import type { Attempt } from '../../core/delivery.ts'
import { partitionStart, partitionsCovering, weekMs } from '../attempt-partitions.ts'
import { type AttemptSummary, toAttempt, toAttemptSummary } from '../rows.ts'
import type { Sql } from './context.ts'
import { bind, statement } from './statement.ts'

const summaries = statement(
  'attemptSummaries',
  (s) => `
    SELECT delivery_id, array_agg(created_at ORDER BY attempt DESC, id DESC) AS times,
      (array_agg(response_body ORDER BY attempt DESC, id DESC))[1] AS last_response_body
    FROM ${s}.attempts WHERE delivery_id = ANY($1::bigint[]) AND created_at >= $2
    GROUP BY delivery_id`,
)

/** For each delivery, its attempts' times (newest first) and its last response body, in one query. */
export async function attemptSummaries(
  sql: Sql,
  params: { deliveries: { id: number; createdAt: Date }[] },
): Promise<Map<number, AttemptSummary>> {
  const { deliveries } = params
  if (deliveries.length === 0) return new Map()
  const values = bind({
    $1: deliveries.map((d) => d.id),
    // The oldest creation: PostgreSQL skips the partitions before it.
    $2: new Date(Math.min(...deliveries.map((d) => d.createdAt.getTime()))),
  })
  const { rows } = await sql.query(summaries, values)
  return new Map(rows.map((row) => [Number(row.delivery_id), toAttemptSummary(row)]))
}

const list = statement(
  'attemptList',
  (s) => `SELECT * FROM ${s}.attempts WHERE delivery_id = $1 AND created_at >= $2 ORDER BY attempt, id`,
)

/** A delivery's attempts; `since` (its creation) lets PostgreSQL skip older partitions. */
export async function attemptList(sql: Sql, params: { deliveryId: number; since: Date }): Promise<Attempt[]> {
  const { rows } = await sql.query(list, bind({ $1: params.deliveryId, $2: params.since }))
  return rows.map(toAttempt)
}

const noteCallbackError = statement(
  'attemptNoteCallbackError',
  (s) => `UPDATE ${s}.attempts SET callback_error = $2 WHERE id = $1`,
)

/** Notes a callback's failure on the attempt it followed. */
export async function attemptNoteCallbackError(
  sql: Sql,
  params: { attemptId: number; error: string },
): Promise<void> {
  await sql.query(noteCallbackError, bind({ $1: params.attemptId, $2: params.error }))
}

/**
 * Creates the weekly attempt partitions covering `[from, to]` that do not exist yet. Idempotent,
 * and safe when processes do it at once (an advisory lock serializes them).
 */
export async function attemptPartitionsEnsure(sql: Sql, params: { from: Date; to: Date }): Promise<void> {
  const { s } = sql
  const missing = partitionsCovering(params.from, params.to).filter((p) => !sql.partitions.has(p.name))
  if (missing.length === 0) return
  await sql.db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`whisperer:partitions:${sql.schema}`])
    for (const partition of missing) {
      await tx.query(
        `CREATE TABLE IF NOT EXISTS ${s}."${partition.name}" PARTITION OF ${s}.attempts
         FOR VALUES FROM ('${partition.from.toISOString()}') TO ('${partition.to.toISOString()}')`,
      )
    }
  })
  for (const partition of missing) sql.partitions.add(partition.name)
}

const partitionsList = statement(
  'attemptPartitionsList',
  (s) => `
    SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = '${s}.attempts'::regclass ORDER BY c.relname`,
)

/**
 * Drops the attempt partitions that end before `before`: retention without a row-by-row delete.
 * Each drop waits at most `lockTimeoutMs` for its lock, so that it never stalls the inserts queued
 * behind it; one that times out is left for the next run. Returns the partitions dropped.
 */
export async function attemptPartitionsDrop(
  sql: Sql,
  params: { before: Date; lockTimeoutMs: number },
): Promise<string[]> {
  const { rows } = await sql.query<{ name: string }>(partitionsList)
  const expired = rows
    .map((row) => row.name)
    .filter((name) => {
      const start = partitionStart(name)
      return start !== null && start.getTime() + weekMs <= params.before.getTime()
    })
  const dropped: string[] = []
  for (const name of expired) {
    try {
      await sql.db.transaction(async (tx) => {
        await tx.query(`SET LOCAL lock_timeout = ${Math.round(params.lockTimeoutMs)}`)
        await tx.query(`DROP TABLE ${sql.s}."${name}"`)
      })
      sql.partitions.delete(name)
      dropped.push(name)
    } catch (error) {
      if ((error as { code?: string }).code !== '55P03') throw error
    }
  }
  return dropped
}
