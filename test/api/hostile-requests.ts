import fc from 'fast-check'

/**
 * Hostile requests for the REST API: every route, with odd methods, paths, credentials, content
 * types, query strings and bodies. Most are malformed; some are valid, so that state changes too.
 */

/** JSON text written as is: what `JSON.stringify` cannot produce (`1e999`, `-0`, lone surrogate escapes, deep nesting). */
export class RawJson {
  readonly text: string
  constructor(text: string) {
    this.text = text
  }
}

/** A JSON object as a list of members, so that a key may repeat and `__proto__` is an ordinary key. */
export class JsonMembers {
  readonly members: readonly (readonly [string, unknown])[]
  constructor(members: readonly (readonly [string, unknown])[]) {
    this.members = members
  }
}

/** The JSON text of a value that may hold {@link RawJson} and {@link JsonMembers}. */
export function jsonText(value: unknown): string {
  if (value instanceof RawJson) return value.text
  if (value instanceof JsonMembers) {
    return `{${value.members.map(([key, inner]) => `${JSON.stringify(key)}:${jsonText(inner)}`).join(',')}}`
  }
  if (Array.isArray(value)) return `[${value.map(jsonText).join(',')}]`
  if (typeof value === 'object' && value !== null) return jsonText(new JsonMembers(Object.entries(value)))
  return JSON.stringify(value) ?? 'null'
}

/** One request, printed short when fast-check reports it as a counterexample. */
export class HostileRequest {
  readonly method: string
  readonly path: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: string | undefined

  constructor(method: string, path: string, headers: Record<string, string>, body: string | undefined) {
    this.method = method
    this.path = path
    this.headers = headers
    this.body = body
  }

  [fc.toStringMethod](): string {
    const headers = Object.entries(this.headers).map(([name, value]) => `${name}: ${clip(value)}`)
    const body = this.body === undefined ? '(no body)' : clip(this.body)
    return `${this.method} ${clip(this.path)} [${headers.join('; ')}] ${body}`
  }
}

function clip(text: string): string {
  const shown = JSON.stringify(text.length > 300 ? text.slice(0, 300) : text)
  return text.length > 300 ? `${shown}… (${text.length} characters)` : shown
}

/** What exists once the test has seeded its Whisperer: ids of every kind, and a receiver. */
export interface Fixtures {
  /** Webhook ids: the caller's own and another owner's. */
  hooks: readonly number[]
  /** Delivery ids and uuids. */
  deliveries: readonly string[]
  /** API token ids. */
  tokens: readonly string[]
  /** Portal session ids. */
  portalSessions: readonly string[]
  /** Event types declared in code and through the API. */
  eventTypes: readonly string[]
  /** The receiver's URL: a target that answers. */
  targetUrl: string
}

/** A route of the API as the OpenAPI document names it, with the query filters and body fields it knows. */
export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  path: string
  query?: readonly string[]
  /** The body's fields, each with valid values; undefined when the route takes no body. */
  body?: (fixtures: Fixtures) => Record<string, fc.Arbitrary<unknown>>
  /** Whether every body field may be left out (PATCH). */
  partial?: boolean
}

const page = ['limit', 'cursor']

/** A retry countdown: valid ones of each kind, extreme numbers, or a choice and kwargs of any kind. */
function countdownConfig(): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.constantFrom(
      { choice: 'fixed', kwargs: { seconds: 30 } },
      { choice: 'linear', kwargs: { base: 60, limit: 600 } },
      { choice: 'exponential', kwargs: { base: 2, factor: 1 } },
      { choice: 'random', kwargs: { min_value: 1, max_value: 5 } },
    ),
    fc.record({
      choice: fc.oneof(fc.constantFrom('fixed', 'linear', 'exponential', 'random', 'custom'), hostileText()),
      kwargs: fc.dictionary(
        fc.oneof(
          fc.constantFrom('seconds', 'base', 'limit', 'factor', 'min_value', 'max_value'),
          hostileKey(),
        ),
        hostileValue(),
        { maxKeys: 3 },
      ),
    }),
    fc.record({
      choice: fc.constantFrom('fixed', 'linear', 'exponential', 'random'),
      kwargs: fc.dictionary(
        fc.constantFrom('seconds', 'base', 'limit', 'factor', 'min_value', 'max_value'),
        hostileNumber(),
      ),
    }),
  )
}

