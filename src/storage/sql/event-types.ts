import type { Queryable } from '../database.ts'
import { type StoredEventType, toStoredEventType } from '../rows.ts'
import type { Sql } from './context.ts'
import { bind, statement } from './statement.ts'

const upsert = statement(
  'eventTypeUpsert',
  (s) => `
    INSERT INTO ${s}.event_types (type, description, json_schema, fields, created_at, updated_at)
    VALUES ($1, $2, $3::jsonb, $4, $5, $5)
    ON CONFLICT (type) DO UPDATE SET description = EXCLUDED.description, json_schema = EXCLUDED.json_schema,
      fields = EXCLUDED.fields, updated_at = EXCLUDED.updated_at`,
)

export async function eventTypeUpsert(sql: Sql, params: StoredEventType & { now: Date }): Promise<void> {
  const values = bind({
    $1: params.type,
    $2: params.description,
    $3: params.jsonSchema ? JSON.stringify(params.jsonSchema) : null,
    $4: params.fields,
    $5: params.now,
  })
  await sql.query(upsert, values)
}

const list = statement(
  'eventTypeList',
  (s) => `SELECT type, description, json_schema, fields FROM ${s}.event_types ORDER BY type`,
)

/** Every stored event type; on `tx` when given (a caller's transaction). */
export async function eventTypeList(sql: Sql, params: { tx?: Queryable } = {}): Promise<StoredEventType[]> {
  const { rows } = await sql.query(list, [], { tx: params.tx })
  return rows.map(toStoredEventType)
}

const remove = statement(
  'eventTypeDelete',
  (s) => `DELETE FROM ${s}.event_types WHERE type = $1 RETURNING type`,
)

export async function eventTypeDelete(sql: Sql, params: { type: string }): Promise<boolean> {
  const { rows } = await sql.query(remove, bind({ $1: params.type }))
  return rows.length > 0
}
