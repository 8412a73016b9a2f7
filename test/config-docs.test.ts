import { readdir, readFile } from 'node:fs/promises'
import { expect, test } from 'vitest'
import { configurationFile, withOptionsTable } from '../scripts/config-docs.ts'
import { optionTable } from '../src/config-options.ts'

const source = new URL('../src/', import.meta.url)

async function sources(): Promise<{ path: string; text: string }[]> {
  const paths = (await readdir(source, { recursive: true })).filter((path) => path.endsWith('.ts'))
  return Promise.all(
    paths.map(async (path) => ({ path, text: await readFile(new URL(path, source), 'utf8') })),
  )
}

test('docs/configuration.md lists the options as the table in src/config-options.ts does', async () => {
  const committed = await readFile(configurationFile, 'utf8')
  expect(committed, 'docs/configuration.md is stale: run `npm run config:docs`').toBe(
    withOptionsTable(committed),
  )
  for (const key of Object.keys(optionTable)) expect(committed).toContain(`| \`${key}\` |`)
})

test('every environment variable the code reads is documented in docs/configuration.md', async () => {
  const docs = await readFile(configurationFile, 'utf8')
  const names = new Set(Object.values(optionTable).flatMap((row) => (row.env ? [row.env.name] : [])))
  for (const { path, text } of await sources()) {
    // Options read the environment only through the table; the CLI's flags through commander.
    // Node's own NODE_OPTIONS, which the CLI's relaunch respects, is Node's (docs/operations.md).
    const read = path.endsWith('cli/node-flags.ts') ? text.replaceAll('process.env.NODE_OPTIONS', '') : text
    expect(read, `${path} reads the environment outside the options table`).not.toMatch(
      /\benv\.[A-Z]|process\.env\.|process\.env\[/,
    )
    for (const match of text.matchAll(/\.env\(\s*'([A-Z][A-Z0-9_]*)'/g)) names.add(match[1]!)
  }
  expect(names).toContain('WHISPERER_CONFIG')
  for (const name of names) expect(docs, `${name} is not documented`).toContain(`\`${name}\``)
})
