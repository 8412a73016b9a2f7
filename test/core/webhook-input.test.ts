import { describe, expect, test } from 'vitest'
import { type AddressPolicy, compileAddressPolicy } from '../../src/core/address-policy.ts'
import { type FieldIssue, WhispererError } from '../../src/core/errors.ts'
import { CountdownRegistry } from '../../src/core/retry-countdown.ts'
import { generateSecret } from '../../src/core/signing-keys.ts'
import {
  parseRotation,
  parseWebhookInput,
  type WebhookValidationContext,
} from '../../src/core/webhook-input.ts'

const registered = ['package-created', 'order-created', 'order.paid', 'order.refunded', 'whisperer.ping']

function context(policy: Partial<AddressPolicy> = {}): WebhookValidationContext {
  return {
    hasEventType: (type) => registered.includes(type),
    eventTypeNames: () => registered,
    hasCallback: (name) => name === 'audit',
    countdowns: new CountdownRegistry(),
    addressPolicy: compileAddressPolicy({ allowPrivateTargets: false, allowedTargets: [], ...policy }),
  }
}

const valid = { eventType: 'package-created', targetUrl: 'https://receiver.example.com/hooks' }

function create(input: unknown) {
  return parseWebhookInput(input, context())
}

function update(input: unknown) {
  return parseWebhookInput(input, context(), { partial: true })
}

function errorOf(fn: () => unknown): WhispererError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(WhispererError)
    expect((error as WhispererError).code).toBe('validation_error')
    expect((error as WhispererError).status).toBe(400)
    return error as WhispererError
  }
  throw new Error('expected a validation error')
}

const whsecOf = (bytes: number) => `whsec_${Buffer.alloc(bytes, 7).toString('base64')}`
const issuesOf = (fn: () => unknown): readonly FieldIssue[] => errorOf(fn).issues
const pathsOf = (fn: () => unknown) => issuesOf(fn).map((issue) => issue.path)

