import { setTimeout as sleep } from 'node:timers/promises'

/** What became of one `POST events/`. */
export interface Publish {
  sentAt: number
  /** When the answer was read in full; null without one. */
  answeredAt: number | null
  /**
   * acked: a 2xx; refused: any other HTTP answer; unreachable: no connection (the service was
   * down); timed-out: connected, but no answer within the client's timeout.
   */
  kind: 'acked' | 'refused' | 'unreachable' | 'timed-out'
  status: number | null
  /** The JSON error's `code`, for a refusal that had one. */
  code: string | null
  /** The deliveries an acknowledgement names (their uuids are the receiver's `webhook-id`). */
  uuids: string[]
  error: string | null
}

export interface PublisherOptions {
  url: () => string
  token: string
  eventType: string
  perSecond: number
  /** The most publishes it sends, whatever happens. */
  maxCount: number
  timeoutMs: number
}

/** A steady publishing load: one publish every 1/perSecond s, not waiting for earlier answers. */
export interface PublishingLoad {
  /** Stops sending; resolves with every publish once all are answered or given up on. */
  stop(): Promise<Publish[]>
  /** Publishes answered (or given up on) so far. */
  publishes: Publish[]
}

async function publishOne(options: PublisherOptions, index: number): Promise<Publish> {
  const sentAt = Date.now()
  const result: Publish = {
    sentAt,
    answeredAt: null,
    kind: 'unreachable',
    status: null,
    code: null,
    uuids: [],
    error: null,
  }
  try {
    const response = await fetch(`${options.url()}/whisperer/events/`, {
      method: 'POST',
      headers: { authorization: `Token ${options.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ event_type: options.eventType, data: { index } }),
      signal: AbortSignal.timeout(options.timeoutMs),
    })
    const text = await response.text()
    result.answeredAt = Date.now()
    result.status = response.status
    let body: { code?: unknown; deliveries?: { uuid?: unknown }[] } | null = null
    try {
      body = JSON.parse(text)
    } catch {}
    if (response.ok) {
      result.kind = 'acked'
      result.uuids = (body?.deliveries ?? []).map((delivery) => String(delivery.uuid))
    } else {
      result.kind = 'refused'
      result.code = typeof body?.code === 'string' ? body.code : null
    }
  } catch (error) {
    const { name, message, cause } = error as Error & { cause?: { code?: string } }
    result.kind = name === 'TimeoutError' ? 'timed-out' : 'unreachable'
    result.error = cause?.code ?? message
  }
  return result
}

export function startPublishing(options: PublisherOptions): PublishingLoad {
  const publishes: Publish[] = []
  const answers: Promise<void>[] = []
  let stopped = false
  const sending = (async () => {
    const start = Date.now()
    for (let index = 0; index < options.maxCount && !stopped; index += 1) {
      const wait = start + (index * 1000) / options.perSecond - Date.now()
      if (wait > 0) await sleep(wait)
      if (stopped) break
      answers.push(publishOne(options, index).then((publish) => void publishes.push(publish)))
    }
  })()
  return {
    publishes,
    async stop() {
      stopped = true
      await sending
      await Promise.all(answers)
      return publishes.sort((a, b) => a.sentAt - b.sentAt)
    },
  }
}
