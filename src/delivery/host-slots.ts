import type { ClaimedDelivery } from '../storage/store.ts'

interface Host {
  running: number
  /** Claimed deliveries waiting for a slot, oldest first. */
  parked: ClaimedDelivery[]
  /** Moving average of an attempt's duration, in ms. */
  averageMs: number
  /** The time (ms) from which the next delivery given back is due again. */
  cursor: number
}

export type Admission = { kind: 'start' } | { kind: 'park' } | { kind: 'release'; at: number }

/** The duration assumed for a host before any attempt to it has finished. */
const initialAverageMs = 50

/**
 * Per-host concurrency: at most `perHost` attempts run to one host, and at most `perHost` more wait
 * in its line. A delivery beyond that is given back to the queue, due when the host should have
 * room for it: deliveries given back are spaced by the host's observed pace, so a saturated host's
 * backlog returns at the rate the host absorbs it instead of being claimed over and over, and other
 * hosts' deliveries keep flowing. The pace is an estimate (a busy process measures its own delays
 * too), so no delivery is given back for longer than `maxDelayMs`.
 */
export class HostSlots {
  readonly #perHost: number
  readonly #maxDelayMs: number
  readonly #hosts = new Map<string, Host>()
  #parked = 0

  constructor(perHost: number, maxDelayMs: number) {
    this.#perHost = perHost
    this.#maxDelayMs = maxDelayMs
  }

  /** Deliveries waiting in hosts' lines. */
  get parked(): number {
    return this.#parked
  }

  /**
   * Where a claimed delivery goes: a slot now, the host's line, or back to the queue until `at`.
   * With `unlimitedLine`, it always waits in line (for `processDue`, which must not defer work).
   */
  admit(host: string, delivery: ClaimedDelivery, now: number, unlimitedLine: boolean): Admission {
    const state = this.#host(host, now)
    if (state.running < this.#perHost) {
      state.running += 1
      return { kind: 'start' }
    }
    if (unlimitedLine || state.parked.length < this.#perHost) {
      state.parked.push(delivery)
      this.#parked += 1
      return { kind: 'park' }
    }
    const step = state.averageMs / this.#perHost
    const latest = now + this.#maxDelayMs
    const at = Math.min(latest, Math.max(state.cursor, now + (state.parked.length + 1) * step))
    state.cursor = Math.min(latest, at + step)
    return { kind: 'release', at: Math.ceil(at) }
  }

  /** An attempt to `host` ended: its slot is free, and its duration feeds the host's pace. */
  finish(host: string, durationMs: number): void {
    const state = this.#hosts.get(host)
    if (!state) return
    state.running -= 1
    state.averageMs = 0.8 * state.averageMs + 0.2 * Math.max(1, durationMs)
  }

  /**
   * Takes the oldest delivery waiting for `host` that `usable` accepts and gives it the slot just
   * freed; the ones it refuses (their lease ran short) are returned as `stale`.
   */
  takeParked(
    host: string,
    usable: (delivery: ClaimedDelivery) => boolean,
  ): { next: ClaimedDelivery | undefined; stale: ClaimedDelivery[] } {
    const state = this.#hosts.get(host)
    const stale: ClaimedDelivery[] = []
    while (state && state.parked.length > 0) {
      const candidate = state.parked.shift()!
      this.#parked -= 1
      if (usable(candidate)) {
        state.running += 1
        return { next: candidate, stale }
      }
      stale.push(candidate)
    }
    return { next: undefined, stale }
  }

  /** Empties every line (on close). */
  takeAllParked(): ClaimedDelivery[] {
    const all = [...this.#hosts.values()].flatMap((state) => state.parked.splice(0))
    this.#parked = 0
    return all
  }

  #host(host: string, now: number): Host {
    let state = this.#hosts.get(host)
    if (!state) {
      if (this.#hosts.size >= 10_000) this.#forgetIdle(now)
      state = { running: 0, parked: [], averageMs: initialAverageMs, cursor: 0 }
      this.#hosts.set(host, state)
    }
    return state
  }

  #forgetIdle(now: number): void {
    for (const [name, state] of this.#hosts) {
      if (state.running === 0 && state.parked.length === 0 && state.cursor < now) this.#hosts.delete(name)
    }
  }
}
