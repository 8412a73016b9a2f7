/** Whisperer's API in an Express app, next to the app's own routes. `node examples/express/app.ts` */
import express from 'express'
import { expressMiddleware } from '../../src/api/adapters/express.ts'
import type { Whisperer } from '../../src/index.ts'
import { authenticate, createExampleWhisperer, type Order, tryIt } from '../shared/whisperer.ts'

export function createApp(whisperer: Whisperer): express.Express {
  const app = express()
  // The subscriber portal's files, which this app's own page may frame (docs/portal.md).
  const dashboard = whisperer.dashboard({ frameAncestors: ["'self'"] })
  app.use(expressMiddleware(dashboard, { prefix: '/whisperer/dashboard' }))
  app.use(express.json())
  // Serves /whisperer and passes other paths on. After express.json(), as here, it re-serializes the
  // parsed body (within express.json()'s 100 kB limit); mounted before it, the raw body streams through.
  app.use(expressMiddleware(whisperer.api({ authenticate })))
  app.post('/orders', async (req, res) => {
    const order: Order = req.body
    await whisperer.deliverEvent(order, 'order-created')
    res.status(201).json(order)
  })
  // Your customer's webhooks, in your page: a short-lived portal link for who is signed in (here
  // always `demo`), framed. The link's token is in its fragment, which no server or Referer sees.
  app.get('/account/webhooks', async (_req, res) => {
    const { url } = await whisperer.portal.createSession({ owner: 'demo' })
    res
      .type('html')
      .send(
        `<!doctype html><html lang="en"><title>Your webhooks</title>` +
          `<iframe title="Webhooks" src="${url}" width="100%" height="800"></iframe></html>`,
      )
  })
  return app
}

if (import.meta.main) {
  const whisperer = await createExampleWhisperer()
  await whisperer.start()
  const port = Number(process.env.PORT ?? 3000)
  createApp(whisperer).listen(port, () => console.log(tryIt(port)))
}
