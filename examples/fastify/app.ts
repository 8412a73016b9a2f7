/** Whisperer's API in a Fastify app, next to the app's own routes. `node examples/fastify/app.ts` */
import Fastify, { type FastifyInstance } from 'fastify'
import { fastifyPlugin } from '../../src/api/adapters/fastify.ts'
import type { Whisperer } from '../../src/index.ts'
import { authenticate, createExampleWhisperer, type Order, tryIt } from '../shared/whisperer.ts'

export async function createApp(whisperer: Whisperer): Promise<FastifyInstance> {
  const app = Fastify()
  // Every method under /whisperer, with the body left unparsed for the API.
  await app.register(fastifyPlugin(whisperer.api({ authenticate })))
  app.post<{ Body: Order }>('/orders', async (request, reply) => {
    await whisperer.deliverEvent(request.body, 'order-created')
    return reply.code(201).send(request.body)
  })
  return app
}

if (import.meta.main) {
  const whisperer = await createExampleWhisperer()
  await whisperer.start()
  const port = Number(process.env.PORT ?? 3000)
  const app = await createApp(whisperer)
  await app.listen({ port })
  console.log(tryIt(port))
}
