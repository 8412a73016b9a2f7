import type { z } from 'zod'
import { type FieldIssue, WhispererError } from './errors.ts'
import { pickFields } from './filters.ts'
import { compileJsonSchema } from './json-schema.ts'
import { type DeliveryBody, toJson } from './payload.ts'
import { issuesFromZod } from './zod-issues.ts'

/** What an event is about, recorded with it (dj-whisperer's content_type and object_id). */
export interface Subject {
  type: string
  id: string
}

/** An event type the application declares. */
export interface EventTypeDefinition<T = never> {
  /** The key subscribers use, such as `package-created`. */
  type: string
  description?: string
  /** Turns the instance passed to `deliverEvent` into the delivered data. @default the instance itself */
  serialize?: (instance: T) => unknown
  /** Validates (and may transform) the serialized data; a failure refuses the event. */
  schema?: z.ZodType
  /** A JSON Schema the serialized data must match, for event types declared without code. */
  jsonSchema?: object
  /** Rewrites the whole body of each new delivery, as dj-whisperer's `customize_payload`. */
  customizePayload?: (body: DeliveryBody) => DeliveryBody
  /** The subject recorded with each event. */
  subject?: (instance: T) => Subject | null | undefined
  /** Loads the instance again by subject id, for callbacks of queued deliveries. */
  load?: (subjectId: string) => unknown
  /**
   * The top-level fields of the data that subscribers may see and filter on (durian's
   * `provides_args`). When set, only these are stored and delivered, whatever `serialize` returns.
   * @default the properties of `schema` or `jsonSchema` when it describes an object; otherwise any
   */
  fields?: readonly string[]
}

export interface SerializedEvent {
  dataJson: string
  subject: Subject | null
}

const typeName = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,123}$/

/** The event types of one Whisperer, keyed by type. */
export class EventTypeRegistry {
  readonly #types = new Map<string, EventTypeDefinition<unknown>>()
  readonly #validators = new Map<string, (data: unknown) => FieldIssue[]>()

  /** Registers an event type declared in code; registering a type twice is an error. */
  register<T>(definition: EventTypeDefinition<T>): void {
    checkTypeName(definition?.type)
    if (this.#types.has(definition.type)) {
      throw new WhispererError(
        'event_type_already_registered',
        `Event type "${definition.type}" is already registered`,
      )
    }
    this.#set(definition as EventTypeDefinition<unknown>)
  }

  /**
   * Registers one of Whisperer's own event types, whose data Whisperer builds itself and never
   * serializes here: its JSON Schema is only described, not compiled (which would cost start-up).
   */
  builtIn(definition: EventTypeDefinition<unknown>): void {
    checkTypeName(definition.type)
    this.#types.set(definition.type, definition)
  }

  /** Registers or replaces an event type declared at run time (configuration, an admin's API call). */
  define(definition: EventTypeDefinition<unknown>): void {
    checkTypeName(definition?.type)
    this.#set(definition)
  }

  /** Forgets an event type. */
  remove(type: string): boolean {
    this.#validators.delete(type)
    return this.#types.delete(type)
  }

  has(type: string): boolean {
    return this.#types.has(type)
  }

  /** The definition of a type; an unregistered type is an error that names it. */
  get(type: string): EventTypeDefinition<unknown> {
    const definition = this.#types.get(type)
    if (!definition) throw new WhispererError('unknown_event_type', `Event type "${type}" is not registered`)
    return definition
  }

  list(): EventTypeDefinition<unknown>[] {
    return [...this.#types.values()]
  }

  /**
   * The fields a type exposes: its declared `fields`, else the properties its schema or JSON Schema
   * gives an object; null when it does not say (any field may then be filtered on and chosen).
   */
  fieldsOf(type: string): readonly string[] | null {
    return exposedFields(this.get(type))
  }

  /**
   * Serializes an instance into the JSON text stored with its event. Data that fails the type's
   * schema or JSON Schema is refused (`invalid_event_data`) with the failing paths.
   */
  serialize(type: string, instance: unknown): SerializedEvent {
    const definition = this.get(type)
    let data = definition.serialize ? definition.serialize(instance) : instance
    if (definition.schema) {
      const parsed = definition.schema.safeParse(data)
      if (!parsed.success) throw invalidData(type, issuesFromZod(parsed.error, 'data'))
      data = parsed.data
    }
    const validate = this.#validators.get(type)
    if (validate) {
      const issues = validate(data)
      if (issues.length > 0) throw invalidData(type, issues)
    }
    if (definition.fields) {
      if (typeof data !== 'object' || data === null || Array.isArray(data)) {
        throw invalidData(type, [
          { path: 'data', message: `Expected an object with the fields ${definition.fields.join(', ')}` },
        ])
      }
      data = pickFields(data, definition.fields)
    }
    let dataJson: string
    try {
      dataJson = toJson(data)
    } catch (error) {
      throw invalidData(type, [{ path: 'data', message: (error as Error).message }])
    }
    const subject = definition.subject?.(instance) ?? null
    return { dataJson, subject: subject ? { type: subject.type, id: String(subject.id) } : null }
  }

  #set(definition: EventTypeDefinition<unknown>): void {
    this.#validators.delete(definition.type)
    if (definition.jsonSchema) this.#validators.set(definition.type, compileJsonSchema(definition.jsonSchema))
    this.#types.set(definition.type, definition)
  }
}

/**
 * The fields an event type exposes: its declared `fields`, else the properties its schema or JSON
 * Schema gives an object; null when it does not say (any field may then be filtered on and chosen).
 */
export function exposedFields(definition: EventTypeDefinition<unknown>): readonly string[] | null {
  if (definition.fields) return definition.fields
  const shape = (definition.schema as { shape?: unknown } | undefined)?.shape
  if (shape && typeof shape === 'object') return Object.keys(shape)
  const properties = (definition.jsonSchema as { properties?: unknown } | undefined)?.properties
  if (properties && typeof properties === 'object' && !Array.isArray(properties))
    return Object.keys(properties)
  return null
}

function checkTypeName(type: unknown): void {
  if (typeof type !== 'string' || !typeName.test(type)) {
    throw new WhispererError(
      'invalid_options',
      `Event type "${String(type)}" must be 1 to 124 letters, digits or ._:/- and start with a letter or digit`,
    )
  }
}

function invalidData(type: string, issues: FieldIssue[]): WhispererError {
  const summary = issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')
  return new WhispererError(
    'invalid_event_data',
    `Data of event type "${type}" does not match its schema: ${summary}`,
    {
      issues,
    },
  )
}
