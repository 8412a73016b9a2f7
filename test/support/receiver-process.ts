// A receiver in a process of its own, so that what the test process does (publishing, garbage
// collection) cannot delay when requests are seen: `fork('receiver-process.ts')`. It answers 200,
// sends `{ port }` once listening, and answers a `'report'` message with the arrival times (ms)
// and `webhook-id` of every request.
import { createServer } from 'node:http'

const received: { at: number; id: string }[] = []
const server = createServer((req, res) => {
  const at = Date.now()
  req.resume()
  req.on('end', () => {
    received.push({ at, id: String(req.headers['webhook-id']) })
    res.writeHead(200)
    res.end('ok')
  })
})
server.listen(0, '127.0.0.1', () => {
  const address = server.address()
  process.send?.({ port: typeof address === 'object' && address ? address.port : 0 })
})
process.on('message', (message) => {
  if (message === 'report') process.send?.({ received })
})
process.on('disconnect', () => {
  server.closeAllConnections()
  server.close()
})
