import { Ajv } from 'ajv'
import formats from 'ajv-formats'
import { type FieldIssue, WhispererError } from './errors.ts'

/** Every error at once; the standard formats (`email`, `date-time`, `uri`, …) are checked. */
const ajv = new Ajv({ allErrors: true, strict: false })
formats.default(ajv)

/**
 * Compiles a JSON Schema into a validator returning the issues of a value, with paths under
 * `data` (`data.items.0.price`). A schema that does not compile is refused with its reason.
 */
export function compileJsonSchema(schema: object): (value: unknown) => FieldIssue[] {
  let validate: ReturnType<typeof ajv.compile>
  try {
    validate = ajv.compile(schema)
  } catch (error) {
    throw new WhispererError('validation_error', `Invalid JSON Schema: ${(error as Error).message}`, {
      issues: [{ path: 'json_schema', message: (error as Error).message }],
    })
  }
  return (value) => {
    if (validate(value)) return []
    return (validate.errors ?? []).map((error) => {
      const path = ['data', ...error.instancePath.split('/').filter(Boolean)]
      if (error.keyword === 'required') path.push(String(error.params.missingProperty))
      return { path: path.join('.'), message: error.message ?? 'is invalid' }
    })
  }
}
