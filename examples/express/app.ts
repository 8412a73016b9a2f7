/** Whisperer's API in an Express app, next to the app's own routes. `node examples/express/app.ts` */
import express from 'express'
import { expressMiddleware } from '../../src/api/adapters/express.ts'
import type { Whisperer } from '../../src/index.ts'
import { authenticate, createExampleWhisperer, type Order, tryIt } from '../shared/whisperer.ts'

export function createApp(whisperer: Whisperer): express.Express {
  const app = express()
  app.use(express.json())
  // Serves /whisperer and passes other paths on. After express.json(), as here, it re-serializes the
  // parsed body (within express.json()'s 100 kB limit); mounted before it, the raw body streams through.
  app.use(expressMiddleware(whisperer.api({ authenticate })))
  app.post('/orders', async (req, res) => {
    const order: Order = req.body
    await whisperer.deliverEvent(order, 'order-created')
    res.status(201).json(order)
  })
  return app
}

if (import.meta.main) {
  const whisperer = await createExampleWhisperer()
  await whisperer.start()
  const port = Number(process.env.PORT ?? 3000)
  createApp(whisperer).listen(port, () => console.log(tryIt(port)))
}
