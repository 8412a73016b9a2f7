import { beforeEach, expect, test } from 'vitest'
import type { ClaimedRow } from '../../src/storage/rows.ts'
import { ClaimedWebhooks } from '../../src/storage/sql/claimed-webhooks.ts'
import { Sql } from '../../src/storage/sql/context.ts'
import type { Whisperer } from '../../src/whisperer.ts'
import { forEachDatabase } from '../support/databases.ts'

forEachDatabase((db) => {
  let whisperer: Whisperer
  beforeEach(async () => {
    whisperer = await db.whisperer()
    whisperer.eventTypes.register({ type: 'package-created' })
  })

  test('a full webhook cache emptied during a claim leaves no claimed row without its webhook', async () => {
    const webhooks: Awaited<ReturnType<Whisperer['webhooks']['create']>>[] = []
    for (const n of [1, 2, 3]) {
      webhooks.push(
        await whisperer.webhooks.create('acme', {
          eventType: 'package-created',
          targetUrl: `https://example.com/hooks/${n}`,
        }),
      )
    }
    const sql = new Sql(whisperer.database, whisperer.config.schema)
    const claimed = (ids: number[]): ClaimedRow[] =>
      ids.map((id, i) => {
        const webhook = webhooks.find((w) => w.id === id)!
        return { id: i + 1, webhookId: id, webhookUpdatedAt: webhook.updatedAt } as ClaimedRow
      })
    const cache = new ClaimedWebhooks(2)
    const [a, b, c] = webhooks.map((w) => w.id) as [number, number, number]
    const first = await cache.attach(sql, claimed([a, b]))
    expect(first.map((row) => row.webhook?.id)).toEqual([a, b])
    // `a` is cached and current, `c` is read: the cache overflows and starts again empty.
    const second = await cache.attach(sql, claimed([a, c]))
    expect(second.map((row) => row.webhook?.id)).toEqual([a, c])
    const third = await cache.attach(sql, claimed([b, a, c]))
    expect(third.map((row) => row.webhook?.id)).toEqual([b, a, c])
  })
})