describe('create', () => {
  test('applies every default, and leaves the secret out (generated on create, kept on replace)', () => {
    const parsed = create(valid)
    expect(parsed).not.toHaveProperty('secretKey')
    expect(parsed).not.toHaveProperty('signatureScheme')
    expect(parsed).toEqual({
      eventTypes: ['package-created'],
      targetUrl: 'https://receiver.example.com/hooks',
      isActive: true,
      retryCountdownConfig: { choice: 'exponential', kwargs: { base: 2, factor: 1 } },
      callback: null,
      additionalHeaders: {},
      config: {},
      filters: {},
      fields: null,
      sendTraceparent: false,
      rateLimit: null,
      timeout: null,
      orderingOnFailure: 'skip',
    })
  })

  test('keeps the fields it is given', () => {
    expect(
      create({
        ...valid,
        secretKey: 's3cr3t',
        isActive: false,
        retryCountdownConfig: { choice: 'linear', kwargs: { base: 60, limit: 600 } },
        callback: 'audit',
        additionalHeaders: { 'X-Tenant': 'acme' },
        config: { tenant: 'acme', auth: { auth_type: 'bearer', token: 't' } },
        sendTraceparent: true,
        rateLimit: 'auto',
        timeout: 2.5,
        orderingOnFailure: 'block',
      }),
    ).toEqual({
      eventTypes: ['package-created'],
      targetUrl: valid.targetUrl,
      secretKey: 's3cr3t',
      isActive: false,
      retryCountdownConfig: { choice: 'linear', kwargs: { base: 60, limit: 600 } },
      callback: 'audit',
      additionalHeaders: { 'X-Tenant': 'acme' },
      config: { tenant: 'acme', auth: { auth_type: 'bearer', token: 't' } },
      filters: {},
      fields: null,
      sendTraceparent: true,
      rateLimit: 'auto',
      timeout: 2.5,
      orderingOnFailure: 'block',
    })
  })

  test('event types: either spelling, types and patterns, each entry checked and named', () => {
    const url = { targetUrl: valid.targetUrl }
    expect(create({ ...url, eventTypes: ['order.*', 'package-created'] }).eventTypes).toEqual([
      'order.*',
      'package-created',
    ])
    expect(create({ ...url, eventType: 'order.paid', eventTypes: ['order.paid', '*'] }).eventTypes).toEqual([
      'order.paid',
      '*',
    ])
    // Operational types only by name, or by a pattern naming their namespace.
    expect(create({ ...url, eventTypes: ['whisperer.ping'] }).eventTypes).toEqual(['whisperer.ping'])
    expect(create({ ...url, eventTypes: ['whisperer.*'] }).eventTypes).toEqual(['whisperer.*'])
    expect(
      issuesOf(() =>
        create({ ...url, eventTypes: ['order.*', 'nope', 'invoice.*', 'order*', 'order.paid'] }),
      ),
    ).toEqual([
      { path: 'eventTypes.1', message: '"nope" is not a valid choice.' },
      { path: 'eventTypes.2', message: '"invoice.*" matches no registered event type.' },
      { path: 'eventTypes.3', message: '"order*" is not a valid choice.' },
    ])
    expect(issuesOf(() => create({ ...url, eventTypes: ['order.paid', ''] }))).toEqual([
      { path: 'eventTypes.1', message: 'This field may not be blank.' },
    ])
    expect(issuesOf(() => create({ ...url, eventTypes: [] }))).toEqual([
      { path: 'eventTypes', message: 'Name at least one event type.' },
    ])
    expect(pathsOf(() => create({ ...url, eventTypes: ['order.paid', 'order.paid'] }))).toEqual([
      'eventTypes',
    ])
    const many = Array.from({ length: 101 }, () => 'order.paid')
    expect(issuesOf(() => create({ ...url, eventTypes: many }))[0]).toEqual({
      path: 'eventTypes',
      message: 'At most 100 event types are allowed.',
    })
    expect(issuesOf(() => create({ ...url, eventType: 'order.paid', eventTypes: ['order.*'] }))).toEqual([
      { path: 'eventType', message: 'Must be the first entry of event_types, or be left out.' },
    ])
    // On update, the one-type spelling replaces the list.
    expect(update({ eventType: 'order.paid' })).toEqual({ eventTypes: ['order.paid'] })
  })

  test('filters and fields are checked against every type the entries match', () => {
    const exposing: WebhookValidationContext = {
      ...context(),
      fieldsOf: (type) =>
        type === 'order.paid' ? ['id', 'amount'] : type === 'order.refunded' ? ['id'] : null,
    }
    const url = { targetUrl: valid.targetUrl }
    expect(
      parseWebhookInput({ ...url, eventTypes: ['order.*'], filters: { amount: 5 }, fields: ['id'] }, exposing)
        .filters,
    ).toEqual({ amount: 5 })
    expect(
      issuesOf(() => parseWebhookInput({ ...url, eventTypes: ['order.*'], fields: ['total'] }, exposing)),
    ).toEqual([{ path: 'fields', message: '"total" is not a field of any of its event types.' }])
    expect(
      issuesOf(() =>
        parseWebhookInput({ ...url, eventTypes: ['order.refunded'], fields: ['amount'] }, exposing),
      ),
    ).toEqual([{ path: 'fields', message: '"amount" is not a field of event type "order.refunded".' }])
  })

  test('rateLimit is a positive number of requests per second, "auto" or null; timeout 1 to 60 s', () => {
    expect(create({ ...valid, rateLimit: 0.5, timeout: 60 })).toMatchObject({ rateLimit: 0.5, timeout: 60 })
    expect(create({ ...valid, rateLimit: null, timeout: null })).toMatchObject({
      rateLimit: null,
      timeout: null,
    })
    expect(issuesOf(() => create({ ...valid, rateLimit: 0, timeout: 0.9 }))).toEqual([
      { path: 'rateLimit', message: 'Must be at least 0.1 requests per second, or "auto", or null.' },
      { path: 'timeout', message: 'Must be at least 1 second.' },
    ])
    expect(pathsOf(() => create({ ...valid, rateLimit: 'fast' }))).toEqual(['rateLimit'])
    expect(pathsOf(() => create({ ...valid, rateLimit: 10_001 }))).toEqual(['rateLimit'])
    expect(pathsOf(() => create({ ...valid, timeout: 61 }))).toEqual(['timeout'])
  })

  test('eventType and targetUrl are required', () => {
    expect(issuesOf(() => create({}))).toEqual([
      { path: 'eventType', message: 'This field is required.' },
      { path: 'targetUrl', message: 'This field is required.' },
    ])
  })

  test.each([null, 'text', 42, []])('refuses the non-object %j', (input) => {
    errorOf(() => create(input))
  })

  test('blank eventType and targetUrl are refused', () => {
    expect(pathsOf(() => create({ eventType: '', targetUrl: '' }))).toEqual(['eventType', 'targetUrl'])
  })

  test('the error message names every failing field', () => {
    const error = errorOf(() => create({}))
    expect(error.message).toContain('eventType')
    expect(error.message).toContain('targetUrl')
  })
})

