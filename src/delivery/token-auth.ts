import type { Logger } from '../logger.ts'
import type { Sender } from './sender.ts'

interface TokenAuthConfig {
  auth_type: 'token'
  url: string
  username: string
  password: string
  username_field?: string
  password_field?: string
  token_key?: string
  header_format?: string
}

/**
 * dj-whisperer's `token` auth: log in with a form POST to `config.auth.url`, read the token from
 * the JSON answer (`token_key`, default `key`) and send it as `header_format` (default
 * `Token {}`). Unlike dj-whisperer, the login goes through the same guarded, time-limited sender,
 * and its token is reused for `ttlMs` or until the target answers 401 or 403.
 */
export class TokenAuthenticator {
  readonly #sender: Sender
  readonly #ttlMs: number
  readonly #logger: Logger
  readonly #cache = new Map<number, { key: string; header: string; expires: number }>()
  /** Logins under way, so attempts that start together share one. */
  readonly #pending = new Map<string, Promise<string | null>>()

  constructor(options: { sender: Sender; ttlMs: number; logger: Logger }) {
    this.#sender = options.sender
    this.#ttlMs = options.ttlMs
    this.#logger = options.logger
  }

  static applies(auth: unknown): auth is TokenAuthConfig {
    return Boolean(
      auth && typeof auth === 'object' && (auth as { auth_type?: unknown }).auth_type === 'token',
    )
  }

  /** The Authorization header for a webhook, logging in when no fresh token is cached; null if login fails. */
  async authorization(webhookId: number, auth: TokenAuthConfig, userAgent: string): Promise<string | null> {
    const key = JSON.stringify(auth)
    const cached = this.#cache.get(webhookId)
    if (cached && cached.key === key && cached.expires > Date.now()) return cached.header
    const pendingKey = `${webhookId}:${key}`
    let login = this.#pending.get(pendingKey)
    if (!login) {
      login = this.#login(webhookId, key, auth, userAgent).finally(() => this.#pending.delete(pendingKey))
      this.#pending.set(pendingKey, login)
    }
    return login
  }

  async #login(
    webhookId: number,
    key: string,
    auth: TokenAuthConfig,
    userAgent: string,
  ): Promise<string | null> {
    const form = new URLSearchParams({
      [auth.username_field ?? 'username']: auth.username,
      [auth.password_field ?? 'password']: auth.password,
    })
    const result = await this.#sender.send({
      url: auth.url,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': userAgent },
      body: form.toString(),
    })
    if (result.kind === 'error' || result.status >= 400) {
      const reason =
        result.kind === 'error' ? `${result.error}: ${result.message}` : `status ${result.status}`
      this.#logger.warn({ webhookId, reason }, 'token login failed; sending without Authorization')
      return null
    }
    let token: unknown
    try {
      token = (JSON.parse(result.body) as Record<string, unknown>)[auth.token_key ?? 'key']
    } catch {
      token = undefined
    }
    if (typeof token !== 'string' && typeof token !== 'number') {
      this.#logger.warn({ webhookId }, `token login answered without "${auth.token_key ?? 'key'}"`)
      return null
    }
    const header = (auth.header_format ?? 'Token {}').replace('{}', String(token))
    this.#cache.set(webhookId, { key, header, expires: Date.now() + this.#ttlMs })
    return header
  }

  /** Forgets a webhook's token, after the target refused it. */
  forget(webhookId: number): void {
    this.#cache.delete(webhookId)
  }
}
