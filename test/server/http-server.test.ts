import { execFileSync } from 'node:child_process'
import { connect, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type RunningServer, type ServerOptions, startServer } from '../../src/server/server.ts'
import { createWhisperer, type Whisperer } from '../../src/whisperer.ts'
import { quietLogger } from '../support/databases.ts'

/** A raw HTTP exchange: writes `request`, and resolves with everything read until the server closes. */
function exchange(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`no close within 10 s; read: ${Buffer.concat(chunks).toString()}`))
    }, 10_000)
    socket.on('data', (chunk) => chunks.push(chunk))
    socket.on('error', () => {})
    socket.on('close', () => {
      clearTimeout(timer)
      resolve(Buffer.concat(chunks).toString())
    })
    socket.write(request)
  })
}

/** The status, headers and JSON body of a raw HTTP/1.1 response. */
function parse(raw: string) {
  const [head, body = ''] = raw.split('\r\n\r\n', 2)
  const [statusLine, ...lines] = head!.split('\r\n')
  const headers = Object.fromEntries(
    lines.map((line) => [
      line.slice(0, line.indexOf(':')).toLowerCase(),
      line.slice(line.indexOf(':') + 1).trim(),
    ]),
  )
  return { status: Number(statusLine!.split(' ')[1]), headers, body: body ? JSON.parse(body) : null }
}

async function serve(whisperer: Whisperer, options: Partial<ServerOptions> = {}): Promise<RunningServer> {
  return startServer({
    whisperer,
    port: 0,
    host: '127.0.0.1',
    config: { eventTypes: [] },
    announce: () => {},
    ...options,
  })
}

const portOf = (server: RunningServer) => Number(new URL(server.url).port)

describe('the HTTP server of whisperer serve', () => {
  let whisperer: Whisperer
  let server: RunningServer
  let admin: string
  beforeAll(async () => {
    whisperer = await createWhisperer({ database: 'memory://', logger: quietLogger })
    server = await serve(whisperer, {
      announce: (text) => {
        admin = /wh_\w+_[\w-]+/.exec(text)![0]
      },
    })
  }, 120_000)
  afterAll(async () => {
    await server?.close()
  })

  test('sets its timeouts deliberately', () => {
    expect({
      headersTimeout: server.server.headersTimeout,
      requestTimeout: server.server.requestTimeout,
      keepAliveTimeout: server.server.keepAliveTimeout,
    }).toEqual({ headersTimeout: 10_000, requestTimeout: 30_000, keepAliveTimeout: 65_000 })
  })

  test.each([
    ['a URL over 16 KiB', `GET /whisperer/${'a'.repeat(17 * 1024)} HTTP/1.1\r\nHost: x\r\n\r\n`],
    ['a header over 16 KiB', `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`],
  ])('%s is answered 431 in JSON with a code, and the connection closed', async (_label, request) => {
    const response = parse(await exchange(portOf(server), request))
    expect(response).toMatchObject({
      status: 431,
      headers: { 'content-type': 'application/json', connection: 'close' },
      body: { code: 'request_header_fields_too_large', message: expect.any(String) },
    })
  })

  test.each([
    ['a malformed request line', 'NOT HTTP AT ALL\r\n\r\n'],
    ['an HTTP/1.1 request without Host', 'GET /whisperer/ HTTP/1.1\r\n\r\n'],
    ['an invalid Host', 'GET /whisperer/ HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n'],
  ])('%s is answered 400 in JSON with a code', async (_label, request) => {
    const response = parse(await exchange(portOf(server), request))
    expect(response).toMatchObject({
      status: 400,
      headers: { 'content-type': expect.stringMatching(/^application\/json/) },
      body: { code: 'bad_request', message: expect.any(String) },
    })
  })

  test.each([
    ['GET', '/nope', 404, 'not_found'],
    ['GET', '/', 404, 'not_found'],
    ['POST', '/nope/deeper?x=1', 404, 'not_found'],
    ['GET', '/whisperer', 404, 'not_found'],
    ['GET', '/whisperer/nope/', 404, 'not_found'],
    ['GET', '/whisperer/dashboard/nope.js', 404, 'not_found'],
    ['GET', '/whisperer/dashboard/../../package.json', 404, 'not_found'],
    ['GET', '/whisperer/dashboard/%E0%A4%A', 404, 'not_found'],
    ['POST', '/whisperer/dashboard/', 405, 'method_not_allowed'],
  ])('%s %s answers %i in JSON with the code %s', async (method, path, status, code) => {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: `Token ${admin}` },
    })
    expect(response.headers.get('content-type')).toMatch(/^application\/json/)
    expect({ status: response.status, body: await response.json() }).toEqual({
      status,
      body: { code, message: expect.any(String) },
    })
  })
})