describe('update', () => {
  test('accepts an empty change', () => {
    expect(update({})).toEqual({})
  })

  test('returns only the fields given, without defaults', () => {
    expect(update({ isActive: false })).toEqual({ isActive: false })
  })

  test('still checks the fields given', () => {
    expect(issuesOf(() => update({ eventType: 'nope' }))).toEqual([
      { path: 'eventType', message: '"nope" is not a valid choice.' },
    ])
    expect(pathsOf(() => update({ targetUrl: 'http://127.0.0.1/' }))).toEqual(['targetUrl'])
  })

  test('a blank secretKey becomes null', () => {
    expect(update({ secretKey: '' })).toEqual({ secretKey: null })
  })

  test('normalizes a countdown', () => {
    expect(update({ retryCountdownConfig: { choice: 'exponential', kwargs: { base: 3, x: 1 } } })).toEqual({
      retryCountdownConfig: { choice: 'exponential', kwargs: { base: 3, factor: 1 } },
    })
  })
})

describe('eventType', () => {
  test('must be registered', () => {
    expect(issuesOf(() => create({ ...valid, eventType: 'x' }))).toEqual([
      { path: 'eventType', message: '"x" is not a valid choice.' },
    ])
  })

  test('at most 124 characters', () => {
    expect(pathsOf(() => create({ ...valid, eventType: 'x'.repeat(125) }))).toEqual(['eventType'])
  })
})

describe('targetUrl', () => {
  test.each([
    ['a non-http scheme', 'ftp://example.com/'],
    ['credentials', 'https://user:pass@example.com/'],
    ['an invalid URL', 'not a url'],
    ['a loopback address', 'http://127.0.0.1:8080/'],
    ['localhost', 'http://localhost/'],
    ['the metadata address', 'http://169.254.169.254/'],
    ['an IPv4-mapped loopback', 'http://[::ffff:127.0.0.1]/'],
    ['more than 2048 characters', `https://example.com/${'a'.repeat(2048)}`],
  ])('refuses %s', (_label, targetUrl) => {
    const issues = issuesOf(() => create({ ...valid, targetUrl }))
    expect(issues.map((issue) => issue.path)).toEqual(['targetUrl'])
  })

  test('follows the address policy', () => {
    const open = parseWebhookInput(
      { ...valid, targetUrl: 'http://127.0.0.1:9000/' },
      context({ allowPrivateTargets: true }),
    )
    expect(open.targetUrl).toBe('http://127.0.0.1:9000/')
    const listed = parseWebhookInput(
      { ...valid, targetUrl: 'http://10.1.2.3/' },
      context({ allowedTargets: ['10.0.0.0/8'] }),
    )
    expect(listed.targetUrl).toBe('http://10.1.2.3/')
  })
})

