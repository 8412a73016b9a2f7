import {
  claimedColumns,
  claimedWebhookColumns,
  deliveryColumns,
  insertedClaimedColumns,
  webhookColumns,
} from './rows.ts'

/** Every statement of the {@link Store}, for one schema (`s` is its quoted name). */
export function statements(s: string) {
  const configMatches = `($2::jsonb IS NULL OR NOT EXISTS (
      SELECT 1 FROM jsonb_each($2::jsonb) f
      WHERE w.config #> string_to_array(f.key, '__') IS DISTINCT FROM f.value))`
  // The webhooks' own filters on the event's data (compiled conditions; see filters_match).
  const filtersMatch = (data: string) =>
    `(w.conditions IS NULL OR ${s}.filters_match(w.conditions, ${data}::jsonb))`
  const liveTargets = (type: string, filter: string, data: string, columns = 'w.id') =>
    `SELECT ${columns} FROM ${s}.webhooks w
     WHERE w.event_type = ${type} AND w.is_active AND w.deleted_at IS NULL
       AND ${configMatches.replaceAll('$2', filter)} AND ${filtersMatch(data)}`

  const notify = `notified AS (SELECT pg_notify($10, '') AS n WHERE EXISTS (SELECT 1 FROM inserted))`

  // One event with its own bodies (customized payloads): $1-$7 the event, $12-$14 the bodies.
  const eventInsertBodies = (claimed: boolean) => `
    WITH targets AS (
      SELECT b.uuid, b.webhook_id AS id, b.body FROM unnest($12::uuid[], $13::bigint[], $14::text[]) AS b(uuid, webhook_id, body)
      WHERE b.webhook_id IN (${liveTargets('$2', '$11', '$3')})
    ), event AS (
      INSERT INTO ${s}.events (uuid, type, data, payload_key, subject_type, subject_id, created_at)
      SELECT $1, $2, $3::json, $4, $5, $6, $7 WHERE EXISTS (SELECT 1 FROM targets)
      RETURNING id
    ), inserted AS (
      INSERT INTO ${s}.deliveries (uuid, event_id, webhook_id, status, next_attempt_at, body, created_at, updated_at)
      SELECT targets.uuid, event.id, targets.id, $8, $9, targets.body::json, $7, $7
      FROM event, targets
      RETURNING *
    ), ${notify}
    ${
      claimed
        ? `SELECT ${insertedClaimedColumns}, $1::text AS event_uuid FROM inserted d
           JOIN ${s}.webhooks w ON w.id = d.webhook_id LEFT JOIN notified ON true`
        : `SELECT inserted.id, inserted.uuid::text AS uuid, inserted.webhook_id, $1::text AS event_uuid
           FROM inserted LEFT JOIN notified ON true`
    }`

  // Any number of events, each fanned out to the live webhooks of its type matching its config
  // filter and their own filters, in one statement: $1-$7 arrays (one element per event), $8 now,
  // $9 status, $10 the channel to notify, $11 next_attempt_at (the lease of deliveries claimed as
  // they are inserted). A webhook that chose some fields gets a body of its own, built here.
  const eventsInsert = (claimed: boolean) => `
    WITH input AS (
      -- The data as jsonb, parsed once per event and only when a webhook of its type has filters.
      SELECT i.*, CASE WHEN EXISTS (
          SELECT 1 FROM ${s}.webhooks f
          WHERE f.event_type = i.type AND f.conditions IS NOT NULL AND f.is_active AND f.deleted_at IS NULL
        ) THEN i.data::jsonb END AS doc
      FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
        WITH ORDINALITY AS i(uuid, type, data, payload_key, subject_type, subject_id, config_filter, n)
    ), targets AS (
      SELECT i.n, w.id AS webhook_id, gen_random_uuid() AS uuid, w.fields FROM input i
      JOIN ${s}.webhooks w ON w.event_type = i.type AND w.is_active AND w.deleted_at IS NULL
      WHERE (i.config_filter IS NULL OR NOT EXISTS (
        SELECT 1 FROM jsonb_each(i.config_filter::jsonb) f
        WHERE w.config #> string_to_array(f.key, '__') IS DISTINCT FROM f.value))
        AND ${filtersMatch('i.doc')}
    ), event AS (
      INSERT INTO ${s}.events (uuid, type, data, payload_key, subject_type, subject_id, created_at)
      SELECT i.uuid, i.type, i.data::json, i.payload_key, i.subject_type, i.subject_id, $8 FROM input i
      WHERE EXISTS (SELECT 1 FROM targets t WHERE t.n = i.n)
      ORDER BY i.n
      RETURNING id, uuid
    ), inserted AS (
      INSERT INTO ${s}.deliveries (uuid, event_id, webhook_id, status, next_attempt_at, body, created_at, updated_at)
      SELECT t.uuid, e.id, t.webhook_id, $9, $11,
        CASE WHEN t.fields IS NOT NULL THEN ('{"event":{"type":' || to_json(i.type)::text || ',"uuid":"'
          || replace(t.uuid::text, '-', '') || '"},"' || i.payload_key || '":'
          || ${s}.pick_fields(i.data::json, t.fields) || '}')::json END,
        $8, $8
      FROM targets t JOIN input i ON i.n = t.n JOIN event e ON e.uuid = i.uuid
      ORDER BY t.n, t.webhook_id
      RETURNING id, uuid, webhook_id, event_id, next_attempt_at, retry_count, body
    ), ${notify}
    ${
      claimed
        ? `SELECT d.id, d.uuid::text AS uuid, d.next_attempt_at AS lease, d.retry_count, d.body::text AS body,
             i.type AS event_type, i.data, i.payload_key, i.subject_id, d.webhook_id,
             w.updated_at AS webhook_updated_at, e.uuid::text AS event_uuid
           FROM inserted d JOIN event e ON e.id = d.event_id JOIN input i ON i.uuid = e.uuid
           JOIN ${s}.webhooks w ON w.id = d.webhook_id LEFT JOIN notified ON true`
        : `SELECT d.id, d.uuid::text AS uuid, d.webhook_id, e.uuid::text AS event_uuid
           FROM inserted d JOIN event e ON e.id = d.event_id LEFT JOIN notified ON true`
    }`

  // Which deliveries a bulk replay sends again: $1 owner (null for all), $2 statuses, $3 webhook,
  // $4 event type, $5 and $6 the creation time range.
  const replayFilter = `($1::text IS NULL OR w.owner = $1) AND w.deleted_at IS NULL
          AND d.status = ANY($2::text[])
          AND ($3::bigint IS NULL OR d.webhook_id = $3)
          AND ($4::text IS NULL OR lower(e.type) = lower($4))
          AND ($5::timestamptz IS NULL OR d.created_at >= $5)
          AND ($6::timestamptz IS NULL OR d.created_at < $6)`

  const cancelPending = (webhookId: string, now: string) => `cancelled AS (
      UPDATE ${s}.deliveries SET status = 'cancelled', updated_at = ${now}
      WHERE webhook_id = ${webhookId} AND status = 'pending'
    )`

  return {
    webhookInsert: `
      INSERT INTO ${s}.webhooks (owner, event_type, target_url, secret_key, is_active, retry_countdown_config,
        callback, additional_headers, config, filters, conditions, fields, created_at, updated_at)
      VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8::jsonb, $9::jsonb, $11::jsonb, $12::jsonb, $13::text[], $10, $10)
      RETURNING ${webhookColumns}`,
    webhookGet: `
      SELECT ${webhookColumns} FROM ${s}.webhooks
      WHERE id = $1 AND deleted_at IS NULL AND ($2::text IS NULL OR owner = $2)`,
    webhookGetMany: `
      SELECT ${webhookColumns} FROM ${s}.webhooks WHERE id = ANY($1::bigint[])`,
    webhookList: `
      SELECT ${webhookColumns} FROM ${s}.webhooks
      WHERE deleted_at IS NULL AND ($1::text IS NULL OR owner = $1)
        AND ($2::text IS NULL OR lower(event_type) = lower($2))
        AND ($3::text IS NULL OR lower(target_url) = lower($3))
        AND ($4::boolean IS NULL OR is_active = $4)
        AND id > $5
      ORDER BY id LIMIT $6`,
    webhookUpdate: `
      WITH updated AS (
        UPDATE ${s}.webhooks SET
          event_type = coalesce($3, event_type),
          target_url = coalesce($4, target_url),
          secret_key = CASE WHEN $5 THEN $6 ELSE secret_key END,
          is_active = coalesce($7, is_active),
          disabled_reason = CASE WHEN $7 THEN NULL ELSE disabled_reason END,
          failing_since = CASE WHEN $7 THEN NULL ELSE failing_since END,
          retry_countdown_config = coalesce($8::jsonb, retry_countdown_config),
          callback = CASE WHEN $9 THEN $10 ELSE callback END,
          additional_headers = coalesce($11::jsonb, additional_headers),
          config = coalesce($12::jsonb, config),
          filters = coalesce($14::jsonb, filters),
          conditions = CASE WHEN $14::jsonb IS NULL THEN conditions ELSE $15::jsonb END,
          fields = CASE WHEN $16 THEN $17::text[] ELSE fields END,
          updated_at = $13
        WHERE id = $1 AND deleted_at IS NULL AND ($2::text IS NULL OR owner = $2)
        RETURNING ${webhookColumns}
      ), cancelled AS (
        UPDATE ${s}.deliveries SET status = 'cancelled', updated_at = $13
        WHERE webhook_id = $1 AND status = 'pending' AND EXISTS (SELECT 1 FROM updated WHERE NOT updated.is_active)
      )
      SELECT * FROM updated`,
    webhookDelete: `
      WITH deleted AS (
        UPDATE ${s}.webhooks SET deleted_at = $3, is_active = false, updated_at = $3
        WHERE id = $1 AND deleted_at IS NULL AND ($2::text IS NULL OR owner = $2)
        RETURNING id
      ), ${cancelPending('(SELECT id FROM deleted)', '$3')}
      SELECT id FROM deleted`,
    webhookTargets: liveTargets('$1', '$2', '$3', 'w.id, w.fields'),
    webhooksForSending: `
      SELECT ${claimedWebhookColumns} FROM ${s}.webhooks WHERE id = ANY($1::bigint[])`,
    eventsInsert: eventsInsert(false),
    eventsInsertClaimed: eventsInsert(true),
    eventInsertBodies: eventInsertBodies(false),
    eventInsertBodiesClaimed: eventInsertBodies(true),
    deliveryClaim: `
      WITH due AS (
        SELECT id FROM ${s}.deliveries
        WHERE status IN ('pending', 'delivering') AND next_attempt_at <= $1
        ORDER BY next_attempt_at
        LIMIT $2
        FOR UPDATE SKIP LOCKED
      )
      UPDATE ${s}.deliveries d SET status = 'delivering', next_attempt_at = $3
      FROM due, ${s}.events e, ${s}.webhooks w
      WHERE d.id = due.id AND e.id = d.event_id AND w.id = d.webhook_id
      RETURNING ${claimedColumns}`,
    deliveryClaimOne: `
      UPDATE ${s}.deliveries d SET status = 'delivering', next_attempt_at = $4
      FROM ${s}.events e, ${s}.webhooks w
      WHERE d.id = $1 AND e.id = d.event_id AND w.id = d.webhook_id AND w.deleted_at IS NULL
        AND d.status = ANY($2::text[]) AND NOT (d.status = 'delivering' AND d.next_attempt_at > $3)
      RETURNING ${claimedColumns}`,
    deliveryRequeue: `
      WITH requeued AS (
        UPDATE ${s}.deliveries SET status = 'pending', next_attempt_at = $3, updated_at = $3
        WHERE id = $1 AND status = ANY($2::text[])
          AND EXISTS (SELECT 1 FROM ${s}.webhooks w WHERE w.id = webhook_id AND w.deleted_at IS NULL)
        RETURNING id
      )
      SELECT id, pg_notify($4, '') FROM requeued`,
    deliveryComplete: `
      WITH input AS (
        SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::int[], $5::timestamptz[],
          $6::int[], $7::timestamptz[], $8::int[], $9::int[], $10::text[], $11::text[], $12::text[], $13::text[],
          $14::text[], $15::boolean[], $17::bigint[], $18::boolean[])
        AS i(id, lease, status, retry_count, next_attempt_at, attempt, started_at, duration_ms, http_status,
          error_kind, error, request_headers, response_headers, response_body, response_truncated, webhook_id, gone)
      ), health AS (
        SELECT webhook_id, bool_or(status = 'delivered') AS ok, min(started_at) AS failed_at, bool_or(gone) AS gone
        FROM input GROUP BY webhook_id
      ), locked AS (
        -- Only webhooks whose health changes are written; locked in id order, so that concurrent
        -- workers cannot deadlock on them.
        SELECT w.id FROM ${s}.webhooks w JOIN health h ON h.webhook_id = w.id
        WHERE (h.gone AND w.is_active) OR (h.ok AND w.failing_since IS NOT NULL)
          OR (NOT h.ok AND w.failing_since IS NULL)
        ORDER BY w.id
        FOR UPDATE OF w
      ), hooks AS (
        UPDATE ${s}.webhooks w SET
          failing_since = CASE WHEN h.ok THEN NULL ELSE coalesce(w.failing_since, h.failed_at) END,
          is_active = w.is_active AND NOT h.gone,
          disabled_reason = CASE WHEN h.gone AND w.is_active THEN 'gone' ELSE w.disabled_reason END,
          updated_at = CASE WHEN h.gone AND w.is_active THEN $16 ELSE w.updated_at END
        FROM health h
        WHERE w.id = h.webhook_id AND w.id IN (SELECT id FROM locked)
        RETURNING w.id, h.gone
      ), moved AS (
        -- A retry is not scheduled for a webhook that is no longer active: it is cancelled.
        UPDATE ${s}.deliveries d SET
          status = CASE WHEN i.status = 'pending' AND (NOT w.is_active OR w.deleted_at IS NOT NULL OR h.gone)
            THEN 'cancelled' ELSE i.status END,
          retry_count = i.retry_count, next_attempt_at = i.next_attempt_at, last_status = i.http_status,
          last_error_kind = i.error_kind, last_attempt_at = i.started_at, last_duration_ms = i.duration_ms,
          updated_at = $16
        FROM input i
        JOIN ${s}.webhooks w ON w.id = i.webhook_id
        JOIN health h ON h.webhook_id = i.webhook_id
        WHERE d.id = i.id AND d.status = 'delivering' AND d.next_attempt_at = i.lease
      ), cancelled AS (
        UPDATE ${s}.deliveries SET status = 'cancelled', updated_at = $16
        WHERE webhook_id IN (SELECT id FROM hooks WHERE gone) AND status = 'pending'
      )
      INSERT INTO ${s}.attempts (delivery_id, attempt, created_at, duration_ms, status, error_kind, error,
        request_headers, response_headers, response_body, response_truncated)
      SELECT id, attempt, started_at, duration_ms, http_status, error_kind, error, request_headers::json,
        response_headers::json, response_body, response_truncated
      FROM input
      RETURNING delivery_id, id`,
    deliveryRelease: `
      UPDATE ${s}.deliveries d SET status = 'pending', next_attempt_at = r.at
      FROM unnest($1::bigint[], $2::timestamptz[], $3::timestamptz[]) AS r(id, lease, at)
      WHERE d.id = r.id AND d.status = 'delivering' AND d.next_attempt_at = r.lease`,
    deliveryStatuses: `
      SELECT id, status FROM ${s}.deliveries WHERE id = ANY($1::bigint[])`,
    deliveryNextDue: `
      SELECT min(next_attempt_at) AS at FROM ${s}.deliveries WHERE status IN ('pending', 'delivering')`,
    deliveryGet: `
      SELECT ${deliveryColumns} FROM ${s}.deliveries d
      JOIN ${s}.events e ON e.id = d.event_id
      JOIN ${s}.webhooks w ON w.id = d.webhook_id
      WHERE ($1::bigint IS NULL OR d.id = $1) AND ($2::uuid IS NULL OR d.uuid = $2)
        AND ($3::text IS NULL OR w.owner = $3)`,
    deliveryList: `
      SELECT ${deliveryColumns} FROM ${s}.deliveries d
      JOIN ${s}.events e ON e.id = d.event_id
      JOIN ${s}.webhooks w ON w.id = d.webhook_id
      WHERE ($1::text IS NULL OR w.owner = $1)
        AND ($2::bigint IS NULL OR d.webhook_id = $2)
        AND ($3::text IS NULL OR lower(e.type) = lower($3))
        AND ($4::text IS NULL OR d.status = $4)
        AND ($5::uuid IS NULL OR d.uuid = $5)
        AND ($6::int IS NULL OR d.last_status = $6)
        AND ($7::timestamptz IS NULL OR d.created_at >= $7)
        AND ($8::timestamptz IS NULL OR d.created_at < $8)
        AND (NOT $9 OR (d.retry_count = 0 AND d.status IN ('pending', 'delivering')))
        AND ($10::bigint IS NULL OR d.id < $10)
        AND ($12::boolean IS NULL OR (d.status = 'delivered') = $12)
      ORDER BY d.id DESC
      LIMIT $11`,
    // Per bucket of $4 seconds from $2 (and for the whole span, where bucket is null): deliveries
    // created in [$2, $3) by status, and the percentiles of their time to deliver, from creation to
    // the end of the successful attempt. $1 owner (null for all).
    deliveryStats: `
      SELECT b.bucket, count(*)::int AS total,
        count(*) FILTER (WHERE d.status = 'delivered')::int AS delivered,
        count(*) FILTER (WHERE d.status = 'failed')::int AS failed,
        count(*) FILTER (WHERE d.status = 'cancelled')::int AS cancelled,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY t.ms) AS p50_ms,
        percentile_cont(0.99) WITHIN GROUP (ORDER BY t.ms) AS p99_ms
      FROM ${s}.deliveries d
      JOIN ${s}.webhooks w ON w.id = d.webhook_id
      CROSS JOIN LATERAL (
        SELECT floor(extract(epoch FROM d.created_at - $2::timestamptz) / $4)::int AS bucket
      ) b
      CROSS JOIN LATERAL (
        SELECT CASE WHEN d.status = 'delivered' THEN
          extract(epoch FROM d.last_attempt_at - d.created_at) * 1000 + d.last_duration_ms END AS ms
      ) t
      WHERE d.created_at >= $2 AND d.created_at < $3 AND ($1::text IS NULL OR w.owner = $1)
      GROUP BY GROUPING SETS ((b.bucket), ())`,
    deliveryReplayCount: `
      SELECT count(*)::int AS n FROM ${s}.deliveries d
      JOIN ${s}.webhooks w ON w.id = d.webhook_id
      JOIN ${s}.events e ON e.id = d.event_id
      WHERE ${replayFilter}`,
    deliveryReplay: `
      WITH chosen AS (
        SELECT d.id FROM ${s}.deliveries d
        JOIN ${s}.webhooks w ON w.id = d.webhook_id
        JOIN ${s}.events e ON e.id = d.event_id
        WHERE ${replayFilter}
        ORDER BY d.id
        LIMIT $7
        FOR UPDATE OF d SKIP LOCKED
      ), replayed AS (
        UPDATE ${s}.deliveries d SET status = 'pending', next_attempt_at = $8, updated_at = $8
        FROM chosen WHERE d.id = chosen.id
        RETURNING d.id
      ), notified AS (SELECT pg_notify($9, '') WHERE EXISTS (SELECT 1 FROM replayed))
      SELECT count(*)::int AS replayed FROM replayed LEFT JOIN notified ON true`,
    attemptList: `
      SELECT * FROM ${s}.attempts WHERE delivery_id = $1 AND created_at >= $2 ORDER BY attempt, id`,
    attemptPartitionsList: `
      SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = '${s}.attempts'::regclass ORDER BY c.relname`,
    attemptSummaries: `
      SELECT delivery_id, array_agg(created_at ORDER BY attempt DESC, id DESC) AS times,
        (array_agg(response_body ORDER BY attempt DESC, id DESC))[1] AS last_response_body
      FROM ${s}.attempts WHERE delivery_id = ANY($1::bigint[]) AND created_at >= $2
      GROUP BY delivery_id`,
    attemptNoteCallbackError: `
      UPDATE ${s}.attempts SET callback_error = $2 WHERE id = $1`,
    retentionDelete: `
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
      )
      SELECT count(*)::int AS deleted FROM deliveries_gone`,
    webhookDisableFailing: `
      WITH disabled AS (
        UPDATE ${s}.webhooks SET is_active = false, disabled_reason = 'failing', updated_at = $2
        WHERE is_active AND deleted_at IS NULL AND failing_since < $1
        RETURNING id
      ), cancelled AS (
        UPDATE ${s}.deliveries SET status = 'cancelled', updated_at = $2
        WHERE webhook_id IN (SELECT id FROM disabled) AND status = 'pending'
      )
      SELECT id FROM disabled`,
    vacuum: `VACUUM ${s}.deliveries`,
    tokenInsert: `
      INSERT INTO ${s}.api_tokens (id, name, owner, scopes, secret_hash, created_at)
      VALUES ($1, $2, $3, $4, $5, $6)
      RETURNING id, name, owner, scopes, created_at, last_used_at, revoked_at`,
    tokenGet: `
      SELECT id, name, owner, scopes, secret_hash, created_at, last_used_at, revoked_at
      FROM ${s}.api_tokens WHERE id = $1`,
    tokenList: `
      SELECT id, name, owner, scopes, created_at, last_used_at, revoked_at FROM ${s}.api_tokens ORDER BY created_at, id`,
    tokenRevoke: `
      UPDATE ${s}.api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING id`,
    tokenTouch: `
      UPDATE ${s}.api_tokens SET last_used_at = $2 WHERE id = $1`,
    eventTypeUpsert: `
      INSERT INTO ${s}.event_types (type, description, json_schema, fields, created_at, updated_at)
      VALUES ($1, $2, $3::jsonb, $4, $5, $5)
      ON CONFLICT (type) DO UPDATE SET description = EXCLUDED.description, json_schema = EXCLUDED.json_schema,
        fields = EXCLUDED.fields, updated_at = EXCLUDED.updated_at`,
    eventTypeList: `
      SELECT type, description, json_schema, fields FROM ${s}.event_types ORDER BY type`,
    eventTypeDelete: `
      DELETE FROM ${s}.event_types WHERE type = $1 RETURNING type`,
    // Compiles a filter's regular expression as the fan-out will: an invalid one raises.
    patternCheck: `SELECT '' ~ $1 AS matches`,
  }
}
