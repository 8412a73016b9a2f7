/** The key under which the serialized data travels: `data` (the seeds) or `payload` (late dj-whisperer). */
export type PayloadKey = 'data' | 'payload'

/** The body of a delivered request, before it is turned into bytes. */
export interface DeliveryBody {
  event: { type: string; uuid: string }
  [key: string]: unknown
}

/**
 * JSON text of a value. Dates become ISO-8601 strings; bigints keep every digit; a value that is
 * itself `undefined` or a function, and cycles, are refused with a message that says what was
 * wrong. Nested `undefined` and functions are left out, as `JSON.stringify` does.
 */
export function toJson(value: unknown): string {
  let text: string | undefined
  try {
    text = JSON.stringify(value, (_key, inner) =>
      typeof inner === 'bigint' ? rawJson(inner.toString()) : inner,
    )
  } catch (error) {
    throw new TypeError(`cannot be encoded as JSON: ${(error as Error).message}`)
  }
  if (text === undefined) throw new TypeError('cannot be encoded as JSON: it is undefined or a function')
  return text
}

/** `JSON.rawJSON` (Node 21+), which TypeScript's libraries do not declare yet. */
const rawJson = (JSON as unknown as { rawJSON: (text: string) => unknown }).rawJSON

/** A uuid as the body carries it: 32 lowercase hex digits, no dashes (as dj-whisperer does). */
export function uuidHex(uuid: string): string {
  return uuid.replaceAll('-', '').toLowerCase()
}

/**
 * The exact bytes Whisperer sends: `{"event":{"type","uuid"},"<key>":<data>}`. Built from the stored
 * data text by concatenation, so every attempt sends the same body byte for byte.
 */
export function buildBody(type: string, deliveryUuid: string, key: PayloadKey, dataJson: string): string {
  return `{"event":{"type":${JSON.stringify(type)},"uuid":"${uuidHex(deliveryUuid)}"},"${key}":${dataJson}}`
}
