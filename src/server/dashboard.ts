import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { errorJson } from '../api/errors.ts'
import { errorCodes } from '../core/errors.ts'

/** The dashboard's files: `dashboard/` at the package's root, beside `src/` and `dist/`. */
export const dashboardDirectory: string = fileURLToPath(new URL('../../dashboard/', import.meta.url))

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
}

/**
 * Scripts and styles from the dashboard's own files only (no inline script or style attribute),
 * requests to this origin only, no framing, and no form posting anywhere.
 */
export const dashboardPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')

const securityHeaders = {
  'Content-Security-Policy': dashboardPolicy,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
}

/** A file name of the dashboard: names of letters, digits, `.`, `_` and `-`, none starting with a dot. */
const safePath = /^(?:[A-Za-z0-9_-][A-Za-z0-9._-]*\/)*[A-Za-z0-9_-][A-Za-z0-9._-]*$/

/**
 * Serves the dashboard's static files at `<prefix>/dashboard/`, answering null for any other path.
 * Files are revalidated on every load (`no-cache` with an ETag, answered 304 when unchanged), since
 * their names do not change between versions.
 */
export function dashboardHandler(options: {
  prefix: string
  directory?: string
}): (request: Request) => Promise<Response | null> {
  const base = `${options.prefix.replace(/\/+$/, '')}/dashboard`
  const directory = options.directory ?? dashboardDirectory
  return async (request) => {
    const url = new URL(request.url)
    if (url.pathname !== base && !url.pathname.startsWith(`${base}/`)) return null
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return failure(405, 'method_not_allowed', { Allow: 'GET, HEAD' })
    }
    if (url.pathname === base) {
      return new Response(null, { status: 308, headers: { Location: `${base}/${url.search}` } })
    }
    let name: string
    try {
      name = decodeURIComponent(url.pathname.slice(base.length + 1)) || 'index.html'
    } catch {
      return failure(404, 'not_found')
    }
    const type = contentTypes[extname(name)]
    if (!safePath.test(name) || !type) return failure(404, 'not_found')
    let body: Buffer
    try {
      body = await readFile(join(directory, name))
    } catch {
      return failure(404, 'not_found')
    }
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`
    const headers = { ...securityHeaders, 'Content-Type': type, 'Cache-Control': 'no-cache', ETag: etag }
    if (
      request.headers
        .get('if-none-match')
        ?.split(/\s*,\s*/)
        .includes(etag)
    ) {
      return new Response(null, { status: 304, headers })
    }
    return new Response(request.method === 'HEAD' ? null : new Uint8Array(body), {
      status: 200,
      headers: { ...headers, 'Content-Length': String(body.length) },
    })
  }
}

/** An error in JSON with its code, as the API answers. */
function failure(
  status: number,
  code: 'not_found' | 'method_not_allowed',
  headers: Record<string, string> = {},
) {
  return Response.json(errorJson(code, errorCodes[code].message), {
    status,
    headers: { ...securityHeaders, ...headers },
  })
}
