import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { connect } from 'node:net'
import { afterEach, beforeEach, expect, test } from 'vitest'
import { authenticate } from '../../examples/shared/whisperer.ts'
import { toNodeHandler } from '../../src/api/adapters/node.ts'
import { forEachDatabase } from '../support/databases.ts'
import { type Receiver, startReceiver } from '../support/receiver.ts'
import { exampleWhisperers, expectEndToEnd, overFetch, subscribe, token } from './support.ts'

/**
 * Sends raw bytes over one connection (the last request asks for `Connection: close`); resolves
 * with everything the server answered once it closes.
 */
function rawExchange(port: number, data: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let answer = ''
    const socket = connect(port, '127.0.0.1', () => socket.write(data))
    socket.on('data', (chunk) => {
      answer += chunk
    })
    socket.on('end', () => resolve(answer))
    socket.on('error', reject)
  })
}

forEachDatabase((db) => {
  const exampleWhisperer = exampleWhisperers(db)
  let receiver: Receiver
  let server: Server | undefined
  beforeEach(async () => {
    receiver = await startReceiver()
  })
  afterEach(async () => {
    server?.closeAllConnections()
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)))
    server = undefined
    await receiver.close()
  })

  async function listen(options: { maxBodyBytes?: number } = {}) {
    const whisperer = await exampleWhisperer()
    server = createServer(toNodeHandler(whisperer.api({ authenticate, ...options })))
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as AddressInfo).port
    return { whisperer, port, api: `http://127.0.0.1:${port}/whisperer` }
  }

  test('a node:http server serves the API end to end', async () => {
    const { whisperer, api } = await listen()
    await expectEndToEnd(whisperer, overFetch, api, receiver)
  })

  test('a POST without a body is one, and the response streams back', async () => {
    const { api } = await listen()
    const id = await subscribe(overFetch, api, receiver)
    const ping = await fetch(`${api}/hooks/${id}/ping/`, { method: 'POST', headers: token })
    expect(ping.status).toBe(200)
    expect(receiver.requests).toHaveLength(1)
  })

  test('a streamed body over the limit is cut off with 413, and the connection is reused', async () => {
    const { port } = await listen({ maxBodyBytes: 1024 })
    // Far more than the socket buffers: left unread, it would stall the connection.
    const chunk = 'x'.repeat(64 * 1024)
    const chunks = Array.from({ length: 64 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`).join('')
    const chunked = [
      'POST /whisperer/events/ HTTP/1.1',
      'Host: 127.0.0.1',
      'Authorization: Token demo-token',
      'Content-Type: application/json',
      'Transfer-Encoding: chunked',
      '',
      `${chunks}0\r\n\r\n`,
    ].join('\r\n')
    const next = ['GET /whisperer/hooks/ HTTP/1.1', 'Host: 127.0.0.1', 'Authorization: Token demo-token']
    const answer = await rawExchange(port, `${chunked}${next.join('\r\n')}\r\nConnection: close\r\n\r\n`)
    const statuses = [...answer.matchAll(/^HTTP\/1\.1 (\d+)/gm)].map((match) => match[1])
    expect(statuses).toEqual(['413', '200'])
    expect(answer).toContain('"code":"payload_too_large"')
  })

  test('a request with a malformed Host is answered 400 in JSON without reaching the API', async () => {
    const { port } = await listen()
    const answer = await rawExchange(
      port,
      'GET /whisperer/hooks/ HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n',
    )
    expect(answer).toMatch(/^HTTP\/1\.1 400 /)
    expect(answer).toMatch(/\r\ncontent-type: application\/json/i)
    expect(answer).toContain('"code":"bad_request"')
  })

  test('the path is taken as a path, never as a host', async () => {
    const { port } = await listen()
    // Resolved against the origin, `//evil.test/whisperer/hooks/` would be /whisperer/hooks/ on evil.test.
    const request = `GET //evil.test/whisperer/hooks/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${token.authorization}`
    const answer = await rawExchange(port, `${request}\r\nConnection: close\r\n\r\n`)
    expect(answer).toMatch(/^HTTP\/1\.1 404 /)
  })
})
