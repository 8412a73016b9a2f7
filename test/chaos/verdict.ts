import { expect } from 'vitest'
import type { ReceivedRequest } from '../support/receiver.ts'
import type { Publish } from './publisher.ts'

/** The longest a refused publish may wait for its answer. */
export const refusalBoundMs = 5_000
/** The longest, in seconds, from the database (or the killed process) being back to publishes and deliveries succeeding again. */
export const recoveryBoundS = 5

/** Deliveries by state, read from the database around the fault. */
export interface Snapshot {
  /** Finished (delivered, failed or cancelled). */
  finished: Set<string>
  /**
   * Those a worker may have held at the fault: claimed ones, read just after a process was killed;
   * or every unfinished one, when the database itself went down (claims made in the moment between
   * reading and the fault cannot be seen from outside).
   */
  held: Set<string>
}

/** One chaos run: the load, what the receiver got, and the fault's moments. */
export interface ChaosRun {
  name: string
  publishes: Publish[]
  requests: ReceivedRequest[]
  faultAt: number
  /** When the database accepted connections again, or the killed process ran again. */
  backAt: number
  /** Read just before a database fault, or just after a process was killed. */
  snapshot: Snapshot
  /**
   * A delivery was in flight if the snapshot has it held, or if it reached the receiver by this
   * moment without being finished in the snapshot: its outcome may never have been stored.
   */
  inFlightUntil: number
  /** The serving process itself was killed: publishes until it is back may find no connection. */
  serveKilled: boolean
  /** Null when the queue drained after the load; else why it did not. */
  undrained: string | null
}

export interface Figures {
  acked: number
  delivered: number
  lost: string[]
  deliveredUnacked: number
  refused: number
  status5xx: number
  status503: number
  status429: number
  /** Refusals by status and code, e.g. `500:internal_error=12`. */
  refusalCodes: string
  /** Refusals that were not a JSON 5xx with a code. */
  badRefusals: Publish[]
  slowRefusals: Publish[]
  unreachable: Publish[]
  timedOut: number
  slowestRefusalMs: number
  slowestAckMs: number
  duplicates: number
  duplicatedOutsideInFlight: string[]
  inFlight: number
  outageS: number
  recoveryPublishS: number | null
  recoveryDeliveryS: number | null
}

/** A delivery's uuid as the receiver sees it in `webhook-id` (hex, no dashes). */
export function deliveryKey(uuid: string): string {
  return uuid.replaceAll('-', '').toLowerCase()
}

function tally(values: string[]): string {
  const counts = new Map<string, number>()
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1)
  return [...counts].map(([value, count]) => `${value}=${count}`).join('|') || 'none'
}

const seconds = (ms: number) => Math.round(ms / 100) / 10

export function figuresOf(run: ChaosRun): Figures {
  const acked = run.publishes.filter((publish) => publish.kind === 'acked')
  const ackedIds = new Set(acked.flatMap((publish) => publish.uuids.map(deliveryKey)))
  const firstSeen = new Map<string, number>()
  const times = new Map<string, number>()
  for (const request of run.requests) {
    const id = deliveryKey(String(request.headers['webhook-id']))
    if (!firstSeen.has(id)) firstSeen.set(id, request.receivedAt)
    times.set(id, (times.get(id) ?? 0) + 1)
  }
  const inFlight = new Set(run.snapshot.held)
  for (const [id, at] of firstSeen) {
    if (at <= run.inFlightUntil && !run.snapshot.finished.has(id)) inFlight.add(id)
  }
  const duplicated = [...times].filter(([, count]) => count > 1).map(([id]) => id)
  const refused = run.publishes.filter((publish) => publish.kind === 'refused')
  const waited = (publish: Publish) => (publish.answeredAt ?? Number.POSITIVE_INFINITY) - publish.sentAt
  const firstAck = acked
    .filter((publish) => publish.sentAt >= run.backAt)
    .reduce((first, publish) => Math.min(first, publish.answeredAt!), Number.POSITIVE_INFINITY)
  const firstDelivery = [...firstSeen.values()]
    .filter((at) => at >= run.backAt)
    .reduce((first, at) => Math.min(first, at), Number.POSITIVE_INFINITY)
  return {
    acked: acked.length,
    delivered: [...ackedIds].filter((id) => firstSeen.has(id)).length,
    lost: [...ackedIds].filter((id) => !firstSeen.has(id)),
    deliveredUnacked: [...firstSeen.keys()].filter((id) => !ackedIds.has(id)).length,
    refused: refused.length,
    status5xx: refused.filter((publish) => publish.status! >= 500).length,
    status503: refused.filter((publish) => publish.status === 503).length,
    status429: refused.filter((publish) => publish.status === 429).length,
    refusalCodes: tally(refused.map((publish) => `${publish.status}:${publish.code ?? 'none'}`)),
    badRefusals: refused.filter((publish) => publish.status! < 500 || publish.code === null),
    slowRefusals: refused.filter((publish) => waited(publish) > refusalBoundMs),
    unreachable: run.publishes.filter((publish) => publish.kind === 'unreachable'),
    timedOut: run.publishes.filter((publish) => publish.kind === 'timed-out').length,
    slowestRefusalMs: Math.max(0, ...refused.map(waited)),
    slowestAckMs: Math.max(0, ...acked.map(waited)),
    duplicates: run.requests.length - firstSeen.size,
    duplicatedOutsideInFlight: duplicated.filter((id) => !inFlight.has(id)),
    inFlight: inFlight.size,
    outageS: seconds(run.backAt - run.faultAt),
    recoveryPublishS: Number.isFinite(firstAck) ? seconds(firstAck - run.backAt) : null,
    recoveryDeliveryS: Number.isFinite(firstDelivery) ? seconds(firstDelivery - run.backAt) : null,
  }
}

