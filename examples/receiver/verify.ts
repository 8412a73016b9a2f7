/**
 * A subscriber's endpoint: checks both signatures of every delivery (`X-Whisperer-Signature` and
 * the timestamped Standard Webhooks `webhook-signature`) against the raw body, and answers 401 to
 * a request that fails. `WEBHOOK_SECRET=demo-secret node examples/receiver/verify.ts`
 */
import { createServer, type Server } from 'node:http'
import { text } from 'node:stream/consumers'
import { verifySignature } from '../../src/index.ts'

export interface Delivery {
  event: { type: string; uuid: string }
  data: unknown
}

export function createReceiver(secret: string, onDelivery: (delivery: Delivery) => void): Server {
  return createServer((req, res) => {
    // The body exactly as received: the signatures cover these bytes, not a re-serialized parse.
    text(req).then(
      (body) => {
        const verified = verifySignature({ secret, body, headers: req.headers })
        if (!verified.ok) {
          res.writeHead(401, { 'content-type': 'text/plain' }).end(verified.reason)
          return
        }
        // A stale timestamp is refused above; a real receiver also skips a webhook-id it has seen.
        onDelivery(JSON.parse(body))
        res.writeHead(204).end()
      },
      () => res.destroy(),
    )
  })
}

if (import.meta.main) {
  const port = Number(process.env.PORT ?? 4000)
  const receiver = createReceiver(process.env.WEBHOOK_SECRET ?? 'demo-secret', ({ event, data }) =>
    console.log(`${event.type} ${event.uuid}`, data),
  )
  receiver.listen(port, '127.0.0.1', () => console.log(`Receiving deliveries on http://127.0.0.1:${port}/`))
}
