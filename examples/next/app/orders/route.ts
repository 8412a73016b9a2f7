/** The app's own route: creating an order publishes `order-created` to its subscribers. */
import type { Order } from '../../../shared/whisperer.ts'
import { getWhispererApp } from '../../lib/whisperer.ts'

export async function POST(request: Request): Promise<Response> {
  const order = (await request.json()) as Order
  const { whisperer } = await getWhispererApp()
  await whisperer.deliverEvent(order, 'order-created')
  return Response.json(order, { status: 201 })
}
