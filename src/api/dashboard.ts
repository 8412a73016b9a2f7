import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { errorJson } from '../api/errors.ts'
import { frameSource } from '../config-options.ts'
import { errorCodes, WhispererError } from '../core/errors.ts'
import {
  checkTheme,
  type DashboardTheme,
  logoOrigin,
  themedIndex,
  themeStylesheet,
} from './dashboard-theme.ts'

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
 * The dashboard's Content Security Policy: scripts and styles from its own files only (no inline
 * script or style attribute), requests to this origin only, and no form posting anywhere. Framing
 * is refused unless `frameAncestors` names who may frame it; a logo from another origin is the
 * only image allowed from elsewhere.
 */
export function contentSecurityPolicy(
  options: { frameAncestors?: readonly string[]; imageOrigin?: string } = {},
) {
  const ancestors = options.frameAncestors?.length ? options.frameAncestors.join(' ') : "'none'"
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src 'self' data:${options.imageOrigin ? ` ${options.imageOrigin}` : ''}`,
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    `frame-ancestors ${ancestors}`,
  ].join('; ')
}

/** The policy of a dashboard that may not be framed, with no theme. */
export const dashboardPolicy = contentSecurityPolicy()

function securityHeaders(policy: string, framed: boolean): Record<string, string> {
  return {
    'Content-Security-Policy': policy,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    // Older browsers know only this header; it can say DENY but not "these origins".
    ...(framed ? {} : { 'X-Frame-Options': 'DENY' }),
    'Cross-Origin-Opener-Policy': 'same-origin',
  }
}

export interface DashboardOptions {
  /** Where the REST API is mounted: the dashboard is served at `<prefix>/dashboard/`. @default '/whisperer' */
  prefix: string
  /** @internal Another directory of files, for tests. */
  directory?: string
  /**
   * Who may show the dashboard in a frame, as CSP `frame-ancestors` sources
   * (`https://app.example.com`, `'self'`). @default none: it may not be framed
   */
  frameAncestors?: readonly string[]
  /** Brand name, logo and accent colour. */
  theme?: DashboardTheme
}

/** A file name of the dashboard: names of letters, digits, `.`, `_` and `-`, none starting with a dot. */
const safePath = /^(?:[A-Za-z0-9_-][A-Za-z0-9._-]*\/)*[A-Za-z0-9_-][A-Za-z0-9._-]*$/

/**
 * Serves the dashboard's static files at `<prefix>/dashboard/`, answering null for any other path.
 * Files are revalidated on every load (`no-cache` with an ETag, answered 304 when unchanged), since
 * their names do not change between versions.
 */
export function dashboardHandler(options: DashboardOptions): (request: Request) => Promise<Response | null> {
  const base = `${options.prefix.replace(/\/+$/, '')}/dashboard`
  const directory = options.directory ?? dashboardDirectory
  const frameAncestors = options.frameAncestors ?? []
  const unknown = frameAncestors.filter((source) => !frameSource.test(source))
  if (unknown.length > 0) {
    throw new WhispererError('invalid_options', `frameAncestors: not CSP sources: ${unknown.join(', ')}`)
  }
  const theme = checkTheme(options.theme ?? {})
  const imageOrigin = theme.logoUrl ? logoOrigin(theme.logoUrl) : null
  const headers = securityHeaders(
    contentSecurityPolicy({ frameAncestors, ...(imageOrigin ? { imageOrigin } : {}) }),
    frameAncestors.length > 0,
  )
  const failure = failureWith(headers)
  // The two files a theme changes: the page (its name and logo) and theme.css (its colours).
  const generated: Record<string, (file: () => Promise<Buffer>) => Promise<Buffer>> = {
    'index.html': async (file) => Buffer.from(themedIndex((await file()).toString('utf8'), theme)),
    'theme.css': async () => Buffer.from(themeStylesheet(theme)),
  }
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
      const file = () => readFile(join(directory, name))
      body = await (generated[name]?.(file) ?? file())
    } catch {
      return failure(404, 'not_found')
    }
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`
    const answer = { ...headers, 'Content-Type': type, 'Cache-Control': 'no-cache', ETag: etag }
    if (
      request.headers
        .get('if-none-match')
        ?.split(/\s*,\s*/)
        .includes(etag)
    ) {
      return new Response(null, { status: 304, headers: answer })
    }
    return new Response(request.method === 'HEAD' ? null : new Uint8Array(body), {
      status: 200,
      headers: { ...answer, 'Content-Length': String(body.length) },
    })
  }
}

/** The dashboard as a Web-standard handler: its files, or a 404 in JSON for any other path. */
export type DashboardHandler = (request: Request) => Promise<Response>

/** {@link dashboardHandler}, answering 404 for paths outside the dashboard: to mount in any framework. */
export function createDashboardHandler(options: DashboardOptions): DashboardHandler {
  const serve = dashboardHandler(options)
  const notFound = failureWith(securityHeaders(dashboardPolicy, false))
  return async (request) => (await serve(request)) ?? notFound(404, 'not_found')
}

/** An error in JSON with its code, as the API answers. */
function failureWith(security: Record<string, string>) {
  return (status: number, code: 'not_found' | 'method_not_allowed', headers: Record<string, string> = {}) =>
    Response.json(errorJson(code, errorCodes[code].message), {
      status,
      headers: { ...security, ...headers },
    })
}
