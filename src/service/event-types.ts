import { WhispererError } from '../core/errors.ts'
import { type EventTypeDefinition, EventTypeRegistry } from '../core/event-types.ts'
import { isOperationalType, operationalEventTypes, operationalPrefix } from '../core/operational-events.ts'
import type { Queryable } from '../storage/database.ts'
import type { Store, StoredEventType } from '../storage/store.ts'

/** An event type declared without code: stored, so that every process of a deployment knows it. */
export interface DeclaredEventType {
  type: string
  description?: string | null
  /** A JSON Schema the event data must match. */
  jsonSchema?: object | null
  /** The top-level fields subscribers may see and filter on. @default the JSON Schema's properties */
  fields?: string[] | null
}

/** How long stored types read from the database are trusted by publishing, in milliseconds. */
const storedTypesMaxAgeMs = 5000

/**
 * The event types of one Whisperer: those registered in code (`register`) and those declared
 * without code (`declare`, by a configuration file or an admin's API call), stored so that every
 * process knows them. A type registered in code always wins over a stored one of the same name.
 * The services read stored types again when they meet a name they do not know.
 */
export class EventTypes {
  /** @internal The definitions known in this process, code's and the stored ones read last. */
  readonly registry = new EventTypeRegistry()
  readonly #store: Store
  readonly #clock: () => Date
  /** The types registered in code. */
  readonly #code = new Set<string>()
  /** The stored types in the registry. */
  readonly #stored = new Set<string>()
  #readAt = Number.NEGATIVE_INFINITY
  /** The read in progress outside any transaction, shared by whoever needs one meanwhile. */
  #reading: Promise<void> | null = null

  /** @internal Use `whisperer.eventTypes`. */
  constructor(options: { store: Store; clock: () => Date }) {
    this.#store = options.store
    this.#clock = options.clock
    for (const definition of operationalEventTypes) {
      this.registry.builtIn(definition)
      this.#code.add(definition.type)
    }
  }

  /** Registers an event type declared in code; registering a type twice is an error. */
  register<T>(definition: EventTypeDefinition<T>): void {
    refuseReserved(definition?.type)
    if (this.#code.has(definition?.type)) {
      throw new WhispererError(
        'event_type_already_registered',
        `Event type "${definition.type}" is already registered`,
      )
    }
    if (this.#stored.delete(definition?.type)) this.registry.remove(definition.type)
    this.registry.register(definition)
    this.#code.add(definition.type)
  }

  /**
   * Declares or replaces a stored event type, checking its JSON Schema first. A type registered in
   * code is `event_type_already_registered`.
   */
  async declare(definition: DeclaredEventType): Promise<void> {
    refuseReserved(definition.type)
    if (this.#code.has(definition.type)) {
      throw new WhispererError(
        'event_type_already_registered',
        `Event type "${definition.type}" is declared in code`,
      )
    }
    const stored: StoredEventType = {
      type: definition.type,
      description: definition.description ?? null,
      jsonSchema: definition.jsonSchema ?? null,
      fields: definition.fields ?? null,
    }
    this.#define(stored)
    await this.#store.eventTypeUpsert({ ...stored, now: this.#clock() })
  }

  /** Removes a stored event type; one that was never declared (or is registered in code) is `not_found`. */
  async remove(type: string): Promise<void> {
    refuseReserved(type)
    if (!(await this.#store.eventTypeDelete({ type }))) {
      throw new WhispererError(
        'not_found',
        `Event type "${type}" was not declared through the API or configuration`,
      )
    }
    if (this.#stored.delete(type)) this.registry.remove(type)
  }

  /** An event type, registered or stored; an unknown one is `unknown_event_type`. */
  async get(type: string): Promise<EventTypeDefinition<unknown>> {
    if (!this.#code.has(type)) await this.refresh()
    return this.registry.get(type)
  }

  /**
   * Every event type: those registered in code, then the stored ones, as the database has them now,
   * then Whisperer's operational event types.
   */
  async list(): Promise<EventTypeDefinition<unknown>[]> {
    await this.refresh()
    const all = this.registry.list()
    return [
      ...all.filter((definition) => !isOperationalType(definition.type)),
      ...all.filter((definition) => isOperationalType(definition.type)),
    ]
  }

  /**
   * @internal Makes the stored types named (a name not registered in code, or a pattern, which may
   * match stored ones) agree with the database now: added, replaced or forgotten.
   */
  async fresh(types: readonly string[] | undefined): Promise<void> {
    if (types?.some((type) => !this.#code.has(type))) await this.refresh()
  }

  /**
   * @internal For publishing: reads the stored types again when `type` is unknown here, or when they
   * were read more than a few seconds ago. `tx` is the caller's transaction, which PGlite, having
   * one connection, must be read through while it is open.
   */
  async ready(type: string, tx?: Queryable): Promise<void> {
    if (this.#code.has(type)) return
    const age = this.#clock().getTime() - this.#readAt
    if (this.registry.has(type) && age >= 0 && age < storedTypesMaxAgeMs) return
    await this.refresh(tx)
  }

  /** @internal Reads the stored types into the registry, forgetting those removed elsewhere. */
  refresh(tx?: Queryable): Promise<void> {
    if (tx) return this.#read(tx)
    this.#reading ??= this.#read().finally(() => {
      this.#reading = null
    })
    return this.#reading
  }

  async #read(tx?: Queryable): Promise<void> {
    const readAt = this.#clock().getTime()
    const stored = await this.#store.eventTypeList({ tx })
    const names = new Set(stored.map((definition) => definition.type))
    for (const type of this.#stored) {
      if (!names.has(type)) {
        this.#stored.delete(type)
        this.registry.remove(type)
      }
    }
    for (const definition of stored) if (!this.#code.has(definition.type)) this.#define(definition)
    this.#readAt = readAt
  }

  #define(definition: StoredEventType): void {
    this.registry.define({
      type: definition.type,
      ...(definition.description ? { description: definition.description } : {}),
      ...(definition.jsonSchema ? { jsonSchema: definition.jsonSchema } : {}),
      ...(definition.fields ? { fields: definition.fields } : {}),
    })
    this.#stored.add(definition.type)
  }
}

/** Names starting `whisperer.` are the built-in operational event types': `reserved_event_type`. */
export function refuseReserved(type: string | undefined): void {
  if (type !== undefined && isOperationalType(type)) {
    throw new WhispererError(
      'reserved_event_type',
      `Event type "${type}" is reserved: names starting "${operationalPrefix}" are Whisperer's operational events`,
    )
  }
}
