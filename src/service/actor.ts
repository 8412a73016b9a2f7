import type { Actor } from '../core/webhook.ts'

/** An owner id, or an actor; a plain string is an owner without admin rights. */
export type ActorLike = string | Actor

export function toActor(actor: ActorLike): Actor {
  return typeof actor === 'string' ? { owner: actor } : actor
}
