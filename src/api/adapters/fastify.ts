import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { defaultPrefix } from '../../config.ts'
import type { ApiHandler } from '../handler.ts'
import { badRequest, requestFromNode } from './node-message.ts'

export interface FastifyOptions {
  /** The handler's prefix, as given to `whisperer.api()`. @default '/whisperer' */
  prefix?: string
}

/**
 * The API as a Fastify plugin: `app.register(fastifyPlugin(whisperer.api({ authenticate })))`.
 * Every method under the prefix is routed to the handler, with the body unparsed: in this plugin's
 * scope alone, Fastify's body parsers are replaced by one that leaves the stream to the handler
 * (which enforces its own size limit and content type).
 */
export function fastifyPlugin(handler: ApiHandler, options: FastifyOptions = {}): FastifyPluginAsync {
  const prefix = (options.prefix ?? defaultPrefix).replace(/\/+$/, '')
  const route = async (request: FastifyRequest, reply: FastifyReply) => {
    let webRequest: Request
    try {
      webRequest = requestFromNode(request.raw, reply.raw, { protocol: request.protocol })
    } catch {
      return reply.send(badRequest())
    }
    return reply.send(await handler(webRequest))
  }
  return async (app) => {
    app.removeAllContentTypeParsers()
    app.addContentTypeParser('*', (_request, _payload, done) => done(null))
    app.all(prefix, route)
    app.all(`${prefix}/*`, route)
  }
}
