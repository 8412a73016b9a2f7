/**
 * The REST API, as every other client calls it: `Authorization: Token <token>` on each request, so
 * the dashboard can do nothing the API refuses. The API is mounted one level above the dashboard.
 */

/** An error answer of the API: its status, stable code, message and per-field errors. */
export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? `HTTP ${status}`)
    this.status = status
    this.code = body?.code ?? 'http_error'
    this.errors = body?.errors ?? {}
    this.body = body
  }
}

/** Where the API is: the dashboard is served at `<prefix>/dashboard/`. */
export function apiBase(location) {
  return new URL('../', new URL('./', location.href)).href
}

/**
 * A client of the API at `base`, sending the token `token()` returns. Each method resolves to the
 * JSON answer; an error status rejects with an {@link ApiError}, except for the statuses `accept`
 * lists, which resolve to `{ status, body }`.
 */
export function apiClient(base, token) {
  async function request(method, path, { query, json, accept = [] } = {}) {
    const url = new URL(path, base)
    for (const [name, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== null && value !== '') url.searchParams.set(name, String(value))
    }
    const headers = { authorization: `Token ${token()}`, accept: 'application/json' }
    if (json !== undefined) headers['content-type'] = 'application/json'
    const response = await fetch(url, {
      method,
      headers,
      body: json === undefined ? undefined : JSON.stringify(json),
    })
    const text = await response.text()
    let body = null
    try {
      body = text ? JSON.parse(text) : null
    } catch {
      body = { message: text }
    }
    if (accept.includes(response.status)) return { status: response.status, body }
    if (!response.ok) throw new ApiError(response.status, body)
    return body
  }
  return {
    get: (path, query) => request('GET', path, { query }),
    post: (path, json, options = {}) => request('POST', path, { json, ...options }),
    put: (path, json, options = {}) => request('PUT', path, { json, ...options }),
    patch: (path, json, options = {}) => request('PATCH', path, { json, ...options }),
    delete: (path, options = {}) => request('DELETE', path, options),
  }
}
