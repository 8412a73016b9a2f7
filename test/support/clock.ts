/** A clock tests move by hand, so time-dependent behaviour needs no sleeping. */
export class ManualClock {
  #now: number

  constructor(start = Date.parse('2026-01-01T00:00:00Z')) {
    this.#now = start
  }

  readonly now = (): Date => new Date(this.#now)

  advance(ms: number): void {
    this.#now += ms
  }

  set(date: Date): void {
    this.#now = date.getTime()
  }
}
