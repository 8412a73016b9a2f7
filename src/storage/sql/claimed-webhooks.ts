import {
  type ClaimedDelivery,
  type ClaimedRow,
  type ClaimedWebhook,
  claimedWebhookColumns,
  toClaimedWebhook,
} from '../rows.ts'
import type { Sql } from './context.ts'
import { bind, statement } from './statement.ts'

const forSending = statement(
  'webhooksForSending',
  (s) => `SELECT ${claimedWebhookColumns} FROM ${s}.webhooks WHERE id = ANY($1::bigint[])`,
)

/** Webhooks as sending needs them, by id; an entry is used only while its version matches. */
export class ClaimedWebhooks {
  readonly #webhooks = new Map<number, ClaimedWebhook>()
  readonly #capacity: number

  /** `capacity`: the most webhooks kept; past it the cache starts again empty. */
  constructor(capacity = 10_000) {
    this.#capacity = capacity
  }

  /**
   * Attaches each claimed row's webhook, from the cache when its version matches, otherwise read
   * (all missing ones in one query) and cached. A claim's webhooks are gathered apart from the
   * cache, so emptying a full cache never leaves a claimed row without its webhook.
   */
  async attach(sql: Sql, rows: ClaimedRow[]): Promise<ClaimedDelivery[]> {
    const found = new Map<number, ClaimedWebhook>()
    const stale = new Set<number>()
    for (const row of rows) {
      const cached = this.#webhooks.get(row.webhookId)
      if (cached && cached.updatedAt.getTime() === row.webhookUpdatedAt.getTime())
        found.set(cached.id, cached)
      else stale.add(row.webhookId)
    }
    if (stale.size > 0) {
      const { rows: fresh } = await sql.query(forSending, bind({ $1: [...stale] }))
      if (this.#webhooks.size + fresh.length > this.#capacity) this.#webhooks.clear()
      for (const row of fresh) {
        const webhook = toClaimedWebhook(row, sql.keys)
        found.set(webhook.id, webhook)
        this.#webhooks.set(webhook.id, webhook)
      }
    }
    return rows.map(({ webhookId, webhookUpdatedAt: _version, ...row }) => ({
      ...row,
      webhook: found.get(webhookId)!,
    }))
  }
}

/** One webhook as sending needs it, read now (a ping's): its secrets opened, or the error that prevented it. */
export async function webhookForSending(sql: Sql, params: { id: number }): Promise<ClaimedWebhook | null> {
  const { rows } = await sql.query(forSending, bind({ $1: [params.id] }))
  return rows[0] ? toClaimedWebhook(rows[0], sql.keys) : null
}
