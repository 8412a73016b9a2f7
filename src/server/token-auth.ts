import { type Authenticate, presentedToken } from '../api/auth.ts'
import type { Whisperer } from '../whisperer.ts'

/**
 * The standalone service's `authenticate`: an API token as `Authorization: Token <t>` (as in the
 * dj-whisperer documents) or `Bearer <t>`, checked against the stored digests.
 */
export function tokenAuthenticate(whisperer: Whisperer): Authenticate {
  return async (request) => {
    const presented = presentedToken(request)
    if (!presented) return null
    const token = await whisperer.tokens.verify(presented)
    if (!token) return null
    return { owner: token.owner, admin: token.scopes.includes('admin'), scopes: token.scopes }
  }
}
