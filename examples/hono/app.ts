/** Whisperer's API in a Hono app: the handler is Web-standard, so no adapter is needed. `node examples/hono/app.ts` */
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import type { Whisperer } from '../../src/index.ts'
import { authenticate, createExampleWhisperer, type Order, tryIt } from '../shared/whisperer.ts'

export function createApp(whisperer: Whisperer): Hono {
  const app = new Hono()
  const api = whisperer.api({ authenticate })
  app.all('/whisperer/*', (c) => api(c.req.raw))
  app.post('/orders', async (c) => {
    const order = await c.req.json<Order>()
    await whisperer.deliverEvent(order, 'order-created')
    return c.json(order, 201)
  })
  return app
}

if (import.meta.main) {
  const whisperer = await createExampleWhisperer()
  await whisperer.start()
  const port = Number(process.env.PORT ?? 3000)
  serve({ fetch: createApp(whisperer).fetch, port }, () => console.log(tryIt(port)))
}
