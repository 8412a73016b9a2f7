import type { ReceiverStats } from '../receiver.ts'

export type { ReceiverStats }

/** Talks to the receiver process over its control paths. Control traffic only, never the hot path. */
export class ReceiverClient {
  readonly origin: string

  constructor(port: number) {
    this.origin = `http://127.0.0.1:${port}`
  }

  /** A webhook target on the receiver. */
  url(path: string): string {
    return `${this.origin}${path}`
  }

  /** Clears the counters; `record: false` counts requests without keeping their ids and times. */
  async reset(mode: 'ok' | 'failing' = 'ok', options: { record?: boolean } = {}): Promise<ReceiverStats> {
    return this.#get(`/_reset?mode=${mode}${options.record === false ? '&record=0' : ''}`, 'POST')
  }

  async stats(): Promise<ReceiverStats> {
    return this.#get('/_stats')
  }

  /** Every request's `webhook-id` and arrival wall time (ms), in arrival order. */
  async times(): Promise<{ ids: string[]; times: number[] }> {
    return this.#get('/_times')
  }

  async #get<T>(path: string, method = 'GET'): Promise<T> {
    const response = await fetch(`${this.origin}${path}`, { method })
    if (!response.ok) throw new Error(`receiver ${path} answered ${response.status}`)
    return (await response.json()) as T
  }
}
