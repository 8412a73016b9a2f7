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

  /**
   * Attaches each claimed row's webhook, from the cache when its version matches, otherwise read
   * (all missing ones in one query) and cached.
   */
  async attach(sql: Sql, rows: ClaimedRow[]): Promise<ClaimedDelivery[]> {
    const stale = new Set<number>()
    for (const row of rows) {
      const cached = this.#webhooks.get(row.webhookId)
      if (!cached || cached.updatedAt.getTime() !== row.webhookUpdatedAt.getTime()) stale.add(row.webhookId)
    }
    if (stale.size > 0) {
      const { rows: fresh } = await sql.query(forSending, bind({ $1: [...stale] }))
      if (this.#webhooks.size + fresh.length > 10_000) this.#webhooks.clear()
      for (const row of fresh) {
        const webhook = toClaimedWebhook(row)
        this.#webhooks.set(webhook.id, webhook)
      }
    }
    return rows.map(({ webhookId, webhookUpdatedAt: _version, ...row }) => ({
      ...row,
      webhook: this.#webhooks.get(webhookId)!,
    }))
  }
}
