/** One problem with one field of an input, named by its path (`retry_countdown_config.kwargs.base`). */
export interface FieldIssue {
  path: string
  message: string
}

/** One error code: the HTTP status it answers with, its default message, and what it means. */
export interface ErrorCodeEntry {
  status: number
  message: string
  meaning: string
  /** The code of HTTP-level failures of this status (a framework's own, such as malformed JSON). */
  http?: true
  /** Seconds the API tells a client to wait before trying again (`Retry-After`). */
  retryAfterSeconds?: number
}

/**
 * Every error Whisperer raises or the API answers, by its stable code: a closed catalogue.
 * docs/errors.md is generated from it (`npm run errors:dump`).
 */
export const errorCodes = {
  validation_error: {
    status: 400,
    message: 'Invalid input',
    meaning: 'The input is invalid; `errors` names each failing field, with its messages.',
  },
  invalid_options: {
    status: 400,
    message: 'Invalid options',
    meaning: 'Options given to the library are malformed or contradict each other.',
  },
  invalid_event_data: {
    status: 422,
    message: 'The event data does not match its event type',
    meaning: 'The event data fails its event type’s schema or JSON Schema; `errors` names the failing paths.',
  },
  unknown_event_type: {
    status: 400,
    message: 'Unknown event type',
    meaning: 'No event type of this name is registered in code or declared.',
  },
  reserved_event_type: {
    status: 400,
    message: 'Reserved event type',
    meaning:
      'Event types starting `whisperer.` are Whisperer’s operational events: they cannot be registered, declared, removed or published.',
  },
  event_type_already_registered: {
    status: 409,
    message: 'Event type already registered',
    meaning: 'The event type is registered in code already: it cannot be registered again or declared.',
  },
  countdown_already_registered: {
    status: 409,
    message: 'Countdown already registered',
    meaning: 'A countdown of this name is registered already.',
  },
  callback_already_registered: {
    status: 409,
    message: 'Callback already registered',
    meaning: 'A callback of this name is registered already.',
  },
  webhook_not_found: {
    status: 404,
    message: 'Webhook does not exist',
    meaning: 'No webhook has this id for this owner.',
  },
  webhook_already_registered: {
    status: 409,
    message: 'Webhook already registered',
    meaning:
      'This owner already has a webhook for this target URL whose event types overlap these (some event type would be delivered to both); the error names it.',
  },
  idempotency_key_reused: {
    status: 409,
    message: 'Idempotency key reused',
    meaning:
      'The idempotency key was used, within its lifetime, for a publish of other data (another event type, data or config filter): use a new key for a new event.',
  },
  too_many_secrets: {
    status: 409,
    message: 'Too many live keys',
    meaning:
      'A webhook has at most 10 live keys (its current one and those in their grace period): rotate with a shorter `grace_seconds`, or after a previous key expires.',
  },
  encryption_key_unavailable: {
    status: 500,
    message: 'An encryption key is missing',
    meaning:
      'A stored secret is encrypted with a key that is not among the encryption keys (`WHISPERER_ENCRYPTION_KEYS`); the message names its id. Its webhook is not sent to until the key is given back.',
  },
  encryption_key_mismatch: {
    status: 500,
    message: 'An encryption key is wrong',
    meaning:
      'A stored secret does not decrypt with the encryption key of the id it names: that key is wrong, or the value was altered. Its webhook is not sent to until it decrypts.',
  },
  delivery_not_found: {
    status: 404,
    message: 'Delivery does not exist',
    meaning: 'No delivery has this id or uuid for this owner.',
  },
  event_not_found: {
    status: 404,
    message: 'Event does not exist',
    meaning:
      'No stored event has this uuid. An event that matched no webhook is not stored: its publish answered `event_uuid: null`.',
  },
  event_already_delivered: {
    status: 409,
    message: 'Event already delivered',
    meaning: 'A manual retry of a delivery that was delivered.',
  },
  event_still_in_progress: {
    status: 409,
    message: 'Event is still in retry process',
    meaning: 'A manual retry of a delivery still in its retry schedule, without `force`.',
  },
  delivery_in_flight: {
    status: 409,
    message: 'Delivery is being attempted right now',
    meaning: 'The delivery is being attempted right now; try again when its attempt is recorded.',
  },
  delivery_out_of_order: {
    status: 409,
    message: 'Delivery would overtake its lane',
    meaning:
      'The delivery is ordered (it has an ordering key) and others of its lane are not finished: it may be sent again by hand only when it is its lane’s head (the one a blocked lane waits for), or when its lane is idle (it then joins the lane at the back).',
  },
  webhook_inactive: {
    status: 409,
    message: 'The webhook is inactive',
    meaning:
      'A resend to a webhook that is not active: deactivated, or disabled by Whisperer (the message says why). Reactivate it first.',
  },
  closed: {
    status: 503,
    message: 'Whisperer is closed',
    meaning: 'The Whisperer was closed: it takes no more work.',
  },
  database_unavailable: {
    status: 503,
    message: 'The database is unavailable: try again shortly',
    meaning: 'PostgreSQL cannot be reached or is restarting; `Retry-After` says when to try again.',
    retryAfterSeconds: 5,
  },
  unauthenticated: {
    status: 401,
    message: 'Authentication credentials were not provided or are invalid',
    meaning: 'No credentials, or credentials nobody knows (the response has `WWW-Authenticate`).',
    http: true,
  },
  portal_session_expired: {
    status: 401,
    message: 'This portal link has expired',
    meaning:
      'The portal session (or the one-time link) is past its `expires_in_seconds`: the application creates a new one.',
  },
  portal_link_used: {
    status: 401,
    message: 'This portal link was already used',
    meaning:
      'A one-time portal link is exchanged once for a session; a second use (a copied or replayed link) is refused.',
  },
  portal_read_only: {
    status: 403,
    message: 'This portal session is read-only',
    meaning:
      'A read-only portal session may only read: every request but GET, HEAD and `POST countdowns/schedule/` (which computes a schedule and stores nothing) is refused.',
  },
  forbidden: {
    status: 403,
    message: 'This token may not do that',
    meaning: 'The caller lacks the route’s scope.',
    http: true,
  },
  not_found: {
    status: 404,
    message: 'Not found',
    meaning: 'No such route, resource or declared event type.',
    http: true,
  },
  method_not_allowed: {
    status: 405,
    message: 'Method not allowed',
    meaning: 'The route does not take this method.',
    http: true,
  },
  bad_request: {
    status: 400,
    message: 'The request cannot be read',
    meaning: 'The request’s URL or headers cannot be read (an adapter refuses it before the API sees it).',
  },
  invalid_json: {
    status: 400,
    message: 'The request body is not valid JSON',
    meaning: 'The request body could not be parsed as JSON.',
    http: true,
  },
  payload_too_large: {
    status: 413,
    message: 'The request body is too large',
    meaning: 'The request body is larger than the API accepts (`maxBodyBytes`).',
    http: true,
  },
  unsupported_media_type: {
    status: 415,
    message: 'The request body must be application/json',
    meaning: 'A request body that is not `application/json`.',
    http: true,
  },
  rate_limited: {
    status: 429,
    message: 'Too many requests',
    meaning: 'The owner sent more requests than its rate allows; `Retry-After` says when to try again.',
    http: true,
  },
  request_timeout: {
    status: 408,
    message: 'The request was not received in time',
    meaning: 'The request line, headers or body did not arrive within the server’s timeouts.',
    http: true,
  },
  request_header_fields_too_large: {
    status: 431,
    message: 'The request line and headers are too large',
    meaning: 'The URL or headers exceed the server’s 16 KiB limit.',
    http: true,
  },
  internal_error: {
    status: 500,
    message: 'Internal server error',
    meaning: 'An unexpected failure: it is logged, and nothing of it is shown to the caller.',
    http: true,
  },
} as const satisfies Record<string, ErrorCodeEntry>

export type ErrorCode = keyof typeof errorCodes

/** Every error code, in the catalogue's order. */
export const errorCodeNames = Object.keys(errorCodes) as [ErrorCode, ...ErrorCode[]]

/**
 * The code of an HTTP-level failure of `status` (malformed JSON, a body too large, ...): the
 * catalogue's code for it, or `internal_error` for a status it does not know.
 */
export function httpErrorCode(status: number): ErrorCode {
  const entries = Object.entries(errorCodes) as [ErrorCode, ErrorCodeEntry][]
  return entries.find(([, entry]) => entry.http && entry.status === status)?.[0] ?? 'internal_error'
}

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
