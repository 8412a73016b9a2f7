/**
 * The conditions of the webhook form, one row per condition (`{ field, op, value }`, the value as
 * typed), and the webhook's `filters` they make: a plain value for a field's only `is`, otherwise an
 * object of operators; dotted fields reach into the data. Values are read with the JSON type the
 * event type's schema gives the field, since `1` does not match `"1"`.
 */

export const operators = [
  { op: 'is', label: 'is' },
  { op: 'startswith', label: 'starts with' },
  { op: 'endswith', label: 'ends with' },
  { op: 'contains', label: 'contains' },
  { op: 'like', label: 'matches the regex' },
  { op: 'any', label: 'is anything' },
]

const operatorNames = new Set(operators.map((operator) => operator.op))

/** The JSON type a schema gives the value at a dotted path, or undefined when it does not say. */
export function typeAt(schema, field) {
  let node = schema
  for (const segment of field.split('.')) {
    const properties = node?.properties
    if (!properties || typeof properties !== 'object' || !Object.hasOwn(properties, segment)) return undefined
    node = properties[segment]
  }
  const type = Array.isArray(node?.type) ? node.type.find((t) => t !== 'null') : node?.type
  return typeof type === 'string' ? type : undefined
}

/** A typed value from what was typed for `is`, or the problem with it. */
export function parseValue(text, type) {
  const trimmed = text.trim()
  switch (type) {
    case 'string':
      return { value: text }
    case 'integer':
    case 'number': {
      const number = trimmed === '' ? Number.NaN : Number(trimmed)
      if (!Number.isFinite(number)) return { problem: 'Enter a number.' }
      if (type === 'integer' && !Number.isInteger(number)) return { problem: 'Enter a whole number.' }
      return { value: number }
    }
    case 'boolean':
      if (trimmed === 'true' || trimmed === 'false') return { value: trimmed === 'true' }
      return { problem: 'Enter true or false.' }
    default:
      // Without a type: JSON when it reads as JSON (42, true, null, "42", [1]), otherwise the text.
      try {
        return { value: JSON.parse(trimmed) }
      } catch {
        return { value: text }
      }
  }
}

/** What to show in the value box for a value, such that {@link parseValue} reads it back the same. */
export function formatValue(value, type) {
  if (typeof value === 'string') {
    if (type === 'string') return value
    const read = parseValue(value, type)
    return 'value' in read && read.value === value ? value : JSON.stringify(value)
  }
  return JSON.stringify(value)
}

/**
 * The filters of condition rows, or the problem of each row that has one (by index). A row with
 * neither field nor value is ignored.
 */
export function filtersFromConditions(rows, schema) {
  const filters = {}
  const problems = []
  rows.forEach((row, index) => {
    const field = row.field.trim()
    if (field === '' && (row.value ?? '') === '') return
    if (!/^[^.]+(\.[^.]+)*$/.test(field)) {
      problems.push({ index, message: 'Name a field, with dots between nested names.' })
      return
    }
    let value = null
    if (row.op === 'any') value = true
    else if (row.op === 'is') {
      const read = parseValue(row.value ?? '', typeAt(schema, field))
      if ('problem' in read) {
        problems.push({ index, message: read.problem })
        return
      }
      value = read.value
    } else value = row.value ?? ''
    const existing = filters[field] ?? {}
    if (Object.hasOwn(existing, row.op)) {
      const label = operators.find((operator) => operator.op === row.op)?.label ?? row.op
      problems.push({ index, message: `"${field}" already has an “${label}” condition.` })
      return
    }
    filters[field] = { ...existing, [row.op]: value }
  })
  // A field's only condition, `is` with a value that is not an object, is written as the plain value.
  for (const [field, condition] of Object.entries(filters)) {
    const ops = Object.keys(condition)
    const only = condition[ops[0]]
    if (ops.length === 1 && ops[0] === 'is' && (only === null || typeof only !== 'object'))
      filters[field] = only
  }
  return { filters, problems }
}

/** The condition rows of stored filters: nested objects become dotted fields. */
export function conditionsFromFilters(filters, schema) {
  const rows = []
  const walk = (node, prefix) => {
    for (const [key, value] of Object.entries(node ?? {})) {
      const field = prefix ? `${prefix}.${key}` : key
      const isObject = value !== null && typeof value === 'object' && !Array.isArray(value)
      const keys = isObject ? Object.keys(value) : []
      if (isObject && keys.length > 0 && keys.every((name) => operatorNames.has(name))) {
        for (const op of keys) rows.push(row(field, op, value[op], schema))
      } else if (isObject && keys.length > 0) {
        walk(value, field)
      } else {
        rows.push(row(field, 'is', value, schema))
      }
    }
  }
  walk(filters, '')
  return rows
}

function row(field, op, value, schema) {
  if (op === 'any') return { field, op, value: '' }
  if (op === 'is') return { field, op, value: formatValue(value, typeAt(schema, field)) }
  return { field, op, value: String(value) }
}
