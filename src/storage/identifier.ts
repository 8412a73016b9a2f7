const identifier = /^[a-z_][a-z0-9_]{0,62}$/

/** Checks a schema name and quotes it for SQL; only lowercase letters, digits and `_` are allowed. */
export function quoteIdentifier(name: string): string {
  if (!identifier.test(name)) {
    throw new TypeError(
      `Schema name "${name}" must be 1 to 63 lowercase letters, digits or _, not starting with a digit`,
    )
  }
  return `"${name}"`
}
