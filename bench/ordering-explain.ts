/**
 * The plans behind ordered delivery's design, on PostgreSQL: `node bench/ordering-explain.ts`
 * (DATABASE_URL, in a throwaway schema it drops at the end). With 100,000 lanes of 10 deliveries
 * (1,000,000 pending rows) it times, with EXPLAIN ANALYZE, each in a transaction rolled back:
 *
 * 1. the claim as it is (`deliveryClaim`), which ordered deliveries reach only at their lane's
 *    head: the other 900,000 wait parked, due at 'infinity', beyond any claim's reach;
 * 2. the same claim on the 100,000 heads alone (no parked rows): the regression parked rows cost;
 * 3. the alternative without parking: every row due, and the claim skipping rows that have an
 *    unfinished predecessor in their lane (NOT EXISTS on a lane index);
 * 4. what a completion adds to release a lane's next delivery (the lane index look-up).
 *
 * Prints the median execution time of 5 runs of each, and the plan of the last.
 */
import pg from 'pg'
import { slotHorizonMs } from '../src/core/rate-limit.ts'
import { statementTexts } from '../src/storage/sql/statement.ts'
import { createWhisperer } from '../src/whisperer.ts'

const url = process.env.DATABASE_URL
if (!url) throw new Error('DATABASE_URL is required')
const schema = 'ordering_explain'
const lanes = 100_000
const perLane = 10
const runs = 5

const pool = new pg.Pool({ connectionString: url, max: 2 })
await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
const whisperer = await createWhisperer({ database: url, schema, allowedTargets: ['127.0.0.1'] })
whisperer.eventTypes.register({ type: 'order.changed' })
const webhook = await whisperer.webhooks.create('bench', {
  eventType: 'order.changed',
  targetUrl: 'http://127.0.0.1:9/hook',
})
await whisperer.deliverEvent({ n: 0 }, 'order.changed')
await whisperer.close()

const s = `"${schema}"`
const claim = statementTexts(schema).get('deliveryClaim')!

/** Fills the queue: `lanes` × `perLane` pending rows; `parked` leaves all but each head at 'infinity'. */
async function fill(options: { parked: boolean; headsOnly?: boolean }): Promise<void> {
  await pool.query(`TRUNCATE ${s}.ordering_lanes`)
  await pool.query(`DELETE FROM ${s}.deliveries`)
  const total = options.headsOnly ? lanes : lanes * perLane
  await pool.query(
    `INSERT INTO ${s}.deliveries (uuid, event_id, webhook_id, status, next_attempt_at, created_at, updated_at,
       ordering_key, sequence)
     SELECT gen_random_uuid(), (SELECT min(id) FROM ${s}.events), $1, 'pending',
       CASE WHEN $2::boolean AND i / $3::int > 0 THEN 'infinity'::timestamptz
         ELSE now() - interval '1 hour' + (i % $3) * interval '1 ms' + (i / $3) * interval '1 s' END,
       now(), now(), 'order:' || (i % $3), i / $3 + 1
     FROM generate_series(0, $4 - 1) AS i`,
    [webhook.id, options.parked, lanes, total],
  )
  await pool.query(
    `INSERT INTO ${s}.ordering_lanes (webhook_id, ordering_key, last_sequence, unfinished)
     SELECT $1, 'order:' || i, $2::int, $2::int FROM generate_series(0, $3::int - 1) AS i`,
    [webhook.id, options.headsOnly ? 1 : perLane, lanes],
  )
  await pool.query(`VACUUM ANALYZE ${s}.deliveries`)
  await pool.query(`ANALYZE ${s}.ordering_lanes`)
}

