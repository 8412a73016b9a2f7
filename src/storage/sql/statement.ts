import type { Actor } from '../../core/webhook.ts'
import { quoteIdentifier } from '../identifier.ts'

/** One statement of the store: a name (for counting and plans) and its text for a schema. */
export interface Statement {
  readonly name: string
  /** The text for one schema; `s` is its quoted name. */
  readonly text: (s: string) => string
}

const registry = new Map<string, Statement>()

/** Declares a statement; its name must be unique. */
export function statement(name: string, text: (s: string) => string): Statement {
  if (registry.has(name)) throw new Error(`statement ${name} is declared twice`)
  const declared = { name, text }
  registry.set(name, declared)
  return declared
}

/** Every declared statement's text for one schema, by name (the bench counts statements by it). */
export function statementTexts(schema: string): Map<string, string> {
  const s = quoteIdentifier(schema)
  return new Map([...registry.values()].map((st) => [st.name, st.text(s)]))
}

/**
 * The values of a statement, written as `{ $1: ..., $2: ... }` so that each placeholder sits beside
 * its value; returns them as the array the driver binds, and checks they are numbered in order.
 */
export function bind(values: Record<`$${number}`, unknown>): unknown[] {
  return Object.entries(values).map(([key, value], index) => {
    if (key !== `$${index + 1}`)
      throw new Error(`placeholder ${key} is out of order (expected $${index + 1})`)
    return value
  })
}

/** The event types an actor's reads are scoped to; null for every one. */
export function eventTypeScope(actor: Actor): string[] | null {
  return actor.eventTypes ? [...actor.eventTypes] : null
}

/** The owner an actor's reads and writes are scoped to; null (every owner) for an admin. */
export function ownerScope(actor: Actor): string | null {
  return actor.admin ? null : actor.owner
}
