/**
 * A small example of data that an event type's JSON Schema accepts, for its page: the schema's own
 * `examples`, `default`, `const` or first `enum` value where it gives one, otherwise a plain value
 * of the right type and format. Required properties come first; a schema that says nothing gives
 * an empty object.
 */
export function exampleFromSchema(schema, depth = 0) {
  if (!schema || typeof schema !== 'object' || depth > 8) return null
  if (Array.isArray(schema.examples) && schema.examples.length > 0) return schema.examples[0]
  if ('example' in schema) return schema.example
  if ('const' in schema) return schema.const
  if ('default' in schema) return schema.default
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0]
  const choice = schema.oneOf ?? schema.anyOf
  if (Array.isArray(choice)) {
    const first = choice.find((option) => option?.type !== 'null') ?? choice[0]
    return exampleFromSchema(first, depth + 1)
  }
  if (Array.isArray(schema.allOf) && schema.allOf.length > 0) {
    let merged
    for (const part of schema.allOf) {
      const value = exampleFromSchema(part, depth + 1)
      if (isObject(merged) && isObject(value)) Object.assign(merged, value)
      else merged = isObject(value) ? { ...value } : (value ?? merged)
    }
    return merged ?? null
  }
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type
  switch (type ?? (schema.properties ? 'object' : schema.items ? 'array' : undefined)) {
    case 'object': {
      const properties = schema.properties ?? {}
      const required = Array.isArray(schema.required) ? schema.required : []
      const names = [...required.filter((name) => name in properties), ...Object.keys(properties)]
      const example = {}
      for (const name of new Set(names)) example[name] = exampleFromSchema(properties[name], depth + 1)
      return example
    }
    case 'array': {
      const item = exampleFromSchema(schema.items, depth + 1)
      return item === null && !schema.items ? [] : [item]
    }
    case 'string':
      return stringExample(schema)
    case 'integer':
    case 'number': {
      if (schema.minimum !== undefined) return type === 'integer' ? Math.ceil(schema.minimum) : schema.minimum
      if (schema.exclusiveMinimum !== undefined) return Math.floor(schema.exclusiveMinimum) + 1
      const plain = type === 'integer' ? 1 : 1.5
      return schema.maximum !== undefined && schema.maximum < plain ? Math.floor(schema.maximum) : plain
    }
    case 'boolean':
      return true
    case 'null':
      return null
    default:
      return depth === 0 ? {} : null
  }
}

const formats = {
  'date-time': '2026-01-01T12:00:00Z',
  date: '2026-01-01',
  time: '12:00:00Z',
  email: 'jane@example.com',
  uri: 'https://example.com/',
  url: 'https://example.com/',
  uuid: '3f1c2a4e-8b7d-4e5f-9a6b-1c2d3e4f5a6b',
  hostname: 'example.com',
  ipv4: '192.0.2.1',
  ipv6: '2001:db8::1',
}

function stringExample(schema) {
  if (schema.format && formats[schema.format]) return formats[schema.format]
  const text = 'text'
  if (schema.minLength && schema.minLength > text.length) return 'x'.repeat(schema.minLength)
  if (schema.maxLength !== undefined && schema.maxLength < text.length) return 'x'.repeat(schema.maxLength)
  return text
}

function isObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}
