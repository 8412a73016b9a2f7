import { describe, expect, test } from 'vitest'
import { buildBody, toJson, uuidHex } from '../../src/core/payload.ts'

const uuid = 'da81e851-3982-4c61-87dd-1e58a7d3f971'

describe('buildBody', () => {
  test('builds the exact bytes with the data key', () => {
    expect(buildBody('package-created', uuid, 'data', '{"id":61}')).toBe(
      '{"event":{"type":"package-created","uuid":"da81e85139824c6187dd1e58a7d3f971"},"data":{"id":61}}',
    )
  })

  test('builds the exact bytes with the payload key', () => {
    expect(buildBody('order-created', uuid, 'payload', '{"id":1,"number":"1"}')).toBe(
      '{"event":{"type":"order-created","uuid":"da81e85139824c6187dd1e58a7d3f971"},"payload":{"id":1,"number":"1"}}',
    )
  })

  test('parses to event and data', () => {
    expect(JSON.parse(buildBody('package-created', uuid, 'data', '[1,"two",null]'))).toEqual({
      event: { type: 'package-created', uuid: 'da81e85139824c6187dd1e58a7d3f971' },
      data: [1, 'two', null],
    })
  })

  test('keeps the stored data text byte for byte', () => {
    const data = '{"z":1,"a":"é ☃","n":1.50,"big":18446744073709551616}'
    const bodyText = buildBody('t', uuid, 'data', data)
    expect(bodyText.endsWith(`"data":${data}}`)).toBe(true)
    expect(buildBody('t', uuid, 'data', data)).toBe(bodyText)
  })

  test('writes the uuid without dashes, in lowercase', () => {
    const parsed = JSON.parse(buildBody('t', uuid.toUpperCase(), 'data', 'null'))
    expect(parsed.event.uuid).toBe('da81e85139824c6187dd1e58a7d3f971')
  })

  test('escapes the event type as a JSON string', () => {
    const type = 'a"b\\c'
    expect(JSON.parse(buildBody(type, uuid, 'data', '{}')).event.type).toBe(type)
  })
})

describe('uuidHex', () => {
  test('drops dashes', () => {
    expect(uuidHex(uuid)).toBe('da81e85139824c6187dd1e58a7d3f971')
  })

  test('lowercases', () => {
    expect(uuidHex('DA81E851-3982-4C61-87DD-1E58A7D3F971')).toBe('da81e85139824c6187dd1e58a7d3f971')
  })

  test('gives 32 hex digits', () => {
    expect(uuidHex(uuid)).toMatch(/^[0-9a-f]{32}$/)
  })

  test('keeps a uuid already in hex', () => {
    expect(uuidHex('da81e85139824c6187dd1e58a7d3f971')).toBe('da81e85139824c6187dd1e58a7d3f971')
  })
})

describe('toJson', () => {
  test('encodes plain values compactly', () => {
    expect(toJson({ id: 61, name: 'x', tags: ['a'], ok: true, none: null })).toBe(
      '{"id":61,"name":"x","tags":["a"],"ok":true,"none":null}',
    )
  })

  test('round-trips non-ASCII text', () => {
    const value = { name: 'Zoë ☃ 秘密' }
    expect(JSON.parse(toJson(value))).toEqual(value)
  })

  test('turns a Date into an ISO-8601 string', () => {
    expect(toJson(new Date('2026-01-01T12:30:00Z'))).toBe('"2026-01-01T12:30:00.000Z"')
    expect(toJson({ at: new Date('2026-01-01T12:30:00Z') })).toBe('{"at":"2026-01-01T12:30:00.000Z"}')
  })

  test('keeps every digit of a bigint beyond 2^53', () => {
    expect(toJson(9007199254740993n)).toBe('9007199254740993')
    expect(toJson({ n: 2n ** 64n, m: -123456789012345678901234567890n })).toBe(
      '{"n":18446744073709551616,"m":-123456789012345678901234567890}',
    )
    expect(toJson([1n, 2n])).toBe('[1,2]')
  })

  test('refuses undefined', () => {
    expect(() => toJson(undefined)).toThrow(TypeError)
    expect(() => toJson(undefined)).toThrow(/cannot be encoded as JSON/)
  })

  test('refuses a function', () => {
    expect(() => toJson(() => 1)).toThrow(TypeError)
    expect(() => toJson(() => 1)).toThrow(/cannot be encoded as JSON/)
  })

  test('refuses a cycle', () => {
    const value: Record<string, unknown> = { id: 1 }
    value.self = value
    expect(() => toJson(value)).toThrow(TypeError)
    expect(() => toJson(value)).toThrow(/cannot be encoded as JSON/)
  })
})