/** One greppable line of figures. */
export function figuresLine(name: string, publishes: number, f: Figures): string {
  return (
    `chaos ${name}: publishes=${publishes}, acked=${f.acked}, delivered=${f.delivered}, lost=${f.lost.length}, ` +
    `delivered_unacked=${f.deliveredUnacked}, refused=${f.refused}, 5xx=${f.status5xx}, 503=${f.status503}, ` +
    `429=${f.status429}, codes=${f.refusalCodes}, unreachable=${f.unreachable.length}, timed_out=${f.timedOut}, ` +
    `slowest_refusal_ms=${f.slowestRefusalMs}, slowest_ack_ms=${f.slowestAckMs}, duplicates=${f.duplicates}, in_flight_bound=${f.inFlight}, ` +
    `outage_s=${f.outageS}, recovery_publish_s=${f.recoveryPublishS ?? 'none'}, ` +
    `recovery_delivery_s=${f.recoveryDeliveryS ?? 'none'}`
  )
}

/**
 * Publishes by the second they were sent in, from the fault (`+0s`): a acked, r refused,
 * u unreachable, t timed out; `back` marks the second the database or process was back.
 */
export function timelineLine(run: ChaosRun): string {
  const letter = { acked: 'a', refused: 'r', unreachable: 'u', 'timed-out': 't' } as const
  const seconds = new Map<number, Map<string, number>>()
  for (const publish of run.publishes) {
    const second = Math.floor((publish.sentAt - run.faultAt) / 1000)
    const counts = seconds.get(second) ?? new Map<string, number>()
    counts.set(letter[publish.kind], (counts.get(letter[publish.kind]) ?? 0) + 1)
    seconds.set(second, counts)
  }
  const back = Math.floor((run.backAt - run.faultAt) / 1000)
  const cells = [...seconds]
    .sort(([a], [b]) => a - b)
    .map(([second, counts]) => {
      const tally = [...counts].map(([kind, count]) => `${kind}${count}`).join(' ')
      return `${second >= 0 ? '+' : ''}${second}s${second === back ? ' back' : ''} ${tally}`
    })
  return `chaos ${run.name} timeline: ${cells.join(' | ')}`
}

/** Prints the run's figures, then asserts the four things every chaos run must show. */
export function expectSound(run: ChaosRun): void {
  const f = figuresOf(run)
  console.log(`${figuresLine(run.name, run.publishes.length, f)}\n${timelineLine(run)}`)

  // 1. Every publish acknowledged with a 2xx is delivered.
  expect(f.acked, 'no publish was acknowledged').toBeGreaterThan(0)
  expect(
    run.publishes.filter((publish) => publish.kind === 'acked' && publish.uuids.length !== 1),
    'acknowledgements naming other than one delivery',
  ).toEqual([])
  expect(f.lost.slice(0, 5), `acknowledged but never delivered (${f.lost.length})`).toEqual([])
  expect(run.undrained, 'the queue did not drain after the load').toBeNull()

  // 2. Every refused publish got a JSON 5xx or 503 (never a 429 or another 4xx), within a bound;
  // none went unanswered, and only a killed serving process leaves publishes without a connection.
  const brief = (publish: Publish) =>
    `${publish.status ?? publish.error} ${publish.code ?? ''} after ${(publish.answeredAt ?? Number.NaN) - publish.sentAt} ms`
  expect(f.badRefusals.map(brief), 'refusals other than a JSON 5xx with a code').toEqual([])
  expect(f.slowRefusals.map(brief), `refusals slower than ${refusalBoundMs} ms`).toEqual([])
  expect(f.timedOut, 'publishes never answered').toBe(0)
  expect(
    f.unreachable.filter((publish) => !run.serveKilled || publish.sentAt > run.backAt).map(brief),
    'publishes that found no connection to a running service',
  ).toEqual([])

  // 3. Duplicates are at most the deliveries that were in flight, and only those.
  expect(f.duplicatedOutsideInFlight, 'delivered twice although not in flight at the fault').toEqual([])
  expect(f.duplicates).toBeLessThanOrEqual(f.inFlight)

  // 4. Publishes and deliveries succeed again within the bound once the database (or process) is back.
  expect(f.recoveryPublishS, 'no publish acknowledged after recovery').not.toBeNull()
  expect(f.recoveryPublishS!).toBeLessThanOrEqual(recoveryBoundS)
  expect(f.recoveryDeliveryS, 'no delivery after recovery').not.toBeNull()
  expect(f.recoveryDeliveryS!).toBeLessThanOrEqual(recoveryBoundS)
}