describe('secretKey', () => {
  test.each([
    ['blank', ''],
    ['null', null],
  ])('a %s secretKey becomes null', (_label, secretKey) => {
    expect(create({ ...valid, secretKey }).secretKey).toBeNull()
  })

  test('must be a string', () => {
    expect(pathsOf(() => create({ ...valid, secretKey: 42 }))).toEqual(['secretKey'])
  })

  test('a plain secret is kept as given', () => {
    expect(create({ ...valid, secretKey: 'clé-秘密' }).secretKey).toBe('clé-秘密')
  })

  test('a whsec_ secret of 24 to 64 bytes is kept as given', () => {
    for (const bytes of [24, 32, 64]) {
      const secretKey = whsecOf(bytes)
      expect(create({ ...valid, secretKey }).secretKey).toBe(secretKey)
    }
  })

  test('a whsec_ secret not in base64 is refused', () => {
    const issues = issuesOf(() => create({ ...valid, secretKey: 'whsec_not base64!' }))
    expect(issues.map((issue) => issue.path)).toEqual(['secretKey'])
    expect(issues[0]?.message).toContain('base64')
  })

  test('a whsec_ secret of too few bytes is refused', () => {
    const issues = issuesOf(() => create({ ...valid, secretKey: whsecOf(16) }))
    expect(issues.map((issue) => issue.path)).toEqual(['secretKey'])
    expect(issues[0]?.message).toContain('at least 24')
  })

  test('a whsec_ secret of too many bytes is refused', () => {
    const issues = issuesOf(() => create({ ...valid, secretKey: whsecOf(65) }))
    expect(issues.map((issue) => issue.path)).toEqual(['secretKey'])
    expect(issues[0]?.message).toContain('at most 64')
  })

  test('is refused on update too', () => {
    expect(pathsOf(() => update({ secretKey: whsecOf(16) }))).toEqual(['secretKey'])
  })
})

describe('signatureScheme', () => {
  test.each(['rsa', 'HMAC-SHA256', 'v1a', 42, null])('refuses %j', (signatureScheme) => {
    expect(pathsOf(() => create({ ...valid, signatureScheme }))).toEqual(['signatureScheme'])
  })

  test('hmac-sha256 is kept', () => {
    expect(create({ ...valid, signatureScheme: 'hmac-sha256' }).signatureScheme).toBe('hmac-sha256')
  })

  test('ed25519 with a whsk_ secret is accepted', () => {
    const { secret } = generateSecret('ed25519')
    expect(create({ ...valid, secretKey: secret, signatureScheme: 'ed25519' })).toMatchObject({
      secretKey: secret,
      signatureScheme: 'ed25519',
    })
  })

  test('ed25519 with its key left out is accepted (one is generated on create)', () => {
    const parsed = create({ ...valid, signatureScheme: 'ed25519' })
    expect(parsed.signatureScheme).toBe('ed25519')
    expect(parsed).not.toHaveProperty('secretKey')
  })

  test.each([
    ['a whsec_ secret', whsecOf(32)],
    ['a plain secret', 'my-secret'],
    ['a whsk_ key of 16 bytes', `whsk_${Buffer.alloc(16, 1).toString('base64')}`],
  ])('ed25519 with %s is refused, naming secretKey', (_label, secretKey) => {
    expect(pathsOf(() => create({ ...valid, secretKey, signatureScheme: 'ed25519' }))).toEqual(['secretKey'])
  })

  test("the secret is checked against the stored webhook's scheme when the input leaves it out", () => {
    const stored = {
      eventTypes: ['package-created'],
      filters: {},
      fields: null,
      signatureScheme: 'ed25519' as const,
    }
    expect(
      pathsOf(() =>
        parseWebhookInput({ secretKey: whsecOf(32) }, context(), { partial: true, current: stored }),
      ),
    ).toEqual(['secretKey'])
    expect(
      pathsOf(() =>
        parseWebhookInput({ ...valid, secretKey: whsecOf(32) }, context(), { signatureScheme: 'ed25519' }),
      ),
    ).toEqual(['secretKey'])
    const { secret } = generateSecret('ed25519')
    expect(
      parseWebhookInput({ secretKey: secret }, context(), { partial: true, current: stored }).secretKey,
    ).toBe(secret)
  })
})

