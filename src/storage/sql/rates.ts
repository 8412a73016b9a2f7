import { bindingUse, decreaseIntervalMs, floorRate, growthIntervalMs } from '../../core/rate-limit.ts'
import type { Sql } from './context.ts'
import { bind, statement } from './statement.ts'

/** What a batch of attempts to one webhook says about its rate. */
export interface RateSignal {
  webhookId: number
  /** Attempts answered 2xx under the webhook's rate limit. */
  successes: number
  /** Attempts answered 429 or 503. */
  throttles: number
  /** The latest `Retry-After` of those answers, capped: no request to the webhook before it. */
  pauseUntil: Date | null
}

/** The window (seconds) over which the rate of a webhook without a limit is observed when it first answers 429 or 503. */
const observedWindowSeconds = 2

// Additive increase, multiplicative decrease, shared by every worker: a 429 or 503 halves the rate
// (at most once per $6 seconds, never below $7) and sets its step to a twentieth of the rate it
// had (at least 1); attempts that succeeded grow it by its step per second since it last changed,
// up to the ceiling, so that it recovers from halving in about ten seconds. It grows at most once
// per $9 seconds (or per slot, if slower), and only while it binds: deliveries are being held back
// by it, and the claims handed out at least $10 of the slots it allowed in that time (`granted`).
// A rate its workers could not use (a busy machine) is thus never raised untried, as TCP does not
// grow an application-limited window (RFC 7661). An observed limit always grows, and stops
// limiting (its rate is null) once back at its ceiling. A webhook without a rate row that answers
// 429 or 503 gets one: its rate observed over the last seconds, halved; the ceiling is the rate
// observed. A Retry-After pauses the whole webhook until then. Rows are locked in webhook order,
// as the claim locks them.
const adjust = statement(
  'webhookRatesAdjust',
  (s) => `
    WITH input AS (
      SELECT * FROM unnest($1::bigint[], $2::int[], $3::int[], $4::timestamptz[])
        AS i(webhook_id, ok, throttled, pause_until)
    ), observed AS (
      SELECT i.webhook_id, greatest($7, (
          SELECT count(*) FROM (
            SELECT d.last_attempt_at FROM ${s}.deliveries d WHERE d.webhook_id = i.webhook_id
            ORDER BY d.id DESC LIMIT 2000
          ) recent WHERE recent.last_attempt_at > $5::timestamptz - $8 * interval '1 second'
        ) / $8::float8) AS rate
      FROM input i WHERE i.throttled > 0
    ), locked AS (
      SELECT r.* FROM ${s}.webhook_rates r JOIN input i ON i.webhook_id = r.webhook_id
      ORDER BY r.webhook_id
      FOR UPDATE OF r
    ), next AS (
      SELECT l.webhook_id, i.pause_until,
        i.throttled > 0 AND (l.rate IS NULL
          OR coalesce(l.decreased_at, '-infinity') <= $5::timestamptz - $6 * interval '1 second') AS decrease,
        CASE WHEN l.rate IS NULL THEN NULL
          ELSE least(l.ceiling, l.rate + l.step * greatest(0, extract(epoch FROM $5::timestamptz - l.adjusted_at)))
          END AS grown,
        l.rate IS NULL
          OR extract(epoch FROM $5::timestamptz - l.adjusted_at) >= greatest($9, 1 / l.rate) AS ripe,
        l.origin = 'observed' OR (l.paced_until > $5
          AND l.granted >= $10 * l.rate * extract(epoch FROM $5::timestamptz - l.adjusted_at)) AS binding,
        l.rate, l.ceiling, l.origin, l.step, i.ok, i.throttled, o.rate AS observed
      FROM locked l JOIN input i ON i.webhook_id = l.webhook_id
      LEFT JOIN observed o ON o.webhook_id = l.webhook_id
    ), settled AS (
      SELECT n.*, n.decrease OR (n.ripe AND ((n.ok > 0 AND n.throttled = 0) OR NOT n.binding)) AS reset
      FROM next n
    ), changed AS (
      UPDATE ${s}.webhook_rates r SET
        rate = CASE
          WHEN n.decrease AND n.rate IS NULL THEN greatest($7, n.observed / 2)
          WHEN n.decrease THEN greatest($7, n.rate / 2)
          WHEN n.throttled > 0 OR n.ok = 0 OR NOT n.ripe OR NOT n.binding THEN n.rate
          WHEN n.origin = 'observed' AND n.grown >= n.ceiling THEN NULL
          ELSE n.grown END,
        ceiling = CASE WHEN n.decrease AND n.rate IS NULL THEN n.observed ELSE n.ceiling END,
        step = CASE WHEN n.decrease THEN greatest(1, coalesce(n.rate, n.observed) / 20) ELSE r.step END,
        adjusted_at = CASE WHEN n.reset THEN $5 ELSE r.adjusted_at END,
        granted = CASE WHEN n.reset THEN 0 ELSE r.granted END,
        decreased_at = CASE WHEN n.decrease THEN $5 ELSE r.decreased_at END,
        next_slot_at = greatest(r.next_slot_at, coalesce(n.pause_until, '-infinity'))
      FROM settled n WHERE r.webhook_id = n.webhook_id
      RETURNING r.webhook_id
    ), created AS (
      INSERT INTO ${s}.webhook_rates (webhook_id, rate, ceiling, origin, step, next_slot_at, paced_until,
        adjusted_at, decreased_at)
      SELECT i.webhook_id, greatest($7, o.rate / 2), o.rate, 'observed', greatest(1, o.rate / 20),
        greatest($5, i.pause_until), $5, $5, $5
      FROM input i JOIN observed o ON o.webhook_id = i.webhook_id
      WHERE NOT EXISTS (SELECT 1 FROM locked l WHERE l.webhook_id = i.webhook_id)
      ORDER BY i.webhook_id
      ON CONFLICT (webhook_id) DO NOTHING
      RETURNING webhook_id
    )
    SELECT (SELECT count(*) FROM changed) + (SELECT count(*) FROM created) AS adjusted`,
)

/**
 * Applies what attempts said about their webhooks' rates (see `adjust`), in one statement, after
 * they are recorded. Returns how many webhooks' rate rows were changed or created.
 */
export async function webhookRatesAdjust(
  sql: Sql,
  params: { signals: RateSignal[]; now: Date },
): Promise<number> {
  const { signals } = params
  if (signals.length === 0) return 0
  const values = bind({
    $1: signals.map((x) => x.webhookId),
    $2: signals.map((x) => x.successes),
    $3: signals.map((x) => x.throttles),
    $4: signals.map((x) => x.pauseUntil),
    $5: params.now,
    $6: decreaseIntervalMs / 1000,
    $7: floorRate,
    $8: observedWindowSeconds,
    $9: growthIntervalMs / 1000,
    $10: bindingUse,
  })
  const { rows } = await sql.query(adjust, values)
  return Number(rows[0]?.adjusted ?? 0)
}

const read = statement(
  'webhookRateGet',
  (s) =>
    `SELECT rate, ceiling, origin, next_slot_at, paced_until FROM ${s}.webhook_rates WHERE webhook_id = $1`,
)

/** A webhook's rate row, as the claim and the adjustments left it; null when it has none. */
export async function webhookRateGet(
  sql: Sql,
  params: { webhookId: number },
): Promise<{ rate: number | null; ceiling: number; origin: string } | null> {
  const { rows } = await sql.query(read, bind({ $1: params.webhookId }))
  const row = rows[0]
  if (!row) return null
  return {
    rate: row.rate === null ? null : Number(row.rate),
    ceiling: Number(row.ceiling),
    origin: String(row.origin),
  }
}
