import type { Session } from './session.ts'
import { payload, sleep, wallNow, yieldToLoop } from './settings.ts'

/** The publisher keeps at most this many deliveries (or 1 s of the observed rate) queued ahead. */
const minBacklog = 1000

export interface PublishOptions {
  eventType: string
  /** Publishing loops, each awaiting its `deliverEvent` before the next call. */
  lanes: number
  /** When publishing stops (`Date.now()` ms). */
  until: number
  /** Events published at most. */
  maxEvents: number
  /** Events are published with ordering keys, round-robin over this many (`key:0`, `key:1`, …). */
  orderingKeys?: number
}

export interface Published {
  events: number
  /** Deliveries the events were fanned out to. */
  enqueued: number
  /** Wall time (ms) of the first `deliverEvent` call and of the end of publishing. */
  firstAt: number
  publishedAt: number
  /** The share of the publishing loops' time spent waiting for the workers (0–1). */
  heldBack: number
}

/**
 * Publishes events (about 1 KB each) with `deliverEvent` (queued) from `lanes` loops until `until`,
 * while the workers deliver. The publisher is paced by the receiver's count of 200s (another
 * process, so the check costs the database nothing): it stays at most about 1 s of delivery (at
 * least 1,000 deliveries) ahead, so that the workers always have a queue but it never grows beyond
 * what a deadline can drain. The progress loop also samples this process's RSS.
 */
export async function publishPaced(session: Session, options: PublishOptions): Promise<Published> {
  const { receiver } = session.ctx
  const firstAt = wallNow()
  let events = 0
  let enqueued = 0
  let ok = 0
  let backlog = minBacklog
  let publishing = true
  let waited = 0
  const progress = (async () => {
    let previous = { ok: 0, at: performance.now() }
    while (publishing) {
      await sleep(200)
      const stats = await receiver.stats().catch(() => null)
      if (!stats) continue
      const at = performance.now()
      ok = stats.ok
      const rate = ((stats.ok - previous.ok) / (at - previous.at)) * 1000
      backlog = Math.max(minBacklog, rate)
      previous = { ok: stats.ok, at }
      session.sampleRss()
    }
  })()
  const lane = async () => {
    while (events < options.maxEvents && Date.now() < options.until) {
      if (enqueued - ok > backlog) {
        const waitFrom = performance.now()
        await sleep(2)
        waited += performance.now() - waitFrom
        continue
      }
      events += 1
      const key = options.orderingKeys ? { orderingKey: `key:${events % options.orderingKeys}` } : {}
      const result = await session.whisperer.deliverEvent(payload(events), options.eventType, key)
      enqueued += result.deliveries.length
      // PGlite's queries settle without I/O: yield so that the worker's sockets and timers run.
      await yieldToLoop()
    }
  }
  await Promise.all(Array.from({ length: options.lanes }, lane))
  const publishedAt = wallNow()
  publishing = false
  await progress
  const seconds = (publishedAt - firstAt) / 1000
  return {
    events,
    enqueued,
    firstAt,
    publishedAt,
    heldBack: seconds > 0 ? waited / 1000 / (options.lanes * seconds) : 0,
  }
}