const rotationFields = (): Record<string, fc.Arbitrary<unknown>> => ({
  secret_key: fc.constantFrom('s3cret', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'whsec_c2hvcnQ=', ''),
  grace_seconds: fc.oneof(fc.constantFrom(0, 60, 86_400, 604_800, 604_801, -1), hostileNumber()),
  signature_scheme: fc.constantFrom('hmac-sha256', 'ed25519', 'rsa'),
})

const webhookFields = (f: Fixtures): Record<string, fc.Arbitrary<unknown>> => ({
  event_type: fc.constantFrom(...f.eventTypes),
  target_url: fc.oneof(
    fc.constant(f.targetUrl),
    fc.nat(999).map((n) => `${f.targetUrl}-${n}`),
  ),
  secret_key: fc.constantFrom(
    null,
    '',
    's3cret',
    '********',
    'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    'whsec_c2hvcnQ=',
    'whsk_AAAA',
  ),
  signature_scheme: fc.constantFrom('hmac-sha256', 'ed25519', 'rsa'),
  is_active: fc.boolean(),
  ordering_on_failure: fc.oneof(fc.constantFrom('skip', 'block', 'SKIP', ''), hostileValue()),
  retry_countdown_config: countdownConfig(),
  callback: fc.constantFrom(null, '', 'audit', 'os.system'),
  additional_headers: fc.oneof(
    fc.constantFrom({}, { 'X-Tenant': 'acme' }),
    fc.dictionary(
      fc.oneof(fc.constantFrom('X-Ok', 'Content-Type', 'webhook-id'), hostileKey()),
      hostileValue(),
      {
        maxKeys: 3,
      },
    ),
  ),
  config: fc.oneof(
    fc.constantFrom(
      {},
      { tenant: 'acme' },
      { auth: { auth_type: 'basic', username: 'user', password: 'pa55' } },
      { auth: { auth_type: 'bearer', token: 'tok' } },
      { auth: { auth_type: 'token', url: `${f.targetUrl}/login`, username: 'u', password: 'p' } },
    ),
    fc.record({
      auth: fc.dictionary(fc.constantFrom('auth_type', 'token', 'url', 'username'), hostileValue()),
    }),
    fc.dictionary(hostileKey(), hostileValue(), { maxKeys: 3 }),
  ),
  filters: fc.oneof(
    fc.constantFrom(
      {},
      { id: 1 },
      { name: { startswith: 'J' } },
      { 'customer.email': { endswith: '@acme.com', any: true } },
      { sku: { like: '^A-' } },
      { sku: { like: '(a+)+$' } },
    ),
    fc.dictionary(
      fc.oneof(fc.constantFrom('id', 'name', 'a.b', 'a..b'), hostileKey()),
      fc.oneof(
        hostileValue(),
        fc.dictionary(
          fc.constantFrom('any', 'is', 'startswith', 'endswith', 'contains', 'like', 'regex'),
          hostileValue(),
          { maxKeys: 2 },
        ),
      ),
      { maxKeys: 3 },
    ),
  ),
  fields: fc.constantFrom(null, ['id'], ['id', 'name'], [], ['id', 'id']),
})

