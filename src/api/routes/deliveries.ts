import { createRoute, type OpenAPIHono } from '@hono/zod-openapi'
import type { z } from 'zod'
import type { Delivery } from '../../core/delivery.ts'
import type { Whisperer } from '../../whisperer.ts'
import { type ApiEnv, actorOf, nextPage, principalWith, queryDate } from '../context.ts'
import {
  Attempt,
  DeliveryRefParam,
  ErrorBody,
  EventQueueItem,
  EventQueueQuery,
  HookEvent,
  HookEventQuery,
  isTrue,
  json,
  page,
  ReplayBody,
  ReplayCount,
  ReplayCountQuery,
  ReplayResult,
  RetryBody,
  RetryResult,
} from '../schemas.ts'
import { attemptJson, eventQueueJson, hookEventJson } from '../serialize.ts'

const errors = {
  400: json(ErrorBody, 'Invalid input'),
  401: json(ErrorBody, 'Not authenticated'),
  403: json(ErrorBody, 'The token lacks the scope'),
  404: json(ErrorBody, 'No such delivery for this owner'),
}
const tags = ['Deliveries']

/** Deliveries as dj-whisperer's hook events: each with its webhook (masked) and its attempts' times. */
async function hookEvents(whisperer: Whisperer, deliveries: Delivery[]) {
  const [webhooks, summaries] = await Promise.all([
    whisperer.deliveries.webhooksOf(deliveries),
    whisperer.deliveries.summaries(deliveries),
  ])
  return deliveries.map((delivery) =>
    hookEventJson(delivery, webhooks.get(delivery.webhookId) ?? null, summaries.get(delivery.id)),
  )
}

