/**
 * Writes the options table of docs/configuration.md from the options table in src/config-options.ts.
 * `npm run config:docs` rewrites it; a test fails when the file differs from what the table gives.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { optionsMarkdown } from '../src/config-options.ts'

export const configurationFile = new URL('../docs/configuration.md', import.meta.url)

const start = '<!-- options: written by `npm run config:docs` from src/config-options.ts -->\n'
const end = '<!-- end of options -->\n'

/** The document with the part between the two markers replaced by the table. */
export function withOptionsTable(document: string): string {
  const from = document.indexOf(start)
  const to = document.indexOf(end)
  if (from < 0 || to < from) throw new Error('docs/configuration.md has lost its options markers')
  return `${document.slice(0, from + start.length)}\n${optionsMarkdown()}\n${document.slice(to)}`
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await writeFile(configurationFile, withOptionsTable(await readFile(configurationFile, 'utf8')))
  console.log(`wrote ${fileURLToPath(configurationFile)}`)
}
