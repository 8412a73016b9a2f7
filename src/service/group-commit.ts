/**
 * Coalesces concurrent calls into batches, written one statement at a time: while one batch is
 * being written, new items wait and go together in the next. An item alone is written at once, so
 * a lone caller pays no delay. If a batch fails, its items are written one by one, so that one bad
 * item fails alone.
 */
export class GroupCommit<I, R> {
  readonly #write: (items: I[]) => Promise<R[]>
  readonly #maxBatch: number
  #queue: { item: I; resolve: (result: R) => void; reject: (error: unknown) => void }[] = []
  #writing = false

  constructor(write: (items: I[]) => Promise<R[]>, maxBatch: number) {
    this.#write = write
    this.#maxBatch = maxBatch
  }

  submit(item: I): Promise<R> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ item, resolve, reject })
      if (!this.#writing) {
        this.#writing = true
        // Let the calls made in this same turn join the first batch.
        queueMicrotask(() => void this.#drain())
      }
    })
  }

  async #drain(): Promise<void> {
    for (;;) {
      if (this.#queue.length === 0) {
        // One turn of the event loop, so that calls whose requests arrived while writing join the
        // next batch: on PGlite, whose queries run on this thread, none could be read meanwhile.
        await new Promise((resolve) => setImmediate(resolve))
        if (this.#queue.length === 0) break
      }
      const batch = this.#queue.splice(0, this.#maxBatch)
      try {
        const results = await this.#write(batch.map((entry) => entry.item))
        for (const [index, entry] of batch.entries()) entry.resolve(results[index]!)
      } catch (error) {
        if (batch.length === 1) batch[0]!.reject(error)
        else {
          await Promise.all(
            batch.map((entry) =>
              this.#write([entry.item]).then(
                ([result]) => entry.resolve(result!),
                (itemError) => entry.reject(itemError),
              ),
            ),
          )
        }
      }
    }
    this.#writing = false
  }
}
