import { execFile } from 'node:child_process'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { promisify } from 'node:util'
import { expect, test } from 'vitest'

const run = promisify(execFile)
const root = new URL('../', import.meta.url)

test('the README library example runs as written against the built package', async () => {
  const readme = await readFile(new URL('README.md', root), 'utf8')
  const section = readme.slice(readme.indexOf('## Use it as a library'))
  const example = /```ts\n([\s\S]*?)```/.exec(section)?.[1]
  expect(example).toContain("from 'whisperer'")
  await run('npm', ['run', '-s', 'build'], { cwd: root.pathname })
  // Inside the package, `whisperer` resolves to this package itself (its exports: dist/).
  const file = new URL('readme-example.ts', root)
  await writeFile(file, example!)
  try {
    const { stdout } = await run(process.execPath, [file.pathname], { cwd: root.pathname, timeout: 60_000 })
    expect(stdout).toMatch(/received package-created sha256=[0-9a-f]{64}/)
    expect(stdout).toContain("[ 'delivered with HTTP 200' ]")
  } finally {
    await rm(file)
  }
}, 90_000)
