import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { text } from 'node:stream/consumers'
import {
  type Answer,
  checkSignatures,
  chooseAnswer,
  describeEvent,
  formatReport,
  header,
  type Paint,
  reportJson,
} from './listen-report.ts'

export interface ListenOptions {
  port: number
  host: string
  path: string
  secret?: string
  status?: number
  failFirst?: number
  delay?: number
  json?: boolean
}

/** A running listener. */
export interface Listener {
  url: string
  close(): Promise<void>
}

/**
 * Starts the local endpoint. Each request is read whole, checked, answered and reported through
 * `write`: readably with `paint`, or as one JSON line with `json`.
 */
export async function startListener(
  options: ListenOptions,
  write: (text: string) => void,
  paint: Paint,
): Promise<Listener> {
  // Requests per webhook-id (one delivery), for --fail-first and the attempt row.
  const counts = new Map<string, number>()
  const server = createServer((req, res) => {
    const receivedAt = new Date()
    text(req).then(
      (body) => {
        const path = req.url ?? '/'
        const request = { receivedAt, method: req.method ?? '', path, headers: req.headers, body }
        const webhookId = header(req.headers, 'webhook-id') ?? null
        const signatures = options.secret
          ? checkSignatures({ secret: options.secret, body, headers: req.headers, now: receivedAt })
          : null
        let seen = 0
        let answer: Answer = { status: 404, why: `not ${options.path}` }
        if (path.split('?')[0] === options.path) {
          seen = (counts.get(webhookId ?? '') ?? 0) + 1
          counts.set(webhookId ?? '', seen)
          answer = chooseAnswer({ ...options, signatures, seen })
        }
        const event = describeEvent(request)
        const report = {
          request,
          eventType: event.type,
          eventUuid: event.uuid,
          webhookId,
          seen,
          signatures,
          answer,
        }
        write(options.json ? reportJson(report) : formatReport(report, paint))
        reply(res, answer, options.delay ?? 0)
      },
      () => res.destroy(),
    )
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, options.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address() as AddressInfo
  return {
    url: `http://${displayHost(address)}:${address.port}${options.path}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

/** Where a sender on this machine reaches the listener: a wildcard address becomes loopback. */
function displayHost(address: AddressInfo): string {
  if (address.address === '0.0.0.0') return '127.0.0.1'
  if (address.address === '::') return '[::1]'
  return address.family === 'IPv6' ? `[${address.address}]` : address.address
}

/** Answers after `delayMs`; a pending delay never keeps the process alive once the listener closed. */
function reply(res: ServerResponse, answer: Answer, delayMs: number): void {
  const send = () => {
    if (!res.destroyed) res.writeHead(answer.status, { 'content-type': 'text/plain' }).end(answer.why)
  }
  if (delayMs === 0) send()
  else setTimeout(send, delayMs).unref()
}
