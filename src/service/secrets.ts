import { WhispererError } from '../core/errors.ts'
import type { Logger } from '../logger.ts'
import type { Store } from '../storage/store.ts'

/** How far a rewrap has got. */
export interface RewrapProgress {
  /** Webhooks read so far (deleted ones too: their secrets are stored all the same). */
  scanned: number
  rewrapped: number
  /** Webhooks whose secrets could not be opened, with why (the key id is named). */
  failed: { id: number; error: string }[]
  /** The id to resume after (`afterId`); null when done. */
  lastId: number | null
}

/** Secrets at rest: sealing what is stored with the current encryption key. */
export class SecretService {
  readonly #store: Store
  readonly #logger: Logger

  constructor(options: { store: Store; logger: Logger }) {
    this.#store = options.store
    this.#logger = options.logger
  }

  /** How many webhooks hold a secret not yet sealed with the current key. */
  pending(): Promise<number> {
    return this.#store.secretsPending()
  }

  /**
   * Re-encrypts every stored secret (webhook keys and `config.auth` credentials) with the current
   * encryption key, `batchSize` webhooks at a time, opening each with whichever configured key
   * sealed it; values in clear are sealed. Resumable: pass the last `lastId` reported as `afterId`,
   * or run it again (what is already current is skipped). A secret whose key is missing or wrong
   * is reported in `failed`, never lost; the rest go on.
   */
  async rewrap(
    options: { batchSize?: number; afterId?: number; onProgress?: (progress: RewrapProgress) => void } = {},
  ): Promise<RewrapProgress> {
    if (!this.#store.encrypting) {
      throw new WhispererError(
        'invalid_options',
        'No encryption key is set: give WHISPERER_ENCRYPTION_KEYS (encryptionKeys) to encrypt secrets',
      )
    }
    const limit = options.batchSize ?? 500
    const progress: RewrapProgress = { scanned: 0, rewrapped: 0, failed: [], lastId: options.afterId ?? 0 }
    while (progress.lastId !== null) {
      const batch = await this.#store.secretsRewrap({ afterId: progress.lastId, limit })
      progress.scanned += batch.scanned
      progress.rewrapped += batch.rewrapped
      progress.failed.push(...batch.failed)
      progress.lastId = batch.lastId
      options.onProgress?.(progress)
    }
    for (const failure of progress.failed) this.#logger.error(failure, 'a secret could not be re-encrypted')
    this.#logger.info(
      { scanned: progress.scanned, rewrapped: progress.rewrapped, failed: progress.failed.length },
      'secrets re-encrypted with the current key',
    )
    return progress
  }
}
