import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { promisify } from 'node:util'
import { expect, test } from 'vitest'

const run = promisify(execFile)
const root = new URL('../../', import.meta.url)

test('the model hooks example runs as written', async () => {
  const page = await readFile(new URL('docs/model-hooks.md', root), 'utf8')
  const example = /```ts\n([\s\S]*?)```/.exec(page)?.[1]
  expect(example).toContain("from 'whisperer/drizzle'")
  // The package's entry points, from its sources: the built package is tested by test/readme.test.ts.
  const source = example!
    .replace("from 'whisperer'", `from '${new URL('src/index.ts', root)}'`)
    .replace("from 'whisperer/drizzle'", `from '${new URL('src/model-hooks/drizzle.ts', root)}'`)
  const { stdout } = await run(process.execPath, ['--input-type=module-typescript', '--eval', source], {
    cwd: root.pathname,
    timeout: 60_000,
  })
  expect(stdout.trim().split('\n').sort()).toEqual([
    'rolled back: Rollback',
    'user-created {"id":1,"email":"ada@example.com"}',
    'user-deleted {"id":1,"email":"ada@example.com","name":null}',
  ])
}, 90_000)
