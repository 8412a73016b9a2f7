import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { validationError, WhispererError } from '../core/errors.ts'
import type { ApiTokenRow, Store } from '../storage/store.ts'

/** What a token may do: manage its owner's webhooks and deliveries, publish events, or everything. */
export const scopes = ['subscriber', 'publisher', 'admin'] as const
export type Scope = (typeof scopes)[number]

export type ApiToken = Omit<ApiTokenRow, 'scopes'> & { scopes: Scope[] }

const tokenPattern = /^wh_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/

function digest(secret: string): Buffer {
  return createHash('sha256').update(secret).digest()
}

/**
 * How long a verified token is trusted without reading it again, in ms: a revocation in another
 * process takes effect within this, and a database outage of up to this long does not stop
 * authentication.
 */
export const verifiedTokenTtlMs = 5000
const verifiedTokensMax = 10_000

/**
 * The standalone service's API tokens: `wh_<id>_<secret>`, shown once when created. Only the
 * secret's SHA-256 digest is stored, and a presented secret is compared in constant time.
 */
export class TokenService {
  readonly #store: Store
  readonly #clock: () => Date
  /** Tokens verified lately, by the digest of the whole presented string. */
  readonly #verified = new Map<string, { token: ApiToken; until: number }>()

  constructor(options: { store: Store; clock: () => Date }) {
    this.#store = options.store
    this.#clock = options.clock
  }

  /** Creates a token; the returned `token` is the only time its secret is seen. */
  async create(params: {
    owner: string
    scopes: Scope[]
    name?: string
  }): Promise<{ token: string; record: ApiToken }> {
    const issues = []
    if (!params.owner || params.owner.length > 200)
      issues.push({ path: 'owner', message: 'Give an owner of 1 to 200 characters.' })
    const unknown = params.scopes.filter((scope) => !scopes.includes(scope))
    if (params.scopes.length === 0 || unknown.length > 0) {
      issues.push({ path: 'scopes', message: `Choose one or more of ${scopes.join(', ')}.` })
    }
    if (issues.length > 0) throw validationError(issues)
    const id = randomBytes(9)
      .toString('base64url')
      .toLowerCase()
      .replace(/[^a-z0-9]/g, '0')
      .slice(0, 12)
    const secret = randomBytes(32).toString('base64url')
    const record = await this.#store.tokenInsert({
      id,
      name: params.name ?? `${params.owner} (${params.scopes.join(', ')})`,
      owner: params.owner,
      scopes: [...new Set(params.scopes)],
      secretHash: digest(secret),
      now: this.#clock(),
    })
    return { token: `wh_${id}_${secret}`, record: record as ApiToken }
  }

  async list(): Promise<ApiToken[]> {
    return (await this.#store.tokenList()) as ApiToken[]
  }

  async revoke(id: string): Promise<void> {
    for (const [key, entry] of this.#verified) if (entry.token.id === id) this.#verified.delete(key)
    if (!(await this.#store.tokenRevoke({ id, now: this.#clock() }))) {
      throw new WhispererError('not_found', `No active token ${id}`)
    }
  }

  /**
   * The token a presented string is, if it is a live one; null otherwise. A token verified in the
   * last {@link verifiedTokenTtlMs} is trusted without reading it again.
   */
  async verify(presented: string): Promise<ApiToken | null> {
    const match = tokenPattern.exec(presented)
    if (!match) return null
    const key = digest(presented).toString('base64')
    const now = this.#clock()
    const cached = this.#verified.get(key)
    if (cached && cached.until > now.getTime()) return cached.token
    this.#verified.delete(key)
    const row = await this.#store.tokenGet({ id: match[1]! })
    if (!row || row.revokedAt) return null
    if (!timingSafeEqual(row.secretHash, digest(match[2]!))) return null
    if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() > 60_000) {
      await this.#store.tokenTouch({ id: row.id, now }).catch(() => {})
    }
    const { secretHash: _secret, ...token } = row
    if (this.#verified.size >= verifiedTokensMax) this.#verified.clear()
    this.#verified.set(key, { token: token as ApiToken, until: now.getTime() + verifiedTokenTtlMs })
    return token as ApiToken
  }
}