/** Every route of the API, as in its OpenAPI document. */
export const routes: readonly Route[] = [
  { method: 'GET', path: 'openapi.json' },
  { method: 'GET', path: 'hooks/', query: [...page, 'event_type', 'target_url', 'is_active', 'owner'] },
  { method: 'POST', path: 'hooks/', query: ['owner'], body: webhookFields },
  { method: 'GET', path: 'hooks/registry/' },
  { method: 'GET', path: 'hooks/{id}/' },
  { method: 'PUT', path: 'hooks/{id}/', body: webhookFields },
  { method: 'PATCH', path: 'hooks/{id}/', body: webhookFields, partial: true },
  { method: 'DELETE', path: 'hooks/{id}/' },
  { method: 'POST', path: 'hooks/{id}/ping/' },
  { method: 'POST', path: 'hooks/{id}/rotate-secret/', body: rotationFields, partial: true },
  {
    method: 'GET',
    path: 'hook_events/',
    query: [
      ...page,
      'event_type',
      'uuid',
      'response_http_status',
      'delivered',
      'status',
      'webhook',
      'created_date',
      'created_date__gt',
      'created_date__gte',
      'created_date__lt',
      'created_date__lte',
      'owner',
    ],
  },
  {
    method: 'POST',
    path: 'hook_events/replay/',
    body: (f) => ({
      webhook: fc.constantFrom(...f.hooks),
      event_type: fc.constantFrom(...f.eventTypes),
      created_date__gte: fc.constantFrom('2020-01-01T00:00:00Z', '2020-01-01T00:00:00+02:00'),
      created_date__lt: fc.constantFrom('2999-01-01T00:00:00Z'),
      status: fc.subarray(['failed', 'cancelled', 'delivered'], { minLength: 1 }),
      limit: fc.integer({ min: 1, max: 10_000 }),
      owner: fc.constantFrom('alice', 'bob'),
    }),
    partial: true,
  },
  {
    method: 'GET',
    path: 'hook_events/replay/',
    query: ['webhook', 'event_type', 'created_date__gte', 'created_date__lt', 'status', 'owner'],
  },
  { method: 'GET', path: 'hook_events/{id}/' },
  { method: 'GET', path: 'hook_events/{id}/attempts/' },
  {
    method: 'POST',
    path: 'hook_events/{id}/retry/',
    query: ['force'],
    body: () => ({ force: fc.boolean() }),
    partial: true,
  },
  {
    method: 'POST',
    path: 'hook_events/{id}/resend/',
    query: ['async'],
    body: () => ({ async: fc.boolean() }),
    partial: true,
  },
  { method: 'GET', path: 'event_queues/', query: [...page, 'event_type', 'owner'] },
  {
    method: 'POST',
    path: 'events/',
    body: (f) => ({
      event_type: fc.constantFrom(...f.eventTypes),
      data: fc.oneof(fc.constantFrom({ id: 1 }, { id: 2, total: 9.5 }), hostileValue()),
      config_filter: fc.constantFrom({}, { tenant: 'acme' }),
      idempotency_key: fc.oneof(fc.constantFrom('order-1', 'order-2', ''), hostileText()),
      ordering_key: fc.oneof(fc.constantFrom('order:1', 'order:2', '', 'k'.repeat(256)), hostileText()),
    }),
  },
  { method: 'GET', path: 'events/{uuid}/routing/' },
  { method: 'GET', path: 'event_types/' },
  {
    method: 'POST',
    path: 'event_types/',
    body: (f) => ({
      type: fc.oneof(
        fc.constantFrom(...f.eventTypes),
        fc.nat(99).map((n) => `invoice-${n}`),
      ),
      description: fc.constantFrom(null, 'An invoice'),
      json_schema: fc.constantFrom(
        null,
        { type: 'object', required: ['id'] },
        { type: 'nonsense' },
        { $ref: '#/nowhere' },
        { $ref: 'https://example.com/schema.json' },
        { type: 'string', pattern: '(' },
        { type: 'string', format: 'no-such-format' },
        { properties: 5 },
        { $schema: 'https://example.com/meta' },
        { unknownKeyword: true },
      ),
      fields: fc.constantFrom(null, [], ['id'], ['id', 'total']),
    }),
  },
  { method: 'DELETE', path: 'event_types/{type}/' },
  { method: 'GET', path: 'tokens/' },
  {
    method: 'POST',
    path: 'tokens/',
    body: () => ({
      owner: fc.constantFrom('carol', 'alice'),
      scopes: fc.subarray(['subscriber', 'publisher', 'admin'], { minLength: 1 }),
      name: fc.constantFrom('ci', ''),
    }),
  },
  { method: 'DELETE', path: 'tokens/{id}/' },
  {
    method: 'POST',
    path: 'portal/sessions/',
    body: (f) => ({
      owner: fc.constantFrom('carol', 'alice'),
      expires_in_seconds: fc.constantFrom(60, 3600, 86_400),
      event_types: fc.subarray([...f.eventTypes], { minLength: 1 }),
      read_only: fc.boolean(),
    }),
  },
  {
    method: 'POST',
    path: 'portal/sessions/exchange/',
    body: () => ({
      token: fc.constantFrom(`whpl_000000000000_${'A'.repeat(43)}`, 'whpl_', 'wh_x', ''),
    }),
  },
  { method: 'DELETE', path: 'portal/sessions/{id}/' },
  { method: 'GET', path: 'countdowns/' },
  {
    method: 'POST',
    path: 'countdowns/schedule/',
    body: () => ({ retry_countdown_config: countdownConfig() }),
  },
  { method: 'GET', path: 'stats/', query: ['window', 'owner'] },
  { method: 'GET', path: 'operational_events/', query: ['type', 'limit', 'owner'] },
  { method: 'GET', path: 'me/' },
  { method: 'GET', path: 'health/' },
  { method: 'GET', path: 'health/ready/' },
]