/** The highest number of open files this process may have. */
function openFileLimit(): number {
  const limit = execFileSync('sh', ['-c', 'ulimit -Hn']).toString().trim()
  return limit === 'unlimited' ? Number.POSITIVE_INFINITY : Number(limit)
}

const slowClients = 1000

// Each slow client is two descriptors in this process (its end and the server's), plus PGlite's.
describe.skipIf(openFileLimit() < 2 * slowClients + 500)('a slowloris client', () => {
  let whisperer: Whisperer
  let server: RunningServer
  let admin: string
  const sockets: Socket[] = []
  beforeAll(async () => {
    whisperer = await createWhisperer({ database: 'memory://', logger: quietLogger })
    server = await serve(whisperer, {
      http: { headersTimeout: 6000, requestTimeout: 8000, checkInterval: 250 },
      announce: (text) => {
        admin = /wh_\w+_[\w-]+/.exec(text)![0]
      },
    })
  }, 120_000)
  afterAll(async () => {
    for (const socket of sockets) socket.destroy()
    await server?.close()
  })

  test(`holding ${slowClients} connections, sending headers byte by byte, does not stop the API; headersTimeout closes them`, async () => {
    const port = portOf(server)
    // A header whose value never ends: the request's headers are never complete.
    const request = `GET /whisperer/event_types/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: `
    const answers = new Map<Socket, string>()
    const closed = new Set<Socket>()
    // Connect in batches of 100, each sending the first byte at once.
    for (let batch = 0; batch < slowClients / 100; batch += 1) {
      await Promise.all(
        Array.from(
          { length: 100 },
          () =>
            new Promise<void>((resolve, reject) => {
              const socket = connect(port, '127.0.0.1', () => {
                socket.write(request[0]!)
                resolve()
              })
              sockets.push(socket)
              answers.set(socket, '')
              socket.on('data', (chunk) => answers.set(socket, answers.get(socket) + chunk.toString()))
              socket.on('error', reject)
              socket.on('close', () => closed.add(socket))
            }),
        ),
      )
    }
    // The rest of the request, then one more byte of the header's value, to each slow connection
    // every 100 ms.
    let sent = 1
    const dribble = setInterval(() => {
      const byte = request[sent] ?? 'a'
      for (const socket of sockets) if (!socket.destroyed) socket.write(byte)
      sent += 1
    }, 100)
    try {
      expect(closed.size).toBe(0)
      // Others are still answered, by the API and by its health check.
      const events = await fetch(`${server.url}/whisperer/event_types/`, {
        headers: { authorization: `Token ${admin}` },
      })
      expect(events.status).toBe(200)
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200)
      expect(closed.size).toBe(0)
      // Then headersTimeout closes every slow connection (bounded: 60 s at most).
      for (let i = 0; i < 600 && closed.size < slowClients; i += 1)
        await new Promise((r) => setTimeout(r, 100))
    } finally {
      clearInterval(dribble)
    }
    expect(closed.size).toBe(slowClients)
    const timedOut = [...answers.values()].filter((raw) => raw.startsWith('HTTP/1.1 408 '))
    expect(timedOut).toHaveLength(slowClients)
    expect(parse(timedOut[0]!).body).toEqual({ code: 'request_timeout', message: expect.any(String) })
    // And the server still answers.
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200)
  }, 120_000)

  test('an idle keep-alive connection outlives headersTimeout and serves its next request', async () => {
    const socket = connect(portOf(server), '127.0.0.1')
    sockets.push(socket)
    let read = ''
    socket.on('data', (chunk) => {
      read += chunk.toString()
    })
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
    const ask = () => socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
    const answered = async (count: number) => {
      for (let i = 0; i < 100 && (read.match(/HTTP\/1\.1 200/g) ?? []).length < count; i += 1)
        await new Promise((r) => setTimeout(r, 100))
      return (read.match(/HTTP\/1\.1 200/g) ?? []).length
    }
    ask()
    expect(await answered(1)).toBe(1)
    // Idle for longer than headersTimeout (6 s) plus its check interval, less than keepAliveTimeout.
    await new Promise((r) => setTimeout(r, 7000))
    expect(socket.destroyed).toBe(false)
    ask()
    expect(await answered(2)).toBe(2)
  }, 60_000)
})
