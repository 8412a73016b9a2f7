import { WhispererError } from '../core/errors.ts'
import type { EventTypeRegistry } from '../core/event-types.ts'
import type { Store, StoredEventType } from '../storage/store.ts'

/**
 * Event types declared without code (a configuration file, an admin's API call), stored so that
 * every process of a deployment knows them, and kept in the registry beside the ones code
 * registers. A type registered in code always wins over a stored one of the same name.
 */
export class EventTypeService {
  readonly #store: Store
  readonly #registry: EventTypeRegistry
  readonly #clock: () => Date
  /** The types this service put in the registry. */
  readonly #stored = new Set<string>()

  constructor(options: { store: Store; registry: EventTypeRegistry; clock: () => Date }) {
    this.#store = options.store
    this.#registry = options.registry
    this.#clock = options.clock
  }

  /** Declares or replaces an event type, checking its JSON Schema first. */
  async save(definition: StoredEventType): Promise<void> {
    if (this.#registry.has(definition.type) && !this.#stored.has(definition.type)) {
      throw new WhispererError(
        'event_type_already_registered',
        `Event type "${definition.type}" is declared in code`,
      )
    }
    this.#define(definition)
    await this.#store.eventTypeUpsert({ ...definition, now: this.#clock() })
  }

  async remove(type: string): Promise<void> {
    if (!(await this.#store.eventTypeDelete({ type }))) {
      throw new WhispererError(
        'not_found',
        `Event type "${type}" was not declared through the API or configuration`,
      )
    }
    if (this.#stored.delete(type)) this.#registry.remove(type)
  }

  /** Reads the stored event types into the registry, forgetting those another process removed. */
  async load(): Promise<void> {
    const stored = await this.#store.eventTypeList()
    const names = new Set(stored.map((definition) => definition.type))
    for (const type of this.#stored) {
      if (!names.has(type)) {
        this.#stored.delete(type)
        this.#registry.remove(type)
      }
    }
    for (const definition of stored) {
      if (this.#registry.has(definition.type) && !this.#stored.has(definition.type)) continue
      this.#define(definition)
    }
  }

  /** Makes sure a type another process may have declared is known here. */
  async ensure(type: string): Promise<void> {
    if (!this.#registry.has(type)) await this.load()
  }

  #define(definition: StoredEventType): void {
    this.#registry.define({
      type: definition.type,
      ...(definition.description ? { description: definition.description } : {}),
      ...(definition.jsonSchema ? { jsonSchema: definition.jsonSchema } : {}),
      ...(definition.fields ? { fields: definition.fields } : {}),
    })
    this.#stored.add(definition.type)
  }
}
