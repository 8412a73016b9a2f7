import type { IncomingMessage, ServerResponse } from 'node:http'
import type { ApiHandler } from '../handler.ts'
import { serveNode } from './node-message.ts'

/** A node:http request listener. */
export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>

/**
 * The API as a node:http listener: `createServer(toNodeHandler(handler))`, or anything that calls
 * `(req, res)`. Bodies are streamed through unparsed; when Express mounted the listener under a
 * path, `req.originalUrl` keeps the full path the handler routes on.
 */
export function toNodeHandler(handler: ApiHandler): NodeHandler {
  return (req, res) => serveNode(handler, req, res)
}