describe('parseRotation', () => {
  test('a secret PostgreSQL could not store is refused, naming it', () => {
    expect(pathsOf(() => parseRotation({ secretKey: '\ud800' }, 'hmac-sha256'))).toEqual(['secretKey'])
  })

  test('defaults: a generated secret, 86400 seconds of grace, the current scheme', () => {
    expect(parseRotation({}, 'hmac-sha256')).toEqual({
      secretKey: undefined,
      graceSeconds: 86_400,
      signatureScheme: 'hmac-sha256',
    })
    expect(parseRotation(undefined, 'ed25519')).toEqual({
      secretKey: undefined,
      graceSeconds: 86_400,
      signatureScheme: 'ed25519',
    })
    expect(parseRotation(null, null).signatureScheme).toBe('hmac-sha256')
  })

  test.each([0, 1, 604_800])('graceSeconds %i is accepted', (graceSeconds) => {
    expect(parseRotation({ graceSeconds }, 'hmac-sha256').graceSeconds).toBe(graceSeconds)
  })

  test.each([-1, 604_801, 1.5, '60', null])(
    'graceSeconds %j is refused, naming graceSeconds',
    (graceSeconds) => {
      expect(pathsOf(() => parseRotation({ graceSeconds }, 'hmac-sha256'))).toEqual(['graceSeconds'])
    },
  )

  test('an unknown signatureScheme is refused, naming signatureScheme', () => {
    expect(pathsOf(() => parseRotation({ signatureScheme: 'rsa' }, 'hmac-sha256'))).toEqual([
      'signatureScheme',
    ])
  })

  test('a whsec_ secret for an ed25519 webhook is refused, naming secretKey', () => {
    const issues = issuesOf(() => parseRotation({ secretKey: whsecOf(32) }, 'ed25519'))
    expect(issues.map((issue) => issue.path)).toEqual(['secretKey'])
    expect(issues[0]?.message).toContain('whsk_')
  })

  test('a malformed whsec_ secret is refused, naming secretKey', () => {
    expect(pathsOf(() => parseRotation({ secretKey: whsecOf(23) }, 'hmac-sha256'))).toEqual(['secretKey'])
    expect(pathsOf(() => parseRotation({ secretKey: '' }, 'hmac-sha256'))).toEqual(['secretKey'])
  })

  test('a given secret is kept, checked against the scheme the rotation switches to', () => {
    const { secret } = generateSecret('ed25519')
    expect(
      parseRotation({ secretKey: secret, signatureScheme: 'ed25519', graceSeconds: 0 }, 'hmac-sha256'),
    ).toEqual({ secretKey: secret, graceSeconds: 0, signatureScheme: 'ed25519' })
    const whsec = whsecOf(32)
    expect(parseRotation({ secretKey: whsec, signatureScheme: 'hmac-sha256' }, 'ed25519')).toEqual({
      secretKey: whsec,
      graceSeconds: 86_400,
      signatureScheme: 'hmac-sha256',
    })
    expect(
      pathsOf(() => parseRotation({ secretKey: whsecOf(32), signatureScheme: 'ed25519' }, 'hmac-sha256')),
    ).toEqual(['secretKey'])
  })

  test('every failing field is named at once', () => {
    expect(
      pathsOf(() => parseRotation({ graceSeconds: -1, signatureScheme: 'rsa', secretKey: 5 }, null)).sort(),
    ).toEqual(['graceSeconds', 'secretKey', 'signatureScheme'])
  })
})

describe('isActive', () => {
  test('must be a boolean', () => {
    expect(pathsOf(() => create({ ...valid, isActive: 'yes' }))).toEqual(['isActive'])
  })

  test('a value of the wrong type is not reported as missing', () => {
    const [issue] = issuesOf(() => create({ ...valid, isActive: 'yes' }))
    expect(issue?.message).not.toBe('This field is required.')
  })
})

describe('callback', () => {
  test('must be registered', () => {
    const issues = issuesOf(() => create({ ...valid, callback: 'os.system' }))
    expect(issues.map((issue) => issue.path)).toEqual(['callback'])
    expect(issues[0]?.message).toContain('os.system')
  })

  test('a registered callback is kept', () => {
    expect(create({ ...valid, callback: 'audit' }).callback).toBe('audit')
  })

  test.each([
    ['blank', ''],
    ['null', null],
  ])('a %s callback becomes null', (_label, callback) => {
    expect(create({ ...valid, callback }).callback).toBeNull()
  })
})

