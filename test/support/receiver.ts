import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'

/** A request the receiver got. */
export interface ReceivedRequest {
  method: string
  path: string
  headers: IncomingHttpHeaders
  body: string
  receivedAt: number
}

/** How the receiver answers one request. */
export interface Reply {
  status?: number
  headers?: Record<string, string>
  body?: string
  /** Wait this long before answering. */
  delayMs?: number
  /** Drop the connection without answering. */
  destroy?: boolean
}

export type Responder = (request: ReceivedRequest, index: number) => Reply | Promise<Reply>

/** A real HTTP receiver on a loopback port, recording every request. */
export interface Receiver {
  url: string
  port: number
  requests: ReceivedRequest[]
  respond(responder: Responder): void
  /** Resolves once `count` requests have arrived; rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedRequest[]>
  close(): Promise<void>
}

export async function startReceiver(
  responder: Responder = () => ({ status: 200, body: 'ok' }),
): Promise<Receiver> {
  const requests: ReceivedRequest[] = []
  let respond = responder
  const waiters: { count: number; resolve: () => void }[] = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', async () => {
      const request: ReceivedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        receivedAt: Date.now(),
      }
      const index = requests.push(request) - 1
      for (const waiter of waiters.filter((w) => requests.length >= w.count)) waiter.resolve()
      const reply = await respond(request, index)
      if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply.delayMs))
      if (reply.destroy) return req.socket.destroy()
      res.writeHead(reply.status ?? 200, reply.headers ?? {})
      res.end(reply.body ?? '')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return {
    url: `http://127.0.0.1:${port}/hook`,
    port,
    requests,
    respond(next) {
      respond = next
    },
    waitFor(count, timeoutMs = 10_000) {
      if (requests.length >= count) return Promise.resolve(requests)
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`expected ${count} requests, got ${requests.length} in ${timeoutMs} ms`)),
          timeoutMs,
        )
        waiters.push({
          count,
          resolve: () => {
            clearTimeout(timer)
            resolve(requests)
          },
        })
      })
    },
    close() {
      server.closeAllConnections()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
}

/** Received headers as one string each (repeated ones joined), as verifiers take them. */
export function flatHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]),
  )
}
