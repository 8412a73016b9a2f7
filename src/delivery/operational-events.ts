import { WhispererError } from '../core/errors.ts'
import {
  type OperationalEvent,
  type OperationalEventName,
  operationalEventNames,
  operationalPrefix,
} from '../core/operational-events.ts'
import type { Logger } from '../logger.ts'
import type { Emitted, OperationsOptions } from '../storage/store.ts'
import type { Metrics } from '../telemetry/metrics.ts'

export type OperationalListener = (event: OperationalEvent) => void | Promise<void>

/**
 * Where the operational events this process causes go once their statement has committed: to the
 * in-process listeners (`whisperer.on`), and to the local worker when they made deliveries. The
 * events themselves are stored and fanned out by the statement of the change that causes them.
 */
export class OperationalEvents {
  readonly options: OperationsOptions
  readonly #logger: Logger
  readonly #listeners = new Map<string, Set<OperationalListener>>()

  readonly #metrics: Metrics | null
  /** Told when deliveries were made for operational events, so the local worker wakes. */
  readonly #onDeliveries: () => void

  constructor(
    options: OperationsOptions & { logger: Logger; metrics: Metrics | null; onDeliveries: () => void },
  ) {
    this.options = { payloadKey: options.payloadKey, owner: options.owner }
    this.#logger = options.logger
    this.#metrics = options.metrics
    this.#onDeliveries = options.onDeliveries
  }

  /**
   * Calls `listener` for each operational event named `name` (`webhook.disabled`, or `*` for all)
   * that this process causes, after it is stored. Returns a function that removes it.
   */
  on(name: OperationalEventName | '*', listener: OperationalListener): () => void {
    if (name !== '*' && !operationalEventNames.includes(name)) {
      throw new WhispererError(
        'invalid_options',
        `Unknown operational event "${name}": one of ${operationalEventNames.join(', ')}, or *`,
      )
    }
    const listeners = this.#listeners.get(name) ?? new Set()
    listeners.add(listener)
    this.#listeners.set(name, listeners)
    return () => {
      listeners.delete(listener)
    }
  }

  /** Hands what a committed statement emitted to the listeners; a listener's failure is logged. */
  emitted(emitted: Emitted): void {
    if (emitted.deliveries > 0) this.#onDeliveries()
    for (const { deliveries, ...event } of emitted.events) {
      // Stored whether or not a webhook receives them, so always counted as published.
      this.#metrics?.published(event.type, deliveries)
      const name = event.type.slice(operationalPrefix.length)
      for (const listener of [...(this.#listeners.get(name) ?? []), ...(this.#listeners.get('*') ?? [])]) {
        Promise.resolve()
          .then(() => listener(event))
          .catch((error) =>
            this.#logger.error({ err: error, event: event.type }, 'an operational event listener failed'),
          )
      }
    }
  }
}
