import type { Scope } from '../service/tokens.ts'

/** Who is calling, as the host application (or the service's tokens) says. */
export interface Principal {
  /** The owner whose webhooks and deliveries the caller sees. */
  owner: string
  /** An admin sees and manages every owner's data. */
  admin?: boolean
  /**
   * What the caller may do. @default ['subscriber'] (and everything for an admin)
   */
  scopes?: readonly Scope[]
  /** Set when the caller is a portal session: what it is scoped to. */
  portal?: PortalScope
}

/** What a portal session may see and do, besides its owner. */
export interface PortalScope {
  sessionId: string
  /** The only event types it sees and subscribes to; null for every one. */
  eventTypes: readonly string[] | null
  /** Only GET and HEAD requests. */
  readOnly: boolean
  expiresAt: Date
}

/** Supplied by the host application: who sends this request, or null if nobody it knows. */
export type Authenticate = (request: Request) => Principal | null | Promise<Principal | null>

/** Whether a principal may act with `scope`; an admin may do everything. */
export function allows(principal: Principal, scope: Scope): boolean {
  if (principal.admin || principal.scopes?.includes('admin')) return true
  return (principal.scopes ?? ['subscriber']).includes(scope)
}

export function isAdmin(principal: Principal): boolean {
  return Boolean(principal.admin || principal.scopes?.includes('admin'))
}

/** The credentials of `Authorization: Token <t>` (as in dj-whisperer's documents) or `Bearer <t>`. */
export function presentedToken(request: Request): string | null {
  const header = request.headers.get('authorization')
  const match = header ? /^(?:Token|Bearer)\s+(\S+)\s*$/i.exec(header) : null
  return match ? match[1]! : null
}
