import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { type FieldIssue, validationError, WhispererError } from '../core/errors.ts'
import type { Logger } from '../logger.ts'
import type { PortalSessionRow, Store } from '../storage/store.ts'

/** A portal session as its creator sees it: never its secrets. */
export type PortalSession = PortalSessionRow

export interface PortalSessionRequest {
  /** The owner whose webhooks and deliveries the portal shows. */
  owner: string
  /** How long the link, and the session it is exchanged for, live. @default 3600 */
  expiresInSeconds?: number
  /** The only event types the portal shows and subscribes to. @default every one */
  eventTypes?: string[]
  /** Show everything, change nothing. @default false */
  readOnly?: boolean
  /** Where the dashboard is served, to build the link. @default '/whisperer/dashboard/' */
  dashboardUrl?: string
}

/** A new portal session: the one-time link to hand to the subscriber, and its token. */
export interface CreatedPortalSession {
  /** `<dashboardUrl>#session=<token>`: a fragment is never sent to a server nor in a `Referer`. */
  url: string
  /** The one-time link token (`whpl_…`), shown only here. */
  token: string
  session: PortalSession
}

/** The longest a portal session may live: a day. */
export const portalSessionMaxSeconds = 86_400

const linkPattern = /^whpl_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/
const sessionPattern = /^whps_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/

/** Whether a presented credential is a portal session (`whps_…`) rather than another token. */
export function isPortalSessionToken(presented: string): boolean {
  return presented.startsWith('whps_')
}

function digest(secret: string): Buffer {
  return createHash('sha256').update(secret).digest()
}

function newId(): string {
  return randomBytes(9)
    .toString('base64url')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '0')
    .slice(0, 12)
}

/**
 * Short-lived access for one owner to the dashboard, handed out by the host application. A
 * session starts as a one-time link token (`whpl_<id>_<secret>`), exchanged once for a session
 * token (`whps_<id>_<secret>`); only the secrets' SHA-256 digests are stored, compared in constant
 * time, and every verification reads the row, so a revocation takes effect at once.
 */
export class PortalService {
  readonly #store: Store
  readonly #clock: () => Date
  readonly #hasEventType: (type: string) => Promise<boolean>
  readonly #logger: Logger

  constructor(options: {
    store: Store
    clock: () => Date
    hasEventType: (type: string) => Promise<boolean>
    logger: Logger
  }) {
    this.#store = options.store
    this.#clock = options.clock
    this.#hasEventType = options.hasEventType
    this.#logger = options.logger
  }

  /** An audit line: the session's id and owner, never a secret. */
  #audit(message: string, session: PortalSession): void {
    this.#logger.info(
      { portalSession: session.id, owner: session.owner, expiresAt: session.expiresAt.toISOString() },
      message,
    )
  }

  /** Creates a portal session; the returned link and token are the only time its secret is seen. */
  async createSession(request: PortalSessionRequest): Promise<CreatedPortalSession> {
    const issues: FieldIssue[] = []
    const {
      owner,
      expiresInSeconds = 3600,
      readOnly = false,
      dashboardUrl = '/whisperer/dashboard/',
    } = request
    if (typeof owner !== 'string' || owner.length < 1 || owner.length > 200 || owner.includes('\0'))
      issues.push({ path: 'owner', message: 'Give an owner of 1 to 200 characters.' })
    if (
      !Number.isInteger(expiresInSeconds) ||
      expiresInSeconds < 1 ||
      expiresInSeconds > portalSessionMaxSeconds
    ) {
      issues.push({
        path: 'expiresInSeconds',
        message: `Give a whole number of seconds from 1 to ${portalSessionMaxSeconds}.`,
      })
    }
    let eventTypes: string[] | null = null
    if (request.eventTypes !== undefined) {
      eventTypes = [...new Set(request.eventTypes)]
      const unknown = []
      for (const type of eventTypes) if (!(await this.#hasEventType(type))) unknown.push(type)
      if (eventTypes.length === 0)
        issues.push({ path: 'eventTypes', message: 'Give one event type or more.' })
      else if (unknown.length > 0)
        issues.push({ path: 'eventTypes', message: `Unknown event types: ${unknown.join(', ')}.` })
    }
    if (typeof readOnly !== 'boolean') issues.push({ path: 'readOnly', message: 'Give true or false.' })
    if (dashboardUrl.includes('#'))
      issues.push({ path: 'dashboardUrl', message: 'Give the dashboard’s address, without a fragment.' })
    if (issues.length > 0) throw validationError(issues)
    const id = newId()
    const secret = randomBytes(32).toString('base64url')
    const now = this.#clock()
    const row = await this.#store.portalSessionInsert({
      id,
      owner,
      eventTypes,
      readOnly,
      linkHash: digest(secret),
      now,
      expiresAt: new Date(now.getTime() + expiresInSeconds * 1000),
    })
    const token = `whpl_${id}_${secret}`
    this.#audit('portal session created', row)
    return { url: `${dashboardUrl}#session=${token}`, token, session: row }
  }

  /**
   * Exchanges a one-time link token for a session token, once: a used link is `portal_link_used`,
   * an expired one `portal_session_expired`, and an unknown or revoked one `unauthenticated`.
   */
  async exchange(link: string): Promise<{ token: string; session: PortalSession }> {
    const match = linkPattern.exec(link)
    const row = match ? await this.#store.portalSessionGet({ id: match[1]! }) : null
    if (!match || !row || row.revokedAt || !timingSafeEqual(row.linkHash, digest(match[2]!))) {
      throw new WhispererError('unauthenticated', 'This portal link is not valid')
    }
    const now = this.#clock()
    if (row.expiresAt <= now) throw new WhispererError('portal_session_expired')
    if (row.exchangedAt) throw new WhispererError('portal_link_used')
    const secret = randomBytes(32).toString('base64url')
    const session = await this.#store.portalSessionExchange({ id: row.id, sessionHash: digest(secret), now })
    // Another request exchanged it (or revoked it) in between.
    if (!session) throw new WhispererError('portal_link_used')
    this.#audit('portal link exchanged', session)
    return { token: `whps_${row.id}_${secret}`, session }
  }

  /**
   * The live session a presented session token is; null when it is not one (unknown, wrong secret,
   * revoked). An expired one is `portal_session_expired`, so that the portal can say so.
   */
  async verify(presented: string): Promise<PortalSession | null> {
    const match = sessionPattern.exec(presented)
    if (!match) return null
    const row = await this.#store.portalSessionGet({ id: match[1]! })
    if (!row?.sessionHash || row.revokedAt) return null
    if (!timingSafeEqual(row.sessionHash, digest(match[2]!))) return null
    if (row.expiresAt <= this.#clock()) throw new WhispererError('portal_session_expired')
    const { linkHash: _link, sessionHash: _session, ...session } = row
    return session
  }

  /** Revokes a session (its link, or the session it was exchanged for): the next request is refused. */
  async revoke(id: string): Promise<void> {
    if (!(await this.#store.portalSessionRevoke({ id, now: this.#clock() }))) {
      throw new WhispererError('not_found', `No active portal session ${id}`)
    }
    this.#logger.info({ portalSession: id }, 'portal session revoked')
  }
}
