import type { Sql } from './context.ts'
import { bind, statement } from './statement.ts'

const expired = statement(
  'retentionDelete',
  (s) => `
    WITH doomed AS (
      SELECT id, event_id FROM ${s}.deliveries
      WHERE status IN ('delivered', 'failed', 'cancelled') AND updated_at < $1
      ORDER BY id LIMIT $2
    ), deliveries_gone AS (
      DELETE FROM ${s}.deliveries d USING doomed WHERE d.id = doomed.id RETURNING d.event_id
    ), events_gone AS (
      DELETE FROM ${s}.events e
      WHERE e.id IN (SELECT DISTINCT event_id FROM deliveries_gone)
        AND NOT EXISTS (
          SELECT 1 FROM ${s}.deliveries d WHERE d.event_id = e.id AND d.id NOT IN (SELECT id FROM doomed))
    ), unsent_gone AS (
      -- Operational events are stored even when no webhook receives them; those expire alone.
      DELETE FROM ${s}.events e
      WHERE e.id IN (
        SELECT id FROM ${s}.events x
        WHERE x.type LIKE 'whisperer.%' AND x.created_at < $1
          AND NOT EXISTS (SELECT 1 FROM ${s}.deliveries d WHERE d.event_id = x.id)
        ORDER BY x.created_at LIMIT $2)
    )
    SELECT count(*)::int AS deleted FROM deliveries_gone`,
)

/**
 * Deletes up to `limit` finished deliveries last changed before `before`, and the events left
 * without deliveries. Their attempts go with their weekly partitions (`attemptPartitionsDrop`).
 * Returns how many deliveries went.
 */
export async function retentionDelete(sql: Sql, params: { before: Date; limit: number }): Promise<number> {
  const values = bind({ $1: params.before, $2: params.limit })
  const { rows } = await sql.query<{ deleted: number }>(expired, values)
  return Number(rows[0]?.deleted ?? 0)
}

const vacuumQueue = statement('vacuum', (s) => `VACUUM ${s}.deliveries`)

/** Reclaims dead rows of the queue table; PGlite has no autovacuum, so its maintenance does this. */
export async function vacuum(sql: Sql): Promise<void> {
  await sql.query(vacuumQueue)
}