describe('retryCountdownConfig', () => {
  test('an unknown choice is refused', () => {
    expect(issuesOf(() => create({ ...valid, retryCountdownConfig: { choice: 'x', kwargs: {} } }))).toEqual([
      { path: 'retryCountdownConfig.choice', message: '"x" is not a valid choice.' },
    ])
  })

  test('kwargs issues are nested under retryCountdownConfig.kwargs', () => {
    expect(
      issuesOf(() =>
        create({ ...valid, retryCountdownConfig: { choice: 'exponential', kwargs: { base: -1 } } }),
      ).map((issue) => issue.path),
    ).toEqual(['retryCountdownConfig.kwargs.base'])
  })

  test('a missing kwarg is required', () => {
    expect(
      issuesOf(() => create({ ...valid, retryCountdownConfig: { choice: 'fixed', kwargs: {} } })),
    ).toEqual([{ path: 'retryCountdownConfig.kwargs.seconds', message: 'This field is required.' }])
  })

  test('omitted kwargs are checked as empty', () => {
    expect(pathsOf(() => create({ ...valid, retryCountdownConfig: { choice: 'linear' } }))).toEqual([
      'retryCountdownConfig.kwargs.base',
    ])
  })

  test('kwargs must be an object', () => {
    expect(
      pathsOf(() => create({ ...valid, retryCountdownConfig: { choice: 'linear', kwargs: 5 } })),
    ).toEqual(['retryCountdownConfig.kwargs'])
  })

  test('a missing choice is refused', () => {
    expect(pathsOf(() => create({ ...valid, retryCountdownConfig: { kwargs: {} } }))).toEqual([
      'retryCountdownConfig.choice',
    ])
  })

  test('random needs max above min', () => {
    const issues = issuesOf(() =>
      create({
        ...valid,
        retryCountdownConfig: { choice: 'random', kwargs: { min_value: 9, max_value: 9 } },
      }),
    )
    expect(issues).toHaveLength(1)
    expect(issues[0]?.path).toMatch(/^retryCountdownConfig\.kwargs/)
    expect(issues[0]?.message).toBe("'max_value' must be greater than 'min_value'.")
  })

  test('is stored normalized', () => {
    expect(
      create({
        ...valid,
        retryCountdownConfig: { choice: 'exponential', kwargs: { base: 0, unknown: true } },
      }).retryCountdownConfig,
    ).toEqual({ choice: 'exponential', kwargs: { base: 0, factor: 1 } })
  })
})

describe('additionalHeaders', () => {
  test.each([
    'Content-Type',
    'content-length',
    'Host',
    'X-Whisperer-Signature',
    'x-whisperer-event',
    'WEBHOOK-ID',
    'Webhook-Timestamp',
    'webhook-signature',
  ])('refuses the reserved name %s', (name) => {
    const issues = issuesOf(() => create({ ...valid, additionalHeaders: { [name]: 'x' } }))
    expect(issues.map((issue) => issue.path)).toEqual([`additionalHeaders.${name}`])
    expect(issues[0]?.message).toContain(name)
  })

  test.each([
    ['CRLF', 'a\r\nX-Injected: 1'],
    ['LF', 'a\nb'],
    ['CR', 'a\rb'],
    ['NUL', 'a\0b'],
  ])('refuses a value with %s', (_label, value) => {
    expect(pathsOf(() => create({ ...valid, additionalHeaders: { 'X-Note': value } }))).toEqual([
      'additionalHeaders.X-Note',
    ])
  })

  test.each(['Bad Name', 'X-Ümlaut', 'X:Colon'])('refuses the header name %j', (name) => {
    expect(pathsOf(() => create({ ...valid, additionalHeaders: { [name]: 'x' } }))).toEqual([
      `additionalHeaders.${name}`,
    ])
  })

  test('refuses an empty header name', () => {
    const paths = pathsOf(() => create({ ...valid, additionalHeaders: { '': 'x' } }))
    expect(paths).toHaveLength(1)
    expect(paths[0]).toMatch(/^additionalHeaders/)
  })

  test('refuses a non-string value', () => {
    expect(pathsOf(() => create({ ...valid, additionalHeaders: { 'X-N': 5 } }))).toEqual([
      'additionalHeaders.X-N',
    ])
  })

  test('refuses more than 50 headers', () => {
    const many = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`X-H${i}`, 'v']))
    expect(pathsOf(() => create({ ...valid, additionalHeaders: many }))).toEqual(['additionalHeaders'])
  })

  test('accepts ordinary headers', () => {
    const headers = { 'X-Tenant': 'acme', 'User-Agent': 'custom', Authorization: 'Token t' }
    expect(create({ ...valid, additionalHeaders: headers }).additionalHeaders).toEqual(headers)
  })
})

