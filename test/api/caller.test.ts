import { expect, test } from 'vitest'
import { tokenAuthenticate } from '../../src/server/token-auth.ts'
import { forEachDatabase } from '../support/databases.ts'
import { apiOf, caller, expectError } from './support.ts'

forEachDatabase((db) => {
  test('me/ tells the caller its owner and scopes, as the host application authenticated it', async () => {
    const call = apiOf(await db.whisperer())
    expect((await call('GET', 'me/')).body).toEqual({
      owner: 'alice',
      admin: false,
      scopes: ['subscriber'],
      portal: null,
    })
    expect((await call('GET', 'me/', { as: 'admin' })).body).toEqual({
      owner: 'root',
      admin: true,
      scopes: ['admin'],
      portal: null,
    })
    expect((await call('GET', 'me/', { as: 'publisher' })).body).toEqual({
      owner: 'shop',
      admin: false,
      scopes: ['publisher'],
      portal: null,
    })
    expectError(await call('GET', 'me/', { as: null }), 401, 'unauthenticated')
  })

  test("me/ with the service's API tokens", async () => {
    const whisperer = await db.whisperer()
    const handler = whisperer.api({ authenticate: tokenAuthenticate(whisperer) })
    const { token } = await whisperer.tokens.create({
      owner: 'acme',
      scopes: ['subscriber', 'publisher'],
    })
    const me = await caller(handler)('GET', 'me/', { headers: { authorization: `Token ${token}` }, as: null })
    expect(me.body).toEqual({
      owner: 'acme',
      admin: false,
      scopes: ['subscriber', 'publisher'],
      portal: null,
    })
    const admin = await whisperer.tokens.create({ owner: 'ops', scopes: ['admin'] })
    const root = await caller(handler)('GET', 'me/', {
      headers: { authorization: `Bearer ${admin.token}` },
      as: null,
    })
    expect(root.body).toEqual({ owner: 'ops', admin: true, scopes: ['admin'], portal: null })
  })
})
