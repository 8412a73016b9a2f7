import { describe, expect, test } from 'vitest'
import { CallbackRegistry, callbackContextResponse } from '../../src/core/callbacks.ts'

describe('CallbackRegistry', () => {
  test('a registered callback can be found by name', () => {
    const registry = new CallbackRegistry()
    const audit = () => {}
    registry.register('audit', audit)
    expect(registry.has('audit')).toBe(true)
    expect(registry.get('audit')).toBe(audit)
  })

  test('an unregistered name is unknown', () => {
    const registry = new CallbackRegistry()
    expect(registry.has('os.system')).toBe(false)
    expect(registry.get('os.system')).toBeUndefined()
  })

  test('registering a name twice throws callback_already_registered', () => {
    const registry = new CallbackRegistry()
    registry.register('audit', () => {})
    expect(() => registry.register('audit', () => {})).toThrow(
      expect.objectContaining({ code: 'callback_already_registered' }),
    )
  })
})

describe('callbackContextResponse', () => {
  test('passes on a response', () => {
    expect(
      callbackContextResponse({
        kind: 'response',
        status: 201,
        headers: { 'content-type': 'text/plain' },
        body: 'ok',
        truncated: false,
        durationMs: 3,
      }),
    ).toEqual({ status: 201, headers: { 'content-type': 'text/plain' }, body: 'ok' })
  })

  test('is null for a transport error', () => {
    expect(
      callbackContextResponse({ kind: 'error', error: 'timeout', message: 'slow', durationMs: 10_000 }),
    ).toBeNull()
  })
})
