import { WhispererError } from '../core/errors.ts'
import type { Queryable } from '../storage/database.ts'
import type { Whisperer } from '../whisperer.ts'

/** What {@link bindEmitter} needs of an emitter: Node's `EventEmitter` has it, and so do most others. */
export interface EmitterLike {
  on(name: string, listener: (...args: unknown[]) => unknown): unknown
  off(name: string, listener: (...args: unknown[]) => unknown): unknown
  /** Used to report a failed delivery as an `'error'` event, when the emitter has listeners for it. */
  emit?(name: string, ...args: unknown[]): unknown
  listenerCount?(name: string): number
}

/** The emitted event whose delivery failed, passed to `onError`. */
export interface EmittedEvent {
  /** The emitter's event name. */
  name: string
  /** The event type it was to be delivered as. */
  type: string
  args: unknown[]
}

export interface EmitterBindingOptions {
  /** The instance to deliver, from the emitted arguments. @default the first argument */
  instance?: (...args: unknown[]) => unknown
  /**
   * The caller's transaction, from the emitted arguments: the event then commits or rolls back with
   * it. The transaction must wait for the listener, so the emitter's `emit` must await its
   * listeners' promises (Node's `EventEmitter` does not).
   */
  tx?: (...args: unknown[]) => Queryable | null | undefined
  /**
   * Called when a delivery fails. Without it, the error is emitted as `'error'` on the emitter if it
   * has a listener for that, and logged otherwise: it is never thrown into the emitter.
   */
  onError?: (error: unknown, event: EmittedEvent) => void
}

/**
 * Delivers events emitted by `emitter`: `events` maps an emitter's event name to the event type it
 * is delivered as (`{ 'user.created': 'user-created' }`), its first argument being the instance.
 * Each listener resolves once its event is queued or its error reported. Returns `unbind`, which
 * removes the listeners. The event types must be registered first.
 */
export function bindEmitter(
  whisperer: Whisperer,
  emitter: EmitterLike,
  events: Record<string, string>,
  options: EmitterBindingOptions = {},
): () => void {
  const entries = Object.entries(events)
  for (const [name, type] of entries) {
    if (name === 'error') {
      throw new WhispererError(
        'invalid_options',
        "The 'error' event cannot be bound: failures are reported on it",
      )
    }
    whisperer.eventTypes.registry.get(type)
  }
  const report = (error: unknown, event: EmittedEvent): void => {
    try {
      if (options.onError) options.onError(error, event)
      else if (emitter.emit && (emitter.listenerCount?.('error') ?? 0) > 0) emitter.emit('error', error)
      else {
        whisperer.logger.error(
          { err: error, event: event.name, type: event.type },
          'delivering an event failed',
        )
      }
    } catch (reportError) {
      whisperer.logger.error(
        { err: reportError, cause: error, event: event.name },
        'reporting a failed event failed',
      )
    }
  }
  const listeners = entries.map(([name, type]) => {
    const listener = async (...args: unknown[]): Promise<void> => {
      try {
        const instance = options.instance ? options.instance(...args) : args[0]
        const tx = options.tx?.(...args)
        await whisperer.deliverEvent(instance, type, tx ? { tx } : {})
      } catch (error) {
        report(error, { name, type, args })
      }
    }
    emitter.on(name, listener)
    return { name, listener }
  })
  return () => {
    for (const { name, listener } of listeners.splice(0)) emitter.off(name, listener)
  }
}
