/**
 * Whisperer's API as a Next.js route handler: every method under /whisperer goes to the handler,
 * which takes and returns Web-standard Request and Response, so no adapter is needed.
 */
import { getWhispererApp } from '../../../lib/whisperer.ts'

// Whisperer needs Node.js (its database drivers), and every answer is live.
export const runtime = 'nodejs'
export const dynamic = 'force-dynamic'

async function handler(request: Request): Promise<Response> {
  const { api } = await getWhispererApp()
  return api(request)
}

export {
  handler as DELETE,
  handler as GET,
  handler as HEAD,
  handler as PATCH,
  handler as POST,
  handler as PUT,
}
