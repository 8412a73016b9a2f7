/**
 * Writes the REST API's OpenAPI document, as the handler serves it at `GET /whisperer/openapi.json`,
 * to docs/openapi.json. `npm run openapi:dump` rewrites it; a test fails when that file is stale.
 */
import { execFileSync } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { createWhisperer } from '../src/whisperer.ts'

export const openApiFile = new URL('../docs/openapi.json', import.meta.url)

/**
 * The document as committed: JSON indented by 2 spaces with a final newline, laid out by the
 * project's formatter (short arrays on one line), so that `biome check .` passes on it.
 */
export function formatOpenApi(document: unknown): string {
  const root = fileURLToPath(new URL('..', import.meta.url))
  const biome = fileURLToPath(new URL('../node_modules/.bin/biome', import.meta.url))
  return execFileSync(biome, ['format', '--stdin-file-path=docs/openapi.json'], {
    cwd: root,
    input: `${JSON.stringify(document, null, 2)}\n`,
    encoding: 'utf8',
  })
}

/** Builds a handler (in-memory PGlite, no event types, nobody authenticated) and fetches its document. */
export async function dumpOpenApi(): Promise<string> {
  const silent = () => {}
  const whisperer = await createWhisperer({
    database: 'memory://',
    logger: { debug: silent, info: silent, warn: silent, error: silent },
  })
  try {
    const handler = whisperer.api({ authenticate: () => null })
    const response = await handler(new Request('http://localhost/whisperer/openapi.json'))
    if (!response.ok) throw new Error(`GET /whisperer/openapi.json answered ${response.status}`)
    return formatOpenApi(await response.json())
  } finally {
    await whisperer.close()
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await writeFile(openApiFile, await dumpOpenApi())
  console.log(`wrote ${fileURLToPath(openApiFile)}`)
}