describe('config.auth', () => {
  const withAuth = (auth: unknown) => ({ ...valid, config: { auth } })

  test.each([
    [{ auth_type: 'basic', username: 'u', password: 'p' }],
    [{ auth_type: 'bearer', token: 't' }],
    [{ auth_type: 'token', url: 'https://auth.example.com/login', username: 'u', password: 'p' }],
    [
      {
        auth_type: 'token',
        url: 'https://auth.example.com/login',
        username: 'u',
        password: 'p',
        username_field: 'email',
        password_field: 'pass',
        token_key: 'access',
        header_format: 'JWT {}',
      },
    ],
  ])('accepts %o', (auth) => {
    expect(create(withAuth(auth)).config).toEqual({ auth })
  })

  test('null auth and a config without auth are accepted', () => {
    expect(create(withAuth(null)).config).toEqual({ auth: null })
    expect(create({ ...valid, config: { tenant: 'acme' } }).config).toEqual({ tenant: 'acme' })
  })

  test('basic needs username and password', () => {
    expect(issuesOf(() => create(withAuth({ auth_type: 'basic' })))).toEqual([
      { path: 'config.auth.username', message: 'This field is required.' },
      { path: 'config.auth.password', message: 'This field is required.' },
    ])
  })

  test('bearer needs a token', () => {
    expect(pathsOf(() => create(withAuth({ auth_type: 'bearer' })))).toEqual(['config.auth.token'])
    expect(pathsOf(() => create(withAuth({ auth_type: 'bearer', token: '' })))).toEqual(['config.auth.token'])
  })

  test('token needs url, username and password', () => {
    expect(pathsOf(() => create(withAuth({ auth_type: 'token' }))).sort()).toEqual([
      'config.auth.password',
      'config.auth.url',
      'config.auth.username',
    ])
  })

  test('token header_format must hold {}', () => {
    expect(
      pathsOf(() =>
        create(
          withAuth({
            auth_type: 'token',
            url: 'https://auth.example.com/login',
            username: 'u',
            password: 'p',
            header_format: 'Token',
          }),
        ),
      ),
    ).toEqual(['config.auth.header_format'])
  })

  test.each([
    ['a private url', 'http://127.0.0.1/login'],
    ['the metadata url', 'http://169.254.169.254/latest'],
    ['a non-http url', 'ftp://auth.example.com/'],
    ['a url with credentials', 'https://a:b@auth.example.com/'],
    ['an invalid url', 'nope'],
  ])('token refuses %s', (_label, url) => {
    expect(
      pathsOf(() => create(withAuth({ auth_type: 'token', url, username: 'u', password: 'p' }))),
    ).toEqual(['config.auth.url'])
  })

  test.each([{ auth_type: 'digest' }, {}])('an unknown auth_type is refused: %o', (auth) => {
    expect(pathsOf(() => create(withAuth(auth)))).toEqual(['config.auth.auth_type'])
  })

  test('a non-object auth is refused', () => {
    expect(pathsOf(() => create(withAuth('basic')))).toEqual(['config.auth'])
  })

  test('config must be an object', () => {
    expect(pathsOf(() => create({ ...valid, config: 'x' }))).toEqual(['config'])
  })
})

describe('several errors', () => {
  test('are reported at once', () => {
    const issues = issuesOf(() =>
      create({
        eventType: 'nope',
        targetUrl: 'http://127.0.0.1/',
        callback: 'os.system',
        retryCountdownConfig: { choice: 'fixed', kwargs: { seconds: -1 } },
        additionalHeaders: { 'X-Whisperer-Signature': 'forged' },
        config: { auth: { auth_type: 'basic' } },
      }),
    )
    expect(issues.map((issue) => issue.path).sort()).toEqual([
      'additionalHeaders.X-Whisperer-Signature',
      'callback',
      'config.auth.password',
      'config.auth.username',
      'eventType',
      'retryCountdownConfig.kwargs.seconds',
      'targetUrl',
    ])
  })

  test('shape errors are reported at once', () => {
    expect(pathsOf(() => create({ isActive: 'yes', secretKey: 5 })).sort()).toEqual([
      'eventType',
      'isActive',
      'secretKey',
      'targetUrl',
    ])
  })

  test('shape errors and registry errors are reported together', () => {
    expect(
      pathsOf(() => create({ eventType: 'nope', targetUrl: 'https://example.com/', isActive: 'yes' })).sort(),
    ).toEqual(['eventType', 'isActive'])
  })
})
