import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { getRequestListener, RequestError } from '@hono/node-server'
import { badRequest } from '../api/adapters/node-message.ts'
import { errorResponse } from '../api/errors.ts'
import { defaultPrefix } from '../config.ts'
import { WhispererError } from '../core/errors.ts'
import type { Whisperer } from '../whisperer.ts'
import { createHttpServer } from './http-server.ts'

/** `GET /metrics`: the Prometheus text of a Whisperer. No token: Prometheus scrapes it. */
export async function metricsResponse(whisperer: Whisperer): Promise<Response> {
  const text = await whisperer.metrics()
  return new Response(text, { headers: { 'Content-Type': whisperer.registry.contentType } })
}

export interface MetricsServerOptions {
  whisperer: Whisperer
  port: number
  host: string
  /** Where the health routes are: `{prefix}/health` and `{prefix}/health/ready`. @default '/whisperer' */
  prefix?: string
}

/**
 * A worker's small HTTP server: `/metrics` and the health routes, nothing else (and no token).
 * Resolves once it listens; `close()` stops it.
 */
export async function startMetricsServer(
  options: MetricsServerOptions,
): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const { whisperer } = options
  const prefix = (options.prefix ?? defaultPrefix).replace(/\/+$/, '')
  // The API's own health routes; every other route of it would ask for a token, so none is served.
  const api = whisperer.api({ authenticate: () => null, prefix, rateLimit: false })
  const health = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/health(/ready)?/?$`)
  const server = createHttpServer(
    getRequestListener(
      async (request) => {
        const { pathname } = new URL(request.url)
        if (request.method === 'GET' && pathname === '/metrics') return metricsResponse(whisperer)
        if (health.test(pathname)) return api(request)
        return errorResponse(new WhispererError('not_found', 'No such route'), whisperer.logger)
      },
      {
        errorHandler: (error) =>
          error instanceof RequestError ? badRequest() : errorResponse(error, whisperer.logger),
      },
    ),
  )
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, options.host, () => resolve())
  })
  const address = server.address() as AddressInfo
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return {
    url: `http://${host}:${address.port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
