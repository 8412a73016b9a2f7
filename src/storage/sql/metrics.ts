import type { Sql } from './context.ts'
import { bind, statement } from './statement.ts'

// Due: pending and due, or delivering with an expired lease (its next_attempt_at is the lease);
// both read through deliveries_due_idx. Deleted webhooks are left out of the webhook counts.
const snapshot = statement(
  'metricsSnapshot',
  (s) => `
    SELECT
      (SELECT count(*) FROM ${s}.deliveries
        WHERE status = ANY (ARRAY['pending', 'delivering']) AND next_attempt_at <= $1)::int AS due,
      (SELECT min(next_attempt_at) FROM ${s}.deliveries
        WHERE status = ANY (ARRAY['pending', 'delivering']) AND next_attempt_at <= $1) AS oldest,
      count(*) FILTER (WHERE w.is_active AND w.failing_since IS NULL)::int AS active,
      count(*) FILTER (WHERE w.is_active AND w.failing_since IS NOT NULL)::int AS failing,
      count(*) FILTER (WHERE NOT w.is_active)::int AS disabled
    FROM ${s}.webhooks w WHERE w.deleted_at IS NULL`,
)

/** What the metrics read from the database: the queue's due deliveries and the webhooks by state. */
export interface MetricsSnapshot {
  due: number
  /** When the oldest due delivery became due; null when none is due. */
  oldestDueAt: Date | null
  webhooks: { active: number; failing: number; disabled: number }
}

/** The queue and webhook figures of the metrics, in one statement. */
export async function metricsSnapshot(sql: Sql, params: { now: Date }): Promise<MetricsSnapshot> {
  const { rows } = await sql.query<{
    due: number
    oldest: Date | string | null
    active: number
    failing: number
    disabled: number
  }>(snapshot, bind({ $1: params.now }))
  const row = rows[0]!
  return {
    due: Number(row.due),
    oldestDueAt: row.oldest === null ? null : new Date(row.oldest),
    webhooks: { active: Number(row.active), failing: Number(row.failing), disabled: Number(row.disabled) },
  }
}

const schemaVersion = statement(
  'schemaVersion',
  (s) => `SELECT max(version)::int AS version FROM ${s}.migrations`,
)

/** The newest migration applied to the schema; null when none is (or the schema is missing). */
export async function schemaVersionGet(sql: Sql): Promise<number | null> {
  try {
    const { rows } = await sql.query<{ version: number | null }>(schemaVersion)
    return rows[0]?.version ?? null
  } catch (error) {
    // No schema or no migrations table yet: nothing is applied.
    if (['3F000', '42P01'].includes((error as { code?: string }).code ?? '')) return null
    throw error
  }
}
