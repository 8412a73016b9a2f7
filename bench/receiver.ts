/**
 * The bench's webhook receiver, in a process of its own so that it never competes with the engine
 * for a JavaScript thread. A bare `node:http` server: every request is counted, its `webhook-id` and
 * arrival wall time (`performance.timeOrigin + performance.now()`, sub-millisecond) are recorded, and
 * it is answered 200 "ok". In `failing` mode it answers 500 to every other request of each delivery
 * (its first try 500, its retry 200, and so on): exactly half of all requests fail. (Alternating over
 * all requests instead lets two retried deliveries fall into lockstep, one of them failing every
 * time until it runs out of attempts.)
 *
 * A request of the ordering key `blocked` is always answered 500: its lane stays blocked (the
 * `ordered` scenario measures how its peers fare).
 *
 * Control paths, used by the orchestrator: `POST /_reset?mode=ok|failing[&record=0]` clears
 * everything (`record=0`: count requests without keeping their ids and times),
 * `GET /_stats` returns the counters, `GET /_times` the recorded ids and times.
 *
 * With BENCH_RECEIVER_ALSO_ON set to an address, it listens on that address too, on the same port
 * (the bridge of the workers' network namespaces).
 *
 * Alone: `node bench/receiver.ts [port]`. Forked, it reports its port over IPC and exits when its
 * parent goes.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'

/** What `GET /_stats` returns. */
export interface ReceiverStats {
  mode: 'ok' | 'failing'
  requests: number
  ok: number
  failed: number
  /** Wall time (ms) of the first and last request, and of the last one answered 200. */
  firstAt: number | null
  lastAt: number | null
  lastOkAt: number | null
  /** CPU the receiver used since the reset (µs), and the wall time since then (ms). */
  cpuMicros: number
  sinceResetMs: number
  /** Requests whose id and time were not kept (beyond the cap). */
  dropped: number
}

const maxRecorded = 4_000_000
const wallNow = () => performance.timeOrigin + performance.now()

let mode: 'ok' | 'failing' = 'ok'
/** Whether each request's id and time are kept (not in a soak, whose millions only need counting). */
let recording = true
let requests = 0
let ok = 0
let failed = 0
let firstAt: number | null = null
let lastAt: number | null = null
let lastOkAt: number | null = null
let ids: string[] = []
let times: number[] = []
/** In failing mode: the ids whose last request was answered 500. */
let failedLast = new Set<string>()
let dropped = 0
let cpuAtReset = process.cpuUsage()
let resetAt = wallNow()

function reset(nextMode: 'ok' | 'failing', record: boolean): void {
  mode = nextMode
  recording = record
  requests = 0
  ok = 0
  failed = 0
  firstAt = null
  lastAt = null
  lastOkAt = null
  ids = []
  times = []
  failedLast = new Set()
  dropped = 0
  cpuAtReset = process.cpuUsage()
  resetAt = wallNow()
}

function stats(): ReceiverStats {
  const cpu = process.cpuUsage(cpuAtReset)
  return {
    mode,
    requests,
    ok,
    failed,
    firstAt,
    lastAt,
    lastOkAt,
    cpuMicros: cpu.user + cpu.system,
    sinceResetMs: wallNow() - resetAt,
    dropped,
  }
}

function control(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://receiver')
  let body: unknown
  if (url.pathname === '/_reset') {
    reset(
      url.searchParams.get('mode') === 'failing' ? 'failing' : 'ok',
      url.searchParams.get('record') !== '0',
    )
    body = stats()
  } else if (url.pathname === '/_stats') body = stats()
  else if (url.pathname === '/_times') body = { ids, times }
  else {
    res.writeHead(404).end()
    return
  }
  const text = JSON.stringify(body)
  req.resume()
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

const server = createServer((req, res) => {
  const at = wallNow()
  if (req.url?.startsWith('/_')) return control(req, res)
  requests += 1
  firstAt ??= at
  lastAt = at
  const header = req.headers['webhook-id']
  const id = typeof header === 'string' ? header : ''
  if (recording && ids.length < maxRecorded) {
    ids.push(id)
    times.push(at)
  } else if (recording) dropped += 1
  let fail = false
  if (mode === 'failing') {
    fail = !failedLast.delete(id)
    if (fail) failedLast.add(id)
  }
  if (req.headers['x-whisperer-ordering-key'] === 'blocked') fail = true
  if (fail) failed += 1
  else {
    ok += 1
    lastOkAt = at
  }
  req.resume()
  req.on('end', () => {
    res.writeHead(fail ? 500 : 200, { 'content-type': 'text/plain', 'content-length': 2 })
    res.end(fail ? 'no' : 'ok')
  })
})
server.keepAliveTimeout = 60_000

const port = Number(process.argv[2] ?? 0)
/** The workers' bridge address, when they run in network namespaces: listened on too, same port. */
const alsoOn = process.env.BENCH_RECEIVER_ALSO_ON
server.listen(port, '127.0.0.1', () => {
  const { port: bound } = server.address() as { port: number }
  const ready = () => {
    if (process.send) {
      process.send({ type: 'listening', port: bound })
      process.on('disconnect', () => process.exit(0))
    } else console.log(`receiver listening on http://127.0.0.1:${bound}`)
  }
  if (!alsoOn) return ready()
  const bridged = createServer((req, res) => server.emit('request', req, res))
  bridged.keepAliveTimeout = server.keepAliveTimeout
  bridged.listen(bound, alsoOn, ready)
})
