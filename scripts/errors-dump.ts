/**
 * Writes the catalogue of error codes (src/core/errors.ts) to docs/errors.md.
 * `npm run errors:dump` rewrites it; a test fails when that file is stale.
 */
import { writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { errorCodes } from '../src/core/errors.ts'

export const errorsFile = new URL('../docs/errors.md', import.meta.url)

/** docs/errors.md: every code the library raises or the API answers, with its status and meaning. */
export function errorsMarkdown(): string {
  const rows = Object.entries(errorCodes).map(
    ([code, entry]) => `| \`${code}\` | ${entry.status} | ${entry.meaning} |`,
  )
  return [
    '# Error codes',
    '',
    '<!-- Generated from src/core/errors.ts by `npm run errors:dump`; do not edit by hand. -->',
    '',
    'Every error Whisperer raises (`WhispererError.code`) or the REST API answers (`{"code", "message",',
    '"errors"?}`) has one of these stable codes. The API answers with the status given; `message` is',
    'for people and may change. The OpenAPI document lists the codes as an enum.',
    '',
    '| code | HTTP status | meaning |',
    '|---|---|---|',
    ...rows,
    '',
  ].join('\n')
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await writeFile(errorsFile, errorsMarkdown())
  console.log(`wrote ${fileURLToPath(errorsFile)}`)
}