/** Strings that break naive code: NUL, lone surrogates, numbers and keywords as text, huge ones. */
export function hostileText(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom(
      '',
      ' ',
      '\u0000',
      'a\u0000b',
      '\ud800',
      'x\udc00y',
      '\ufeff',
      '\u202e',
      '\u2028',
      'é',
      '🎉',
      '0',
      '-1',
      '1e5',
      '0x10',
      'true',
      'null',
      '__proto__',
      'constructor',
      '%00',
      '%zz',
      '../..',
      "' OR 1=1 --",
      '$1',
      '\\',
      '"',
      '********',
    ),
    fc.string({ unit: 'binary', maxLength: 12 }),
    fc.constantFrom(5_000, 70_000).map((n) => 'x'.repeat(n)),
  )
}

/** Object keys that break naive code: prototype keys, empty, NUL, dots. */
export function hostileKey(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom(
      '__proto__',
      'constructor',
      'prototype',
      'toString',
      'hasOwnProperty',
      '',
      '\u0000',
      'a.b',
      '\ud800',
    ),
    fc.string({ maxLength: 6 }),
  )
}

function hostileNumber(): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.constantFrom(0, -1, 1.5, 0.1, 2 ** 31, 2 ** 53 + 2, 1e21, 1e308, -1e308, 5e-324),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc
      .constantFrom('1e999', '-1e999', '-0', '1E400', '1e-400', '123456789012345678901234567890', '0.1e1')
      .map((text) => new RawJson(text)),
  )
}

