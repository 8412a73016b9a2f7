/** One problem with one field of an input, named by its path (`retry_countdown_config.kwargs.base`). */
export interface FieldIssue {
  path: string
  message: string
}

/** Every domain error Whisperer raises, by its stable code. */
export const errorCodes = {
  validation_error: { status: 400, message: 'Invalid input' },
  invalid_options: { status: 400, message: 'Invalid options' },
  invalid_event_data: { status: 422, message: 'The event data does not match its event type' },
  unknown_event_type: { status: 400, message: 'Unknown event type' },
  event_type_already_registered: { status: 409, message: 'Event type already registered' },
  countdown_already_registered: { status: 409, message: 'Countdown already registered' },
  callback_already_registered: { status: 409, message: 'Callback already registered' },
  webhook_not_found: { status: 404, message: 'Webhook does not exist' },
  webhook_already_registered: { status: 409, message: 'Webhook already registered' },
  delivery_not_found: { status: 404, message: 'Delivery does not exist' },
  event_already_delivered: { status: 409, message: 'Event already delivered' },
  event_still_in_progress: { status: 409, message: 'Event is still in retry process' },
  delivery_in_flight: { status: 409, message: 'Delivery is being attempted right now' },
  closed: { status: 503, message: 'Whisperer is closed' },
  database_unavailable: { status: 503, message: 'The database is unavailable: try again shortly' },
  // The HTTP API's own errors.
  unauthenticated: { status: 401, message: 'Authentication credentials were not provided or are invalid' },
  forbidden: { status: 403, message: 'This token may not do that' },
  not_found: { status: 404, message: 'Not found' },
  method_not_allowed: { status: 405, message: 'Method not allowed' },
  invalid_json: { status: 400, message: 'The request body is not valid JSON' },
  payload_too_large: { status: 413, message: 'The request body is too large' },
  unsupported_media_type: { status: 415, message: 'The request body must be application/json' },
  rate_limited: { status: 429, message: 'Too many requests' },
  bad_request: { status: 400, message: 'The request is not valid HTTP' },
  request_timeout: { status: 408, message: 'The request was not received in time' },
  request_header_fields_too_large: { status: 431, message: 'The request line and headers are too large' },
} as const satisfies Record<string, { status: number; message: string }>

export type ErrorCode = keyof typeof errorCodes

/**
 * A domain error: a stable `code`, a human message, the HTTP status it maps to and, for
 * validation errors, the issue of each field.
 */
export class WhispererError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly issues: readonly FieldIssue[]

  constructor(code: ErrorCode, message?: string, options: { issues?: FieldIssue[]; cause?: unknown } = {}) {
    super(message ?? errorCodes[code].message, { cause: options.cause })
    this.name = 'WhispererError'
    this.code = code
    this.status = errorCodes[code].status
    this.issues = options.issues ?? []
  }
}

/** A validation error whose message names every failing field. */
export function validationError(issues: FieldIssue[]): WhispererError {
  const summary = issues.map((issue) => `${issue.path || '(body)'}: ${issue.message}`).join('; ')
  return new WhispererError('validation_error', `Invalid input: ${summary}`, { issues })
}
