import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { getRequestListener, RequestError } from '@hono/node-server'
import { badRequest } from '../api/adapters/node-message.ts'
import { dashboardHandler } from '../api/dashboard.ts'
import { errorResponse } from '../api/errors.ts'
import { defaultPrefix } from '../config.ts'
import type { Whisperer } from '../whisperer.ts'
import type { ConfigFile } from './config-file.ts'
import { eventTypesOf } from './config-file.ts'
import { createHttpServer, type HttpTimeouts } from './http-server.ts'
import { metricsResponse } from './metrics-server.ts'
import { tokenAuthenticate } from './token-auth.ts'

export interface ServerOptions {
  whisperer: Whisperer
  port: number
  host: string
  /** Where the REST API is mounted. @default '/whisperer' */
  prefix?: string
  config: ConfigFile
  /** Where the first admin token is shown (once). */
  announce: (text: string) => void
  /** The HTTP server's timeouts, in milliseconds; see {@link HttpTimeouts} for the defaults. */
  http?: Partial<HttpTimeouts>
}

export interface RunningServer {
  url: string
  server: Server
  /** Stops accepting requests, lets those in flight finish, then drains the worker and closes. */
  close(): Promise<void>
}

/**
 * The standalone service in one process: the REST API and the dashboard on `port`, a worker and
 * maintenance. Event types from the configuration file are declared first, and on a first start
 * with no API token one admin token is created and shown once.
 */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { whisperer } = options
  for (const definition of eventTypesOf(options.config)) await whisperer.eventTypes.declare(definition)
  if ((await whisperer.tokens.list()).length === 0) {
    const { token } = await whisperer.tokens.create({
      owner: 'admin',
      scopes: ['admin'],
      name: 'first admin token',
    })
    options.announce(
      `No API token existed, so an admin token was created. It is shown only this once:\n\n  ${token}\n\n` +
        `Use it as "Authorization: Token ${token}"; create other tokens with "whisperer tokens create".`,
    )
  }
  const prefix = options.prefix ?? defaultPrefix
  const api = whisperer.api({ authenticate: tokenAuthenticate(whisperer), prefix })
  const dashboard = dashboardHandler({ prefix, frameAncestors: whisperer.config.portalFrameAncestors })
  const server = createHttpServer(
    getRequestListener(
      async (request) => {
        const { pathname } = new URL(request.url)
        if (pathname === '/healthz') return Response.json({ status: 'ok' })
        if (pathname === '/metrics' && request.method === 'GET') return metricsResponse(whisperer)
        return (await dashboard(request)) ?? api(request)
      },
      {
        // A request whose URL cannot be built (no Host, an invalid one) never reaches the handler.
        errorHandler: (error) =>
          error instanceof RequestError ? badRequest() : errorResponse(error, whisperer.logger),
      },
    ),
    options.http,
  )
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, options.host, () => resolve())
  })
  await whisperer.start()
  const address = server.address() as AddressInfo
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  const url = `http://${host}:${address.port}`
  whisperer.logger.info(
    { url: `${url}${prefix}/`, dashboard: `${url}${prefix}/dashboard/`, database: whisperer.database.kind },
    'Whisperer is serving',
  )
  let closing: Promise<void> | null = null
  return {
    url,
    server,
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve())
          server.closeIdleConnections()
        })
        await whisperer.close()
      })()
      return closing
    },
  }
}
