import type { IncomingMessage, ServerResponse } from 'node:http'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { ReadableStream as NodeReadableStream } from 'node:stream/web'
import type { TLSSocket } from 'node:tls'
import { errorCodes } from '../../core/errors.ts'
import { errorJson } from '../errors.ts'

/** A node request, as Express hands it over when the middleware is mounted under a path. */
export type NodeRequest = IncomingMessage & { originalUrl?: string }

export interface NodeRequestOptions {
  /**
   * The body, when a framework has already read the stream (Express's `express.json()`): sent
   * instead, with its own `Content-Length`.
   */
  body?: string | Uint8Array
  /** The scheme, as a framework that trusts a proxy's `X-Forwarded-Proto` sees it. @default the socket's */
  protocol?: string
}

/**
 * The Web `Request` for a node request: its original URL, its headers as sent, and its body as
 * a stream read on demand, unparsed (the API enforces its own size limit).
 */
export function requestFromNode(
  req: NodeRequest,
  res: ServerResponse,
  options: NodeRequestOptions = {},
): Request {
  const method = req.method ?? 'GET'
  const headers = new Headers()
  for (let i = 0; i < req.rawHeaders.length; i += 2)
    headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!)
  const init: RequestInit = { method, headers }
  if (method !== 'GET' && method !== 'HEAD') {
    if (options.body !== undefined) {
      for (const name of ['content-length', 'content-encoding', 'transfer-encoding']) headers.delete(name)
      headers.set('content-length', String(Buffer.byteLength(options.body)))
      init.body = options.body
    } else if (hasBody(req)) {
      init.body = bodyStream(req, res)
      init.duplex = 'half'
    }
  }
  return new Request(urlOf(req, options.protocol), init)
}

/**
 * Serves one node request with a Web handler. A request that has no valid URL (a malformed `Host`)
 * is answered 400 without reaching it.
 */
export async function serveNode(
  handler: (request: Request) => Promise<Response>,
  req: NodeRequest,
  res: ServerResponse,
  options?: NodeRequestOptions,
): Promise<void> {
  let request: Request
  try {
    request = requestFromNode(req, res, options)
  } catch {
    return writeToNode(badRequest(), res)
  }
  await writeToNode(await handler(request), res)
}

/** The answer to a request whose URL cannot be read, as Node's own parser gives it. */
export function badRequest(): Response {
  return Response.json(errorJson('bad_request', errorCodes.bad_request.message), { status: 400 })
}

/** Writes a Web `Response` to a node response: status, headers (cookies one by one), body streamed. */
export async function writeToNode(response: Response, res: ServerResponse): Promise<void> {
  res.statusCode = response.status
  if (response.statusText) res.statusMessage = response.statusText
  for (const [name, value] of response.headers) if (name !== 'set-cookie') res.setHeader(name, value)
  const cookies = response.headers.getSetCookie()
  if (cookies.length > 0) res.setHeader('set-cookie', cookies)
  if (!response.body) {
    res.end()
    return
  }
  try {
    await pipeline(Readable.fromWeb(response.body as NodeReadableStream<Uint8Array>), res)
  } catch {
    // The client went away mid-response: pipeline has already closed both ends.
  }
}

/**
 * The request body as a Web stream that reads the socket only as the handler reads it (Readable.toWeb
 * starts reading at once). What the handler leaves unread, a body refused on its headers or cut off
 * at the size limit, is read and dropped once the response is sent, as Node does for a body nobody
 * reads, so the connection stays usable.
 */
function bodyStream(req: IncomingMessage, res: ServerResponse): ReadableStream<Uint8Array> {
  let controller!: ReadableStreamDefaultController<Uint8Array>
  let reading = false
  const onData = (chunk: Buffer) => {
    controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength))
    if ((controller.desiredSize ?? 0) <= 0) req.pause()
  }
  const onEnd = () => {
    stop()
    controller.close()
  }
  const onError = (error: Error) => {
    stop()
    controller.error(error)
  }
  const stop = () => {
    req.off('data', onData).off('end', onEnd).off('error', onError)
  }
  const discard = () => {
    stop()
    req.resume()
  }
  res.once('finish', () => {
    if (!req.readableEnded) discard()
  })
  return new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c
      },
      pull() {
        if (!reading) {
          reading = true
          req.on('data', onData).on('end', onEnd).on('error', onError)
        }
        req.resume()
      },
      cancel: discard,
    },
    // Pulled only when the handler reads: nothing is buffered ahead of it.
    { highWaterMark: 0 },
  )
}

/** As HTTP/1.1 says: a request has a body when it is chunked or has a non-zero length. */
function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length']
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')
}

function urlOf(req: NodeRequest, protocol?: string): URL {
  const target = req.originalUrl ?? req.url ?? '/'
  // An absolute-form target (`GET http://host/path`) names its own host.
  if (!target.startsWith('/')) return new URL(target)
  const scheme = protocol ?? ((req.socket as TLSSocket).encrypted ? 'https' : 'http')
  // Concatenated, not resolved: a path such as `//evil.test/x` stays a path.
  return new URL(`${scheme}://${req.headers.host ?? 'localhost'}${target}`)
}
