import type { IncomingMessage, ServerResponse } from 'node:http'
import { defaultPrefix } from '../../config.ts'
import type { ApiHandler } from '../handler.ts'
import { serveNode } from './node-message.ts'

/** What the middleware reads of Express's request (an Express `Request` is one). */
export interface ExpressRequest extends IncomingMessage {
  originalUrl: string
  /** Set by a body parser such as `express.json()`, which has then read the stream. */
  body?: unknown
  protocol?: string
}

export type ExpressMiddleware = (
  req: ExpressRequest,
  res: ServerResponse,
  next: (error?: unknown) => void,
) => Promise<void>

export interface ExpressOptions {
  /** The handler's prefix, as given to `whisperer.api()`; other paths go on to `next()`. @default '/whisperer' */
  prefix?: string
}

/**
 * The API as Express middleware: `app.use(expressMiddleware(whisperer.api({ authenticate })))`,
 * before or after `express.json()`. When a body parser has already read the body, it is sent on
 * re-serialized as JSON; otherwise the raw body is streamed through.
 */
export function expressMiddleware(handler: ApiHandler, options: ExpressOptions = {}): ExpressMiddleware {
  const prefix = (options.prefix ?? defaultPrefix).replace(/\/+$/, '')
  return async (req, res, next) => {
    const path = req.originalUrl.split('?')[0]!
    if (path !== prefix && !path.startsWith(`${prefix}/`)) return next()
    try {
      await serveNode(handler, req, res, { body: parsedBody(req), protocol: req.protocol })
    } catch (error) {
      next(error)
    }
  }
}

/** The body a parser has read, as bytes again; undefined when the stream is still unread. */
function parsedBody(req: ExpressRequest): string | Uint8Array | undefined {
  if (!req.readableEnded) return undefined
  const { body } = req
  if (body === undefined) return ''
  return typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body)
}