/** EXPLAIN ANALYZE of `text` `runs` times, each rolled back: the median time and the last plan. */
async function explain(label: string, text: string, values: unknown[]): Promise<void> {
  const times: number[] = []
  let plan = ''
  for (let i = 0; i < runs; i += 1) {
    const client = await pool.connect()
    try {
      await client.query('BEGIN')
      const { rows } = await client.query(`EXPLAIN (ANALYZE, BUFFERS) ${text}`, values)
      await client.query('ROLLBACK')
      plan = rows.map((row) => row['QUERY PLAN']).join('\n')
      times.push(Number(/Execution Time: ([\d.]+) ms/.exec(plan)?.[1]))
    } finally {
      client.release()
    }
  }
  times.sort((a, b) => a - b)
  console.log(
    `\n### ${label}: median ${times[Math.floor(runs / 2)]!.toFixed(2)} ms (${times.map((t) => t.toFixed(1)).join(', ')})`,
  )
  if (process.argv.includes('--plans')) console.log(plan)
}

const now = () => new Date()
const claimValues = () => [now(), 100, new Date(Date.now() + 60_000), slotHorizonMs / 1000, 10]

// 1. Parked: 100,000 heads due, 900,000 parked.
await fill({ parked: true })
await explain(`claim of 100, ${lanes} lanes × ${perLane}, all but the heads parked`, claim, claimValues())
// 4. A completion's release of the next delivery of 100 lanes (the lane index, then the row).
await explain(
  'release of the next delivery of 100 lanes',
  `UPDATE ${s}.deliveries d SET next_attempt_at = now() FROM (
     SELECT DISTINCT ON (l.webhook_id, l.ordering_key) p.id
     FROM (SELECT webhook_id, ordering_key FROM ${s}.ordering_lanes LIMIT 100) l
     JOIN ${s}.deliveries p ON p.webhook_id = l.webhook_id AND p.ordering_key = l.ordering_key
     WHERE p.status IN ('pending', 'delivering')
     ORDER BY l.webhook_id, l.ordering_key, p.sequence) n
   WHERE d.id = n.id AND d.next_attempt_at = 'infinity'`,
  [],
)

// 2. The heads alone: what the claim costs without parked rows.
await fill({ parked: false, headsOnly: true })
await explain(`claim of 100, ${lanes} due rows and nothing parked`, claim, claimValues())

// 3. No parking: every row due; the claim skips rows with an unfinished predecessor in their lane.
const noParkingClaim = `WITH due AS (
     SELECT d.id FROM ${s}.deliveries d
     WHERE d.status IN ('pending', 'delivering') AND d.next_attempt_at <= $1
       AND NOT EXISTS (SELECT 1 FROM ${s}.deliveries p
         WHERE p.webhook_id = d.webhook_id AND p.ordering_key = d.ordering_key AND p.sequence < d.sequence
           AND p.status IN ('pending', 'delivering'))
     ORDER BY d.next_attempt_at LIMIT $2
     FOR UPDATE SKIP LOCKED)
   UPDATE ${s}.deliveries d SET status = 'delivering', next_attempt_at = $3 FROM due WHERE d.id = due.id`
await fill({ parked: false })
await pool.query(
  `CREATE INDEX deliveries_unfinished_lane_idx ON ${s}.deliveries (webhook_id, ordering_key, sequence)
   WHERE status IN ('pending', 'delivering')`,
)
await pool.query(`ANALYZE ${s}.deliveries`)
await explain(
  `claim of 100 lane heads among ${lanes * perLane} due rows (NOT EXISTS, no parking)`,
  noParkingClaim,
  [now(), 100, new Date(Date.now() + 60_000)],
)
// The same, once the oldest due rows are successors (heads retrying later): the scan passes them.
await pool.query(
  `UPDATE ${s}.deliveries SET next_attempt_at = now() + interval '1 minute' WHERE sequence = 1`,
)
await pool.query(`ANALYZE ${s}.deliveries`)
await explain(
  'the same with every head waiting for a retry (900,000 successors due before them)',
  noParkingClaim,
  [now(), 100, new Date(Date.now() + 60_000)],
)

await pool.query(`DROP SCHEMA ${schema} CASCADE`)
await pool.end()
