import { createServer, type RequestListener, type Server, STATUS_CODES } from 'node:http'
import type { Duplex } from 'node:stream'
import { errorJson } from '../api/errors.ts'
import { type ErrorCode, errorCodes } from '../core/errors.ts'

/** How long the service's HTTP server waits on its clients, in milliseconds. */
export interface HttpTimeouts {
  /** To receive a request's headers, from its first byte (or from the connection). @default 10_000 */
  headersTimeout: number
  /** To receive a whole request, body included. @default 30_000 */
  requestTimeout: number
  /**
   * To keep an idle keep-alive connection open: longer than the 60 s idle timeout of common load
   * balancers, so that they close idle connections first. @default 65_000
   */
  keepAliveTimeout: number
  /** How often the two timeouts above are checked. @default 1_000 */
  checkInterval: number
}

export const defaultHttpTimeouts: HttpTimeouts = {
  headersTimeout: 10_000,
  requestTimeout: 30_000,
  keepAliveTimeout: 65_000,
  checkInterval: 1_000,
}

/**
 * A node:http server with deliberate timeouts, whose answers to requests that never reach the
 * listener (headers over Node's 16 KiB limit, malformed HTTP, headers or a request too slow to
 * arrive) are JSON errors with a code, as every other answer of the API.
 */
export function createHttpServer(listener: RequestListener, timeouts: Partial<HttpTimeouts> = {}): Server {
  const { headersTimeout, requestTimeout, keepAliveTimeout, checkInterval } = {
    ...defaultHttpTimeouts,
    ...timeouts,
  }
  const server = createServer(
    {
      headersTimeout,
      requestTimeout,
      keepAliveTimeout,
      connectionsCheckingInterval: checkInterval,
      // A request without Host reaches the listener, which answers it 400 in JSON.
      requireHostHeader: false,
    },
    listener,
  )
  server.on('clientError', answerClientError)
  return server
}

/**
 * Node's own answer to a client error, in JSON: written to the socket unless a response is already
 * under way on it, then the connection is closed.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage
  if (socket.writable && !inFlight?.headersSent) {
    const [status, code]: [number, ErrorCode] =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'request_header_fields_too_large']
        : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'request_timeout']
          : [400, 'bad_request']
    const body = JSON.stringify(errorJson(code, errorCodes[code].message))
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    )
  }
  socket.destroy()
}
