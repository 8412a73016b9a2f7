import { createRoute, type OpenAPIHono } from '@hono/zod-openapi'
import type { z } from 'zod'
import type { Delivery } from '../../core/delivery.ts'
import type { ApiBackend } from '../backend.ts'
import { type ApiEnv, actorOf, nextPage, requires } from '../context.ts'
import { deliveryFilterFromQuery, replayFilterFromWire } from '../delivery-filters.ts'
import {
  Attempt,
  DeliveryRefParam,
  ErrorBody,
  EventQueueItem,
  EventQueueQuery,
  HookEvent,
  HookEventQuery,
  json,
  page,
  ReplayBody,
  ReplayCount,
  ReplayCountQuery,
  ReplayResult,
  ResendBody,
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
async function hookEvents(backend: ApiBackend, deliveries: Delivery[]) {
  const [webhooks, summaries] = await Promise.all([
    backend.deliveries.webhooksOf(deliveries),
    backend.deliveries.summaries(deliveries),
  ])
  return deliveries.map((delivery) =>
    hookEventJson(delivery, webhooks.get(delivery.webhookId) ?? null, summaries.get(delivery.id)),
  )
}

/** dj-whisperer's answer to a manual attempt, for `retry/` and `resend/`. */
function retryResult(outcome: Awaited<ReturnType<ApiBackend['deliveries']['retry']>>) {
  return {
    detail: outcome.delivered ? 'Webhook event delivered successfully' : 'Webhook event delivery failed',
    delivered: outcome.delivered,
    status: outcome.status,
    response_status: outcome.responseStatus,
    response_content: outcome.responseBody,
    response_time: (outcome.durationMs / 1000).toFixed(6),
    error: outcome.error,
  }
}

export function deliveryRoutes(app: OpenAPIHono<ApiEnv>): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/hook_events/',
      ...requires('subscriber'),
      tags,
      summary: 'List deliveries',
      description: 'Newest first. Filters as in dj-whisperer, plus status.',
      request: { query: HookEventQuery },
      responses: { 200: json(page(HookEvent, 'HookEventPage'), 'Deliveries'), ...errors },
    }),
    async (c) => {
      const query = c.req.valid('query')
      const principal = c.get('principal')
      const backend = c.get('backend')
      const filter = deliveryFilterFromQuery(query)
      const deliveries = await backend.deliveries.list(actorOf(principal, query.owner), filter)
      return c.json(
        { results: await hookEvents(backend, deliveries), next: nextPage(c, deliveries, filter.limit) },
        200,
      )
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/hook_events/replay/',
      ...requires('subscriber'),
      tags,
      summary: 'Count the deliveries a bulk replay would send again',
      description: 'All of them, however many batches the replay takes: a client shows its progress.',
      request: { query: ReplayCountQuery },
      responses: { 200: json(ReplayCount, 'How many match'), ...errors },
    }),
    async (c) => {
      const principal = c.get('principal')
      const query = c.req.valid('query')
      const count = await c
        .get('backend')
        .deliveries.replayCount(actorOf(principal, query.owner), replayFilterFromWire(query))
      return c.json({ count }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/hook_events/replay/',
      ...requires('subscriber'),
      tags,
      summary: 'Send failed deliveries again (bulk replay)',
      description:
        'Queues up to `limit` deliveries matching the filter (failed ones by default) to be sent again. ' +
        'While `more` is true, call again.',
      request: { body: { content: { 'application/json': { schema: ReplayBody } }, required: true } },
      responses: { 200: json(ReplayResult, 'How many were queued'), ...errors },
    }),
    async (c) => {
      const principal = c.get('principal')
      const body = c.req.valid('json')
      const limit = body.limit ?? 1000
      const replayed = await c
        .get('backend')
        .deliveries.replay(actorOf(principal, body.owner), { ...replayFilterFromWire(body), limit })
      return c.json({ replayed, more: replayed === limit }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/hook_events/{id}/',
      ...requires('subscriber'),
      tags,
      summary: 'Get a delivery',
      request: { params: DeliveryRefParam },
      responses: { 200: json(HookEvent, 'The delivery'), ...errors },
    }),
    async (c) => {
      const principal = c.get('principal')
      const backend = c.get('backend')
      const delivery = await backend.deliveries.get(actorOf(principal), c.req.valid('param').id)
      const [event] = await hookEvents(backend, [delivery])
      return c.json(event!, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/hook_events/{id}/attempts/',
      ...requires('subscriber'),
      tags,
      summary: 'The attempts of a delivery',
      description: 'Oldest first, each with its request headers (credentials masked), response and timing.',
      request: { params: DeliveryRefParam },
      responses: { 200: json(page(Attempt, 'AttemptPage'), 'Attempts'), ...errors },
    }),
    async (c) => {
      const principal = c.get('principal')
      const attempts = await c.get('backend').deliveries.attempts(actorOf(principal), c.req.valid('param').id)
      return c.json({ results: attempts.map(attemptJson), next: null }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/hook_events/{id}/retry/',
      ...requires('subscriber'),
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
      const principal = c.get('principal')
      const { id } = c.req.valid('param')
      const body = (c.req.valid('json') as z.infer<typeof RetryBody> | undefined) ?? {}
      const force = body.force === true || c.req.query('force') === 'true'
      const outcome = await c.get('backend').deliveries.retry(actorOf(principal), id, { force })
      return c.json(retryResult(outcome), outcome.delivered ? 200 : 406)
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/hook_events/{id}/resend/',
      ...requires('subscriber'),
      tags,
      summary: 'Send a delivery again, whatever became of it',
      description:
        'A new attempt of the same delivery: the same body and the same `webhook-id` (the delivery uuid), ' +
        'so a receiver can de-duplicate, and the next attempt number. Delivered, failed and cancelled ' +
        'deliveries are sent again; a pending one (still in its retry schedule) is sent now. Answers as ' +
        '`retry/` does (200 delivered, 406 not), or with `async` (body or query) queues it and answers 202 ' +
        'with the delivery. Refused with 409 `delivery_in_flight` while it is being attempted, with 409 ' +
        '`webhook_inactive` when its webhook is deactivated or disabled (reactivate it first: a resend ' +
        'does not bypass that), and with 404 `webhook_not_found` when its webhook was deleted.',
      request: {
        params: DeliveryRefParam,
        body: { content: { 'application/json': { schema: ResendBody } }, required: false },
      },
      responses: {
        200: json(RetryResult, 'Delivered'),
        202: json(HookEvent, 'Queued (`async`): the delivery, due now'),
        406: json(RetryResult, 'Attempted, not delivered'),
        409: json(ErrorBody, 'Being attempted right now, or its webhook is inactive'),
        ...errors,
      },
    }),
    async (c) => {
      const principal = c.get('principal')
      const { id } = c.req.valid('param')
      const body = (c.req.valid('json') as z.infer<typeof ResendBody> | undefined) ?? {}
      const queued = body.async === true || c.req.query('async') === 'true'
      const backend = c.get('backend')
      const outcome = await backend.deliveries.resend(actorOf(principal), id, { async: queued })
      if (!outcome) {
        const [event] = await hookEvents(backend, [await backend.deliveries.get(actorOf(principal), id)])
        return c.json(event!, 202)
      }
      return c.json(retryResult(outcome), outcome.delivered ? 200 : 406)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/event_queues/',
      ...requires('subscriber'),
      tags,
      summary: 'Deliveries not attempted yet',
      description: 'dj-whisperer’s event queue: here, the deliveries still waiting for their first attempt.',
      request: { query: EventQueueQuery },
      responses: { 200: json(page(EventQueueItem, 'EventQueuePage'), 'Waiting deliveries'), ...errors },
    }),
    async (c) => {
      const query = c.req.valid('query')
      const principal = c.get('principal')
      const filter = { ...deliveryFilterFromQuery(query), unattempted: true }
      const deliveries = await c.get('backend').deliveries.list(actorOf(principal, query.owner), filter)
      return c.json(
        { results: deliveries.map(eventQueueJson), next: nextPage(c, deliveries, filter.limit) },
        200,
      )
    },
  )
}
