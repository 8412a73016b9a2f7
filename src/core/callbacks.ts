import type { DeliveryStatus } from './delivery-state.ts'
import { WhispererError } from './errors.ts'
import type { AttemptResult } from './outcome.ts'

/** What a callback learns about one attempt, after its outcome is stored. */
export interface CallbackContext {
  /** The receiver's response; null when the request failed before one arrived. */
  response: { status: number; headers: Record<string, string>; body: string } | null
  /** The transport error of an attempt that got no response. */
  error: { kind: string; message: string } | null
  eventType: string
  /** The instance given to `deliverEvent`, or the one `load` returns for queued deliveries; else null. */
  instance: unknown
  /** The body that was sent, parsed. */
  payload: unknown
  delivery: { uuid: string; webhookId: number; status: DeliveryStatus; retryCount: number }
}

export type Callback = (context: CallbackContext) => void | Promise<void>

/**
 * Callbacks a webhook may name. Unlike dj-whisperer, which imports any dotted path a subscriber
 * sends, only functions the host registered here can ever run.
 */
export class CallbackRegistry {
  readonly #callbacks = new Map<string, Callback>()

  register(name: string, callback: Callback): void {
    if (this.#callbacks.has(name)) {
      throw new WhispererError('callback_already_registered', `Callback "${name}" is already registered`)
    }
    this.#callbacks.set(name, callback)
  }

  has(name: string): boolean {
    return this.#callbacks.has(name)
  }

  get(name: string): Callback | undefined {
    return this.#callbacks.get(name)
  }
}

export function callbackContextResponse(result: AttemptResult): CallbackContext['response'] {
  return result.kind === 'response'
    ? { status: result.status, headers: result.headers, body: result.body }
    : null
}
