/**
 * What every framework example shares: a Whisperer with one event type, and the host
 * application's `authenticate` (here a single fixed token; yours asks its own sessions or API keys).
 */
import { type Authenticate, createWhisperer, type Whisperer, type WhispererOptions } from '../../src/index.ts'

export interface Order {
  id: number
  total: number
}

/** `Authorization: Token demo-token` is the owner `demo`, who may subscribe and publish. */
export const authenticate: Authenticate = (request) =>
  request.headers.get('authorization') === 'Token demo-token'
    ? { owner: 'demo', scopes: ['subscriber', 'publisher'] }
    : null

/**
 * A Whisperer on `DATABASE_URL`, or in memory. Targets on this machine are allowed so that
 * examples/receiver can be subscribed; a real deployment keeps private addresses refused.
 */
export async function createExampleWhisperer(options: WhispererOptions = {}): Promise<Whisperer> {
  const whisperer = await createWhisperer({
    database: process.env.DATABASE_URL ?? 'memory://',
    allowedTargets: ['127.0.0.1', 'localhost'],
    ...options,
  })
  whisperer.eventTypes.register({
    type: 'order-created',
    serialize: (order: Order) => ({ id: order.id, total: order.total }),
  })
  return whisperer
}

/** What to type to try a running example: subscribe examples/receiver, then create an order. */
export function tryIt(port: number): string {
  const base = `http://localhost:${port}`
  const json = `-H 'Content-Type: application/json'`
  const hook = JSON.stringify({
    event_type: 'order-created',
    target_url: 'http://127.0.0.1:4000/',
    secret_key: 'demo-secret',
  })
  return [
    `Listening on ${base}. With examples/receiver/verify.ts running, try:`,
    `  curl ${base}/whisperer/hooks/ -H 'Authorization: Token demo-token' ${json} -d '${hook}'`,
    `  curl ${base}/orders ${json} -d '{"id":1,"total":42}'`,
  ].join('\n')
}