/** dj-whisperer's created_date filters: exact (a day or an instant) and __gt, __gte, __lt, __lte. */
function createdRange(query: z.infer<typeof HookEventQuery>): { createdAfter?: Date; createdBefore?: Date } {
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

export function deliveryRoutes(app: OpenAPIHono<ApiEnv>): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/hook_events/',
      tags,
      summary: 'List deliveries',
      description: 'Newest first. Filters as in dj-whisperer, plus status.',
      request: { query: HookEventQuery },
      responses: { 200: json(page(HookEvent, 'HookEventPage'), 'Deliveries'), ...errors },
    }),
    async (c) => {
      const query = c.req.valid('query')
      const principal = principalWith(c, 'subscriber')
      const whisperer = c.get('whisperer')
      const limit = query.limit ?? 100
      const deliveries = await whisperer.deliveries.list(actorOf(principal, query.owner), {
        ...(query.event_type !== undefined ? { eventType: query.event_type } : {}),
        ...(query.uuid !== undefined ? { uuid: query.uuid } : {}),
        ...(query.response_http_status !== undefined ? { lastStatus: query.response_http_status } : {}),
        ...(query.delivered !== undefined ? { delivered: isTrue(query.delivered)! } : {}),
        ...(query.status !== undefined ? { status: query.status } : {}),
        ...(query.webhook !== undefined ? { webhookId: query.webhook } : {}),
        ...(query.cursor !== undefined ? { beforeId: query.cursor } : {}),
        ...createdRange(query),
        limit,
      })
      return c.json(
        { results: await hookEvents(whisperer, deliveries), next: nextPage(c, deliveries, limit) },
        200,
      )
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/hook_events/replay/',
      tags,
      summary: 'Count the deliveries a bulk replay would send again',
      description: 'All of them, however many batches the replay takes: a client shows its progress.',
      request: { query: ReplayCountQuery },
      responses: { 200: json(ReplayCount, 'How many match'), ...errors },
    }),
    async (c) => {
      const principal = principalWith(c, 'subscriber')
      const query = c.req.valid('query')
      const count = await c.get('whisperer').deliveries.replayCount(actorOf(principal, query.owner), {
        ...(query.webhook !== undefined ? { webhookId: query.webhook } : {}),
        ...(query.event_type !== undefined ? { eventType: query.event_type } : {}),
        ...(query.created_date__gte !== undefined ? { createdAfter: new Date(query.created_date__gte) } : {}),
        ...(query.created_date__lt !== undefined ? { createdBefore: new Date(query.created_date__lt) } : {}),
        ...(query.status !== undefined ? { statuses: query.status } : {}),
      })
      return c.json({ count }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/hook_events/replay/',
      tags,
      summary: 'Send failed deliveries again (bulk replay)',
      description:
        'Queues up to `limit` deliveries matching the filter (failed ones by default) to be sent again. ' +
        'While `more` is true, call again.',
      request: { body: { content: { 'application/json': { schema: ReplayBody } }, required: true } },
      responses: { 200: json(ReplayResult, 'How many were queued'), ...errors },
    }),
    async (c) => {
      const principal = principalWith(c, 'subscriber')
      const body = c.req.valid('json')
      const limit = body.limit ?? 1000
      const replayed = await c.get('whisperer').deliveries.replay(actorOf(principal, body.owner), {
        ...(body.webhook !== undefined ? { webhookId: body.webhook } : {}),
        ...(body.event_type !== undefined ? { eventType: body.event_type } : {}),
        ...(body.created_date__gte !== undefined ? { createdAfter: new Date(body.created_date__gte) } : {}),
        ...(body.created_date__lt !== undefined ? { createdBefore: new Date(body.created_date__lt) } : {}),
        ...(body.status !== undefined ? { statuses: body.status } : {}),
        limit,
      })
      return c.json({ replayed, more: replayed === limit }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/hook_events/{id}/',
      tags,
      summary: 'Get a delivery',
      request: { params: DeliveryRefParam },
      responses: { 200: json(HookEvent, 'The delivery'), ...errors },
    }),
    async (c) => {
      const principal = principalWith(c, 'subscriber')
      const whisperer = c.get('whisperer')
      const delivery = await whisperer.deliveries.get(actorOf(principal), c.req.valid('param').id)
      const [event] = await hookEvents(whisperer, [delivery])
      return c.json(event!, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/hook_events/{id}/attempts/',
      tags,
      summary: 'The attempts of a delivery',
      description: 'Oldest first, each with its request headers (credentials masked), response and timing.',
      request: { params: DeliveryRefParam },
      responses: { 200: json(page(Attempt, 'AttemptPage'), 'Attempts'), ...errors },
    }),
    async (c) => {
      const principal = principalWith(c, 'subscriber')
      const attempts = await c
        .get('whisperer')
        .deliveries.attempts(actorOf(principal), c.req.valid('param').id)
      return c.json({ results: attempts.map(attemptJson), next: null }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/hook_events/{id}/retry/',
      tags,
      summary: 'Send a delivery again now',
      description:
        'dj-whisperer’s manual retry: one attempt, recorded like any other. Refused (409) for a delivered ' +
        'delivery, and for one still in its retry schedule unless `force`. Answers 200 when delivered, 406 when not.',
      request: {
        params: DeliveryRefParam,
        body: { content: { 'application/json': { schema: RetryBody } }, required: false },
      },
      responses: {
        200: json(RetryResult, 'Delivered'),
        406: json(RetryResult, 'Attempted, not delivered'),
        409: json(ErrorBody, 'Already delivered, still retrying, or being attempted'),
        ...errors,
      },
    }),
    async (c) => {
      const principal = principalWith(c, 'subscriber')
      const { id } = c.req.valid('param')
      const body = (c.req.valid('json') as z.infer<typeof RetryBody> | undefined) ?? {}
      const force = body.force === true || c.req.query('force') === 'true'
      const outcome = await c.get('whisperer').deliveries.retry(actorOf(principal), id, { force })
      const result = {
        detail: outcome.delivered ? 'Webhook event delivered successfully' : 'Webhook event delivery failed',
        delivered: outcome.delivered,
        status: outcome.status,
        response_status: outcome.responseStatus,
        response_content: outcome.responseBody,
        response_time: (outcome.durationMs / 1000).toFixed(6),
        error: outcome.error,
      }
      return c.json(result, outcome.delivered ? 200 : 406)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/event_queues/',
      tags,
      summary: 'Deliveries not attempted yet',
      description: 'dj-whisperer’s event queue: here, the deliveries still waiting for their first attempt.',
      request: { query: EventQueueQuery },
      responses: { 200: json(page(EventQueueItem, 'EventQueuePage'), 'Waiting deliveries'), ...errors },
    }),
    async (c) => {
      const query = c.req.valid('query')
      const principal = principalWith(c, 'subscriber')
      const limit = query.limit ?? 100
      const deliveries = await c.get('whisperer').deliveries.list(actorOf(principal, query.owner), {
        unattempted: true,
        ...(query.event_type !== undefined ? { eventType: query.event_type } : {}),
        ...(query.cursor !== undefined ? { beforeId: query.cursor } : {}),
        limit,
      })
      return c.json({ results: deliveries.map(eventQueueJson), next: nextPage(c, deliveries, limit) }, 200)
    },
  )
}
