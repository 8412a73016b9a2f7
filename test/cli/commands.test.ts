import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, expect, inject, test } from 'vitest'
import { main } from '../../src/cli/main.ts'
import { forEachDatabase, schemaName } from '../support/databases.ts'

/** `whisperer <args>` in this process, with what it printed and its exit code. */
async function whisperer(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = ''
  let stderr = ''
  const code = await main(['node', 'whisperer', ...args], {
    stdout: (text) => {
      stdout += text
    },
    stderr: (text) => {
      stderr += text
    },
  })
  return { code, stdout, stderr }
}

// Each command opens the database and closes it, as it does when run from a shell: an embedded
// PGlite directory takes seconds to open on a busy machine.
const slow = 180_000

forEachDatabase((db) => {
  let directory: string
  let globals: string[]
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'whisperer-cli-'))
    const database = db.kind === 'postgres' ? inject('postgresUrl')! : join(directory, 'data')
    globals = ['--database', database, '--schema', schemaName()]
  })
  afterEach(async () => {
    if (db.kind === 'postgres') await db.sql(`DROP SCHEMA IF EXISTS "${globals[3]}" CASCADE`)
    rmSync(directory, { recursive: true, force: true })
  })

  test(
    'migrate applies the migrations once, then finds the schema up to date',
    async () => {
      const first = await whisperer(...globals, 'migrate')
      expect(first).toMatchObject({ code: 0, stderr: '' })
      expect(first.stdout).toMatch(/^applied migrations \d+/)
      expect(await whisperer(...globals, 'migrate')).toEqual({
        code: 0,
        stdout: 'already up to date\n',
        stderr: '',
      })
    },
    slow,
  )

  test('migrate resolves its options like every command: a bad schema is refused, exit 1', async () => {
    const result = await whisperer('--database', globals[1]!, '--schema', 'Bad-Name', 'migrate')
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/^error: Invalid Whisperer options: schema: must be lowercase/)
  })

  test(
    'tokens create, list and revoke',
    async () => {
      const created = await whisperer(
        ...globals,
        'tokens',
        'create',
        '--owner',
        'acme',
        '--scope',
        'publisher',
        '--name',
        'ci',
      )
      expect(created.code).toBe(0)
      const id = /^created token (\S+) for acme \(publisher\); it is shown only once:\n$/.exec(
        created.stderr,
      )?.[1]
      expect(id).toBeDefined()
      expect(created.stdout).toMatch(new RegExp(`^wh_${id}_[A-Za-z0-9_-]+\\n$`))

      expect(await whisperer(...globals, 'tokens', 'revoke', id!)).toMatchObject({
        code: 0,
        stdout: `revoked token ${id}\n`,
      })
      const listed = await whisperer(...globals, 'tokens', 'list', '--json')
      expect(JSON.parse(listed.stdout)).toEqual([
        expect.objectContaining({
          id,
          name: 'ci',
          owner: 'acme',
          scopes: 'publisher',
          revoked: expect.any(String),
        }),
      ])
    },
    slow,
  )

  test('a wrong command line exits 2 and says why', async () => {
    const missing = await whisperer(...globals, 'tokens', 'create')
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain("required option '--owner <owner>' not specified")
    const status = await whisperer(...globals, 'deliveries', 'replay', '--status', 'pending')
    expect(status).toEqual({
      code: 2,
      stdout: '',
      stderr: 'error: cannot replay deliveries that are pending\n',
    })
  })
})
