import { describe, expect, test } from 'vitest'
import { errorCodes, validationError, WhispererError } from '../../src/core/errors.ts'

describe('WhispererError', () => {
  test('carries its code, status and default message', () => {
    const error = new WhispererError('webhook_not_found')
    expect(error).toBeInstanceOf(Error)
    expect(error.name).toBe('WhispererError')
    expect(error.code).toBe('webhook_not_found')
    expect(error.status).toBe(404)
    expect(error.message).toBe('Webhook does not exist')
    expect(error.issues).toEqual([])
  })

  test('takes a message and a cause', () => {
    const cause = new Error('inner')
    const error = new WhispererError('closed', 'Shutting down', { cause })
    expect(error.message).toBe('Shutting down')
    expect(error.status).toBe(503)
    expect(error.cause).toBe(cause)
  })

  test.each([
    ['event_already_delivered', 409],
    ['event_still_in_progress', 409],
    ['delivery_in_flight', 409],
    ['unknown_event_type', 400],
    ['validation_error', 400],
  ] as const)('%s maps to %i', (code, status) => {
    expect(errorCodes[code].status).toBe(status)
  })

  test('the seed messages are kept', () => {
    expect(errorCodes.event_already_delivered.message).toBe('Event already delivered')
    expect(errorCodes.event_still_in_progress.message).toBe('Event is still in retry process')
    expect(errorCodes.webhook_already_registered.message).toBe('Webhook already registered')
  })
})

describe('validationError', () => {
  test('names every failing field', () => {
    const issues = [
      { path: 'eventType', message: '"x" is not a valid choice.' },
      { path: 'targetUrl', message: 'Enter a valid URL.' },
    ]
    const error = validationError(issues)
    expect(error.code).toBe('validation_error')
    expect(error.status).toBe(400)
    expect(error.issues).toEqual(issues)
    expect(error.message).toContain('eventType: "x" is not a valid choice.')
    expect(error.message).toContain('targetUrl: Enter a valid URL.')
  })

  test('an issue on the whole input is named (body)', () => {
    expect(validationError([{ path: '', message: 'Expected an object' }]).message).toContain(
      '(body): Expected an object',
    )
  })
})
