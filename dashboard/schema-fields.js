/** What an event type's JSON Schema says about its data's fields. */

/** The fields an event type exposes, with the type and description its schema gives each. */
export function fieldsOf(eventType) {
  const properties = eventType?.json_schema?.properties ?? {}
  const names = eventType?.fields ?? Object.keys(properties)
  return names.map((name) => {
    const schema = properties[name] ?? {}
    const type = Array.isArray(schema.type)
      ? schema.type.join(' or ')
      : (schema.type ?? (schema.properties ? 'object' : 'any'))
    return { name, type, description: schema.description ?? '' }
  })
}

/** Dotted paths into a schema's nested objects, for suggestions: `customer`, `customer.email`. */
export function pathsOf(schema, prefix = '', depth = 0) {
  const properties = schema?.properties
  if (!properties || typeof properties !== 'object' || depth > 3) return []
  return Object.entries(properties).flatMap(([name, child]) => {
    const path = prefix ? `${prefix}.${name}` : name
    return [path, ...pathsOf(child, path, depth + 1)]
  })
}
