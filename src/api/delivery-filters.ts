import type { z } from 'zod'
import type { DeliveryListFilter, ReplayRequest } from '../service/deliveries.ts'
import { queryDate } from './context.ts'
import { type HookEventQuery, isTrue, type ReplayBody } from './schemas.ts'

/** The delivery filters of `hook_events/` and `event_queues/`, as their query strings give them. */
export type DeliveryQuery = Partial<z.infer<typeof HookEventQuery>>

/** A delivery list's query string as the service's filter (dj-whisperer's names and forms). */
export function deliveryFilterFromQuery(query: DeliveryQuery): DeliveryListFilter & { limit: number } {
  return {
    ...(query.event_type !== undefined ? { eventType: query.event_type } : {}),
    ...(query.uuid !== undefined ? { uuid: query.uuid } : {}),
    ...(query.response_http_status !== undefined ? { lastStatus: query.response_http_status } : {}),
    ...(query.delivered !== undefined ? { delivered: isTrue(query.delivered)! } : {}),
    ...(query.status !== undefined ? { status: query.status } : {}),
    ...(query.webhook !== undefined ? { webhookId: query.webhook } : {}),
    ...(query.cursor !== undefined ? { beforeId: query.cursor } : {}),
    ...createdRange(query),
    limit: query.limit ?? 100,
  }
}

/** A bulk replay's filter as sent: the query string of `GET replay/` or the body of `POST replay/`. */
export type ReplayWire = Pick<
  z.infer<typeof ReplayBody>,
  'webhook' | 'event_type' | 'created_date__gte' | 'created_date__lt' | 'status'
>

/** A bulk replay's filter, from its wire form (the status list already split). */
export function replayFilterFromWire(wire: ReplayWire): ReplayRequest {
  return {
    ...(wire.webhook !== undefined ? { webhookId: wire.webhook } : {}),
    ...(wire.event_type !== undefined ? { eventType: wire.event_type } : {}),
    ...(wire.created_date__gte !== undefined ? { createdAfter: new Date(wire.created_date__gte) } : {}),
    ...(wire.created_date__lt !== undefined ? { createdBefore: new Date(wire.created_date__lt) } : {}),
    ...(wire.status !== undefined ? { statuses: wire.status } : {}),
  }
}

/** dj-whisperer's created_date filters: exact (a day or an instant) and __gt, __gte, __lt, __lte. */
function createdRange(query: DeliveryQuery): { createdAfter?: Date; createdBefore?: Date } {
  const range: { createdAfter?: Date; createdBefore?: Date } = {}
  const later = (date: Date | undefined) => {
    if (date && (!range.createdAfter || date > range.createdAfter)) range.createdAfter = date
  }
  const earlier = (date: Date | undefined) => {
    if (date && (!range.createdBefore || date < range.createdBefore)) range.createdBefore = date
  }
  const plus = (date: Date | undefined, ms: number) => (date ? new Date(date.getTime() + ms) : undefined)
  if (query.created_date !== undefined) {
    const date = queryDate(query.created_date, 'created_date')
    const wholeDay = /^\d{4}-\d{2}-\d{2}$/.test(query.created_date)
    later(date)
    earlier(plus(date, wholeDay ? 24 * 3600 * 1000 : 1))
  }
  later(plus(queryDate(query.created_date__gt, 'created_date__gt'), 1))
  later(queryDate(query.created_date__gte, 'created_date__gte'))
  earlier(queryDate(query.created_date__lt, 'created_date__lt'))
  earlier(plus(queryDate(query.created_date__lte, 'created_date__lte'), 1))
  return range
}
