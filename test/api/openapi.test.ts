import { readFile } from 'node:fs/promises'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { formatOpenApi, openApiFile } from '../../scripts/openapi-dump.ts'
import { createWhisperer, type Whisperer } from '../../src/whisperer.ts'
import { quietLogger } from '../support/databases.ts'
import { authenticate, type Call, caller } from './support.ts'

// The document has nothing to do with storage: one in-memory PGlite serves it.
let whisperer: Whisperer
let call: Call
// biome-ignore lint/suspicious/noExplicitAny: an OpenAPI document, walked by the tests
let document: any
beforeAll(async () => {
  whisperer = await createWhisperer({ database: 'memory://', logger: quietLogger })
  whisperer.eventTypes.register({ type: 'order-created' })
  call = caller(whisperer.api({ authenticate }))
  document = (await call('GET', 'openapi.json', { as: null })).body
})
afterAll(() => whisperer.close())

const routes = [
  'GET /whisperer/openapi.json',
  'GET /whisperer/health/',
  'GET /whisperer/health/ready/',
  'GET /whisperer/hooks/',
  'POST /whisperer/hooks/',
  'GET /whisperer/hooks/registry/',
  'GET /whisperer/hooks/{id}/',
  'PUT /whisperer/hooks/{id}/',
  'PATCH /whisperer/hooks/{id}/',
  'DELETE /whisperer/hooks/{id}/',
  'POST /whisperer/hooks/{id}/ping/',
  'POST /whisperer/hooks/{id}/rotate-secret/',
  'GET /whisperer/hook_events/',
  'GET /whisperer/hook_events/replay/',
  'POST /whisperer/hook_events/replay/',
  'GET /whisperer/hook_events/{id}/',
  'GET /whisperer/hook_events/{id}/attempts/',
  'POST /whisperer/hook_events/{id}/retry/',
  'POST /whisperer/hook_events/{id}/resend/',
  'GET /whisperer/event_queues/',
  'POST /whisperer/events/',
  'GET /whisperer/events/{uuid}/routing/',
  'GET /whisperer/event_types/',
  'POST /whisperer/event_types/',
  'DELETE /whisperer/event_types/{type}/',
  'GET /whisperer/tokens/',
  'POST /whisperer/tokens/',
  'DELETE /whisperer/tokens/{id}/',
  'POST /whisperer/portal/sessions/',
  'POST /whisperer/portal/sessions/exchange/',
  'DELETE /whisperer/portal/sessions/{id}/',
  'GET /whisperer/countdowns/',
  'POST /whisperer/countdowns/schedule/',
  'GET /whisperer/stats/',
  'GET /whisperer/me/',
  'GET /whisperer/operational_events/',
]

test('openapi.json is served without authentication, as an OpenAPI 3.1 document', async () => {
  const response = await call('GET', 'openapi.json', { as: null })
  expect(response.status).toBe(200)
  expect(response.headers.get('content-type')).toMatch(/^application\/json/)
  expect(document).toMatchObject({
    openapi: '3.1.0',
    info: { title: 'Whisperer', version: expect.any(String) },
    components: { securitySchemes: { token: { type: 'http', scheme: 'bearer' } } },
  })
  // It declares itself public; everything else needs the token.
  expect(document.paths['/whisperer/openapi.json'].get.security).toEqual([])
  expect(document.security).toEqual([{ token: [] }])
})

test('the document lists every route, each with its responses and path parameters', () => {
  const listed = Object.entries(document.paths).flatMap(([path, operations]) =>
    Object.keys(operations as object).map((method) => `${method.toUpperCase()} ${path}`),
  )
  expect(listed.sort()).toEqual([...routes].sort())
  for (const [path, operations] of Object.entries(document.paths)) {
    const templated = [...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1])
    for (const operation of Object.values(operations as Record<string, Record<string, unknown>>)) {
      expect(operation.summary).toEqual(expect.any(String))
      expect(Object.keys(operation.responses as object).length).toBeGreaterThan(0)
      const parameters = (operation.parameters ?? []) as { in: string; name: string; required?: boolean }[]
      const inPath = parameters.filter((p) => p.in === 'path')
      expect(inPath.map((p) => p.name).sort()).toEqual([...templated].sort())
      for (const parameter of inPath) expect(parameter.required).toBe(true)
    }
  }
  const creating = document.paths['/whisperer/hooks/'].post
  expect(Object.keys(creating.responses)).toEqual(expect.arrayContaining(['201', '400', '401', '409']))
  expect(document.paths['/whisperer/hooks/{id}/'].delete.responses['204']).toBeDefined()
  const filters = document.paths['/whisperer/hook_events/'].get.parameters.map(
    (p: { name: string }) => p.name,
  )
  expect(filters).toEqual(
    expect.arrayContaining([
      'event_type',
      'uuid',
      'response_http_status',
      'delivered',
      'webhook',
      'created_date',
      'created_date__gt',
      'created_date__gte',
      'created_date__lt',
      'created_date__lte',
    ]),
  )
})

test('every $ref of the document resolves to one of its schemas', () => {
  const refs = [...JSON.stringify(document).matchAll(/"\$ref":"([^"]+)"/g)].map((match) => match[1]!)
  expect(refs.length).toBeGreaterThan(20)
  for (const ref of new Set(refs)) {
    expect(ref).toMatch(/^#\/components\/schemas\//)
    expect(document.components.schemas[ref.split('/').at(-1)!], ref).toBeDefined()
  }
  expect(Object.keys(document.components.schemas)).toEqual(
    expect.arrayContaining(['Webhook', 'WebhookCreate', 'WebhookPatch', 'HookEvent', 'Attempt', 'Error']),
  )
  // The request schemas are the library's own, in wire names.
  const create = document.components.schemas.WebhookCreate
  // One of event_type and event_types is required, which the library checks.
  expect(create.required).toEqual(['target_url'])
  expect(create.description).toMatch(/`event_type` or `event_types`/)
  expect(Object.keys(create.properties)).toEqual([
    'event_type',
    'event_types',
    'target_url',
    'secret_key',
    'signature_scheme',
    'is_active',
    'retry_countdown_config',
    'callback',
    'additional_headers',
    'config',
    'filters',
    'fields',
    'send_traceparent',
    'rate_limit',
    'timeout',
    'ordering_on_failure',
  ])
})

test('docs/openapi.json is what the handler serves now (npm run openapi:dump)', async () => {
  const committed = await readFile(openApiFile, 'utf8').catch(() => '')
  expect(committed, 'docs/openapi.json is stale: run `npm run openapi:dump`').toBe(formatOpenApi(document))
})