/** Nesting deeper than any code walking it recursively expects. */
function deepJson(): fc.Arbitrary<RawJson> {
  return fc
    .tuple(fc.constantFrom(100, 1_000, 10_000, 100_000), fc.boolean())
    .map(([depth, arrays]) =>
      arrays
        ? new RawJson(`${'['.repeat(depth)}${']'.repeat(depth)}`)
        : new RawJson(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`),
    )
}

/** Any JSON value of any type: scalars of every kind, lone surrogate escapes, nested arrays and objects. */
export function hostileValue(): fc.Arbitrary<unknown> {
  const scalar = fc.oneof(
    hostileText(),
    hostileNumber(),
    fc.boolean(),
    fc.constant(null),
    fc.constantFrom('"\\ud800"', '"\\udfff\\ud800"', '"\\u0000"').map((text) => new RawJson(text)),
  )
  const { value } = fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', maxDepth: 3 },
      scalar,
      fc.array(tie('value'), { maxLength: 3 }),
      fc.dictionary(hostileKey(), tie('value'), { maxKeys: 3 }),
    ),
  }))
  return fc.oneof({ weight: 6, arbitrary: value }, { weight: 1, arbitrary: deepJson() })
}

type Mutation = { drop: string } | { set: string; value: unknown } | { repeat: string; value: unknown }

/** A valid body with up to three fields dropped, replaced by a value of any type, added or repeated. */
function mutatedBody(
  fields: Record<string, fc.Arbitrary<unknown>>,
  partial: boolean,
): fc.Arbitrary<JsonMembers> {
  const names = Object.keys(fields)
  const base = fc.record(fields, partial ? { requiredKeys: [] } : {})
  const mutation: fc.Arbitrary<Mutation> = fc.oneof(
    fc.record({ drop: fc.constantFrom(...names) }),
    fc.record({ set: fc.constantFrom(...names), value: hostileValue() }),
    fc.record({ set: hostileKey(), value: hostileValue() }),
    fc.record({ repeat: fc.constantFrom(...names), value: hostileValue() }),
  )
  return fc.tuple(base, fc.array(mutation, { maxLength: 3 })).map(([valid, mutations]) => {
    let members: [string, unknown][] = Object.entries(valid)
    for (const change of mutations) {
      if ('drop' in change) members = members.filter(([key]) => key !== change.drop)
      else if ('repeat' in change) members.push([change.repeat, change.value])
      else if (members.some(([key]) => key === change.set)) {
        members = members.map(([key, value]) => [key, key === change.set ? change.value : value])
      } else members.push([change.set, change.value])
    }
    return new JsonMembers(members)
  })
}

/** A body over the default limit of 1 MB. */
const oversized = `{"config":{"padding":"${'x'.repeat(1_100_000)}"}}`

/** Bodies that are not a JSON object: malformed, cut short, other types, a BOM, oversized. */
function malformedBody(valid: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.oneof(
    {
      weight: 4,
      arbitrary: fc.constantFrom(
        '',
        ' ',
        '{',
        '{"event_type":',
        '{"a":1,}',
        "{'a':1}",
        'null',
        'true',
        '1',
        '"text"',
        '[]',
        '[{}]',
        '{}',
        'NaN',
        '\u0000',
        '\ufeff{}',
        '{"a":1} trailing',
        '{"a":"\\x"}',
        '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}',
      ),
    },
    {
      weight: 3,
      arbitrary: valid.chain((text) => fc.nat(Math.max(0, text.length - 1)).map((cut) => text.slice(0, cut))),
    },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
    { weight: 2, arbitrary: hostileValue().map(jsonText) },
    { weight: 1, arbitrary: fc.constant(oversized) },
  )
}

const authorizations = {
  valid: [
    'Token alice-token',
    'Token bob-token',
    'Token admin-token',
    'Bearer admin-token',
    'Token publisher-token',
    'token alice-token',
    'Token <secret-login-token>',
  ],
  odd: [
    '',
    'Token',
    'Token ',
    'Bearer',
    'Token nobody-token',
    'Basic YWxpY2U6cHc=',
    'Token alice-token extra',
    'Token alice-token, Token bob-token',
    'Tokenalice-token',
    'Token\talice-token',
    'Digest alice-token',
    `Token ${'a'.repeat(8192)}`,
    'Token \u00e9-token',
    'Token -token',
    'Token __proto__-token',
    'Token constructor-token',
    'Token hasOwnProperty-token',
  ],
}

function authorization(): fc.Arbitrary<string | null> {
  return fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...authorizations.valid) },
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 2, arbitrary: fc.constantFrom(...authorizations.odd) },
  )
}

function contentType(): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 8, arbitrary: fc.constant('application/json') },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        '',
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/json; charset=utf-16',
        'APPLICATION/JSON',
        'application/merge-patch+json',
        'application/jsonx',
        'application/xml',
        'json',
        '*/*',
      ),
    },
  )
}

/** Methods of every kind: the API's, ones it does not serve, a lowercase one, unknown ones. */
const methods = ['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH', 'DELETE', 'patch', 'PROPFIND', 'FOO']

const oddIds = [
  '0',
  '-1',
  '1.5',
  '1e5',
  '1e400',
  '0x10',
  '0b1',
  '+1',
  ' 1',
  '01',
  'NaN',
  'Infinity',
  '-0',
  '9007199254740993',
  '99999999999999999999',
  '9'.repeat(400),
  'a'.repeat(5000),
  '%00',
  '%zz',
  '%',
  '%2F',
  '%2e%2e',
  '..',
  '.',
  'é',
  '１',
  '🎉',
  'null',
  '[1]',
  '1?x=1',
  '1#x',
  "1'",
  '00000000-0000-0000-0000-000000000000',
  'ffffffffffffffffffffffffffffffff',
  'zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz',
  'order-created',
  '__proto__',
]

/** A path parameter: an id that exists (the caller's or another owner's), or an odd one. */
function parameter(path: string, name: string, f: Fixtures): fc.Arbitrary<string> {
  const known = path.startsWith('hook_events/')
    ? f.deliveries
    : path.startsWith('tokens/')
      ? f.tokens
      : path.startsWith('portal/')
        ? f.portalSessions
        : name === 'type'
          ? f.eventTypes
          : f.hooks.map(String)
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...known) },
    { weight: 3, arbitrary: fc.constantFrom(...oddIds) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
  )
}

/** Odd shapes of a path: no trailing slash, doubled or dot segments, capitals, a percent-encoded letter. */
function pathShape(): fc.Arbitrary<(path: string) => string> {
  const shapes: ((path: string) => string)[] = [
    (path) => path.replace(/\/$/, ''),
    (path) => path.replace('/', '//'),
    (path) => `./${path}`,
    (path) => `x/../${path}`,
    (path) => `../${path}`,
    (path) => path.toUpperCase(),
    (path) => path.replace(/[a-z]/, (letter) => `%${letter.charCodeAt(0).toString(16)}`),
    (path) => `${path}extra/`,
    (path) => `/${path}`,
    (path) => `${path}%00`,
  ]
  return fc.oneof(
    { weight: 6, arbitrary: fc.constant((path: string) => path) },
    { weight: 2, arbitrary: fc.constantFrom(...shapes) },
  )
}

const queryValues = [
  'true',
  'false',
  'True',
  '1',
  '0',
  'yes',
  '',
  '2024-01-01',
  '2024-01-01T00:00:00Z',
  '2024-02-30',
  '2024-13-45',
  '0000-01-01',
  '99999-01-01',
  '2024-01-01T25:61:00Z',
  'now',
  '-1',
  '1.5',
  '1e3',
  '0x10',
  'NaN',
  'Infinity',
  '99999999999999999999',
  'order-created',
  'pending',
  'failed',
  'failed,cancelled',
  'delivered,bogus',
  '1h',
  '24h',
  'bogus',
  'bob',
  '%00',
  '%zz',
  '%',
  'a%00b',
  '%ED%A0%80',
]

/** Percent-encoded as UTF-8; a lone surrogate becomes U+FFFD (`%ED%A0%80` is among the raw values). */
function encoded(text: string): string {
  return encodeURIComponent(text.replace(/\p{Cs}/gu, '\ufffd'))
}

/** A query string: known filters and unknown keys, valid and bad values, repeated parameters. */
function queryString(route: Route, f: Fixtures): fc.Arbitrary<string> {
  const keys = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...(route.query ?? ['owner']), 'limit') },
    { weight: 1, arbitrary: hostileKey() },
  )
  const value = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...queryValues, ...f.deliveries, ...f.hooks.map(String)) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 10 }).map(encoded) },
    {
      weight: 1,
      arbitrary: hostileText().map((text) => (text.length > 100 ? text : encoded(text))),
    },
  )
  const pair = fc.tuple(keys, value).map(([key, text]) => `${encoded(key)}=${text}`)
  return fc
    .array(pair, { maxLength: 4 })
    .chain((pairs) =>
      fc
        .subarray(pairs)
        .map((repeated) => (pairs.length === 0 ? '' : `?${[...pairs, ...repeated].join('&')}`)),
    )
}

/** A body for a route: a mutated valid one, or one that is not a JSON object at all. */
function body(route: Route, f: Fixtures): fc.Arbitrary<string | undefined> {
  const fields = route.body?.(f)
  const valid = fields
    ? mutatedBody(fields, route.partial ?? false).map(jsonText)
    : hostileValue().map(jsonText)
  const some = fields
    ? fc.oneof({ weight: 5, arbitrary: valid }, { weight: 3, arbitrary: malformedBody(valid) })
    : malformedBody(valid)
  return fc.oneof(
    { weight: fields ? 8 : 1, arbitrary: some },
    { weight: 1, arbitrary: fc.constant(undefined) },
  )
}

/**
 * One request for each refusal a route must give, whatever the random ones happen to try: no
 * credentials, a route that does not exist, a body that is not JSON, not JSON at all or not valid,
 * a bad filter, an id that cannot exist.
 */
export function refusals(route: Route, f: Fixtures): HostileRequest[] {
  const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) =>
    name === 'type' ? f.eventTypes[0]! : '1',
  )
  const admin = { authorization: 'Token admin-token' }
  const json = { ...admin, 'content-type': 'application/json' }
  const requests = [
    new HostileRequest(route.method, path, {}, undefined),
    new HostileRequest(route.method, `${path}nothing/`, admin, undefined),
  ]
  if (route.body) {
    requests.push(
      new HostileRequest(route.method, path, json, '{"a":'),
      new HostileRequest(route.method, path, { ...admin, 'content-type': 'text/plain' }, '{}'),
      new HostileRequest(route.method, path, json, '[]'),
    )
  }
  if (route.query) requests.push(new HostileRequest(route.method, `${path}?limit=0`, admin, undefined))
  if (path !== route.path) {
    requests.push(new HostileRequest(route.method, route.path.replace(/\{(\w+)\}/g, '0'), admin, undefined))
  }
  return requests
}

/** Requests to `route`: its method, or sometimes another; its path with odd parameters and shapes. */
export function hostileRequest(route: Route, f: Fixtures): fc.Arbitrary<HostileRequest> {
  const names = [...route.path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]!)
  const params = fc.tuple(...names.map((name) => parameter(route.path, name, f)))
  const method = fc.oneof(
    { weight: 12, arbitrary: fc.constant(route.method) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(...methods),
    },
  )
  return fc
    .record({
      method,
      params,
      shape: pathShape(),
      query: fc.oneof(
        { weight: route.query ? 3 : 1, arbitrary: queryString(route, f) },
        { weight: 2, arbitrary: fc.constant('') },
      ),
      authorization: authorization(),
      contentType: contentType(),
      body: body(route, f),
    })
    .map(({ method, params, shape, query, authorization, contentType, body }) => {
      let path = route.path
      for (const [index, name] of names.entries()) path = path.replace(`{${name}}`, params[index]!)
      const headers: Record<string, string> = {}
      if (authorization !== null) headers.authorization = authorization
      const sent = method === 'GET' || method === 'HEAD' ? undefined : body
      if (sent !== undefined) headers['content-type'] = contentType
      return new HostileRequest(method, `${shape(path)}${query}`, headers, sent)
    })
}

/** Requests anywhere: any method, any path, with or without credentials and a body. */
export function strayRequest(): fc.Arbitrary<HostileRequest> {
  const path = fc.oneof(
    fc.constantFrom(
      '',
      '/',
      '..',
      '../../etc/passwd',
      'hooks/1/2/3/',
      'hook_events/x/y/',
      '%',
      '%zz/',
      'a'.repeat(5000),
    ),
    fc.webPath({ size: 'small' }).map((path) => path.replace(/^\//, '')),
    fc.string({ unit: 'binary', maxLength: 30 }),
  )
  const method = fc.constantFrom(...methods)
  return fc
    .record({
      method,
      path,
      authorization: authorization(),
      contentType: contentType(),
      body: malformedBody(hostileValue().map(jsonText)),
    })
    .map(({ method, path, authorization, contentType, body }) => {
      const headers: Record<string, string> = authorization === null ? {} : { authorization }
      const sent = method === 'GET' || method === 'HEAD' ? undefined : body
      if (sent !== undefined) headers['content-type'] = contentType
      return new HostileRequest(method, path, headers, sent)
    })
}
