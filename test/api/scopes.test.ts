import { expect, test } from 'vitest'
import { allows, type Principal, presentedToken } from '../../src/api/auth.ts'
import type { Scope } from '../../src/service/tokens.ts'
import { openDatabase } from '../../src/storage/open-database.ts'
import { countingDatabase } from '../support/counting-database.ts'
import { forEachDatabase } from '../support/databases.ts'
import { caller } from './support.ts'

/** Every kind of token: one scope each, two scopes, and admin. */
const tokens = {
  subscriber: { owner: 'sub', scopes: ['subscriber'] },
  publisher: { owner: 'pub', scopes: ['publisher'] },
  both: { owner: 'both', scopes: ['subscriber', 'publisher'] },
  admin: { owner: 'ops', scopes: ['admin'] },
} satisfies Record<string, Principal>

type TokenKind = keyof typeof tokens

function authenticate(request: Request): Principal | null {
  const name = presentedToken(request)?.replace(/-token$/, '')
  return name && Object.hasOwn(tokens, name) ? tokens[name as TokenKind] : null
}

forEachDatabase((db) => {
  test('a token without a route’s scope gets 403 before its body, query or path is read, and before any database read', async () => {
    const { database, schema } = await db.source()
    const counting = countingDatabase(await openDatabase(database!))
    const whisperer = await db.whisperer({ database: counting, schema })
    whisperer.eventTypes.register({ type: 'order-created' })
    const call = caller(whisperer.api({ authenticate, rateLimit: false }))
    const document = (await call('GET', 'openapi.json', { as: null })).body
    let refused = 0
    let checked = 0
    for (const [path, operations] of Object.entries<Record<string, { security?: { token: Scope[] }[] }>>(
      document.paths,
    )) {
      for (const [method, operation] of Object.entries(operations)) {
        const scopes = (operation.security ?? []).flatMap((requirement) => requirement.token)
        if (path.endsWith('openapi.json')) continue
        expect(operation.security, `${method} ${path} declares its scope`).toBeDefined()
        // A malformed body, a bad query and a bad path parameter: each would be a 400 or 404 if read.
        const url = `${path.replace('/whisperer/', '').replace(/\{[^}]+\}/g, 'not-an-id')}?limit=-1&cursor=x`
        const body = ['post', 'put', 'patch'].includes(method) ? '{"event_type":' : undefined
        for (const kind of Object.keys(tokens) as TokenKind[]) {
          counting.statements.length = 0
          const response = await call(method.toUpperCase(), url, {
            as: kind as never,
            ...(body ? { body } : {}),
          })
          checked += 1
          const name = `${kind} ${method} ${path}`
          if (scopes.length > 0 && !scopes.some((scope) => allows(tokens[kind], scope))) {
            refused += 1
            expect(response.status, name).toBe(403)
            expect(response.body.code, name).toBe('forbidden')
            expect(counting.statements, name).toEqual([])
          } else {
            expect(response.status, name).not.toBe(403)
          }
        }
      }
    }
    // Every kind of refusal is walked: subscriber-only, publisher-only and admin-only routes.
    expect(checked).toBeGreaterThan(90)
    expect(refused).toBeGreaterThan(30)
  })
})
