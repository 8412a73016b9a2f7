import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, test, vi } from 'vitest'
import { main } from '../../src/cli/main.ts'
import { createWhisperer } from '../../src/whisperer.ts'
import { forEachDatabase, schemaName, testDefaults } from '../support/databases.ts'

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

  // One database for the secrets commands, with two webhooks signed by secrets stored in clear
  // (made by the library, as an application would): one to rotate, then both to seal.
  describe('secrets', () => {
    let directory: string
    let globals: string[]
    let webhooks: number[]
    const key = (id: string) => `${id}:${randomBytes(32).toString('base64')}`

    beforeAll(async () => {
      directory = mkdtempSync(join(tmpdir(), 'whisperer-cli-'))
      const database = db.kind === 'postgres' ? inject('postgresUrl')! : join(directory, 'data')
      globals = ['--database', database, '--schema', schemaName()]
      const library = await createWhisperer({ ...testDefaults, database, schema: globals[3]!, env: {} })
      try {
        await library.eventTypes.declare({ type: 'order-created' })
        webhooks = []
        for (const target of ['https://example.com/a', 'https://example.com/b']) {
          const created = await library.webhooks.create(
            { owner: 'acme' },
            { eventType: 'order-created', targetUrl: target, secretKey: 'a plain secret' },
          )
          webhooks.push(created.id)
        }
      } finally {
        await library.close()
      }
    }, slow)
    afterEach(() => {
      vi.unstubAllEnvs()
    })
    afterAll(async () => {
      if (db.kind === 'postgres') await db.sql(`DROP SCHEMA IF EXISTS "${globals[3]}" CASCADE`)
      rmSync(directory, { recursive: true, force: true })
    })

    test(
      'hooks rotate-secret prints the new secret once and when the previous key expires',
      async () => {
        const id = String(webhooks[0])
        const before = Date.now()
        const rotated = await whisperer(...globals, 'hooks', 'rotate-secret', id, '--grace-seconds', '3600')
        const after = Date.now()
        expect(rotated.code).toBe(0)
        expect(rotated.stdout).toMatch(/^whsec_[A-Za-z0-9+/]{43}=\n$/)
        const until = new RegExp(
          `^webhook ${id} now signs with a new secret; it is shown only once:\na previous hmac-sha256 key keeps signing until (\\S+)\n$`,
        ).exec(rotated.stderr)?.[1]
        expect(until, rotated.stderr).toBeDefined()
        expect(Date.parse(until!)).toBeGreaterThanOrEqual(before + 3_600_000)
        expect(Date.parse(until!)).toBeLessThanOrEqual(after + 3_600_000)

        const refused = await whisperer(...globals, 'hooks', 'rotate-secret', id, '--grace-seconds', '604801')
        expect(refused).toMatchObject({ code: 1, stdout: '' })
        expect(refused.stderr).toContain('graceSeconds: Must be at most 604800 (7 days).')

        // ed25519, with no grace: receivers get the public key, and the HMAC keys stop at once.
        const asymmetric = await whisperer(
          ...globals,
          'hooks',
          'rotate-secret',
          id,
          '--signature-scheme',
          'ed25519',
          '--grace-seconds',
          '0',
          '--json',
        )
        expect(asymmetric.code).toBe(0)
        expect(JSON.parse(asymmetric.stdout)).toEqual({
          id: Number(id),
          signature_scheme: 'ed25519',
          // As the API shows it: the private key is never shown.
          secret_key: '********',
          public_key: expect.stringMatching(/^whpk_/),
          secret_rotated_at: expect.any(String),
          previous_keys: [],
        })
      },
      slow,
    )

    test(
      'secrets rewrap seals the secrets stored before a key was set; status then counts none pending',
      async () => {
        const noKey = await whisperer(...globals, 'secrets', 'rewrap')
        expect(noKey).toMatchObject({ code: 1, stdout: '' })
        expect(noKey.stderr).toMatch(/^error: No encryption key is configured: set WHISPERER_ENCRYPTION_KEYS/)
        expect(await whisperer(...globals, 'secrets', 'status')).toEqual({
          code: 0,
          stdout:
            'encryption: off: secrets are stored in clear (set WHISPERER_ENCRYPTION_KEYS to encrypt them)\n' +
            'pending: 2 webhooks hold secrets to seal once a key is set\n',
          stderr: '',
        })

        vi.stubEnv('WHISPERER_ENCRYPTION_KEYS', key('k1'))
        const [first, second] = webhooks
        expect(await whisperer(...globals, 'secrets', 'rewrap', '--batch-size', '1')).toEqual({
          code: 0,
          stdout: 'sealed the secrets of 2 webhooks with the key "k1" (2 scanned)\n',
          stderr:
            `scanned 1, rewrapped 1, failed 0; resume with --after-id ${first}\n` +
            `scanned 2, rewrapped 2, failed 0; resume with --after-id ${second}\n` +
            'scanned 2, rewrapped 2, failed 0; done\n',
        })
        const status = await whisperer(...globals, 'secrets', 'status', '--json')
        expect(JSON.parse(status.stdout)).toEqual({
          encrypting: true,
          keys: ['k1'],
          current: 'k1',
          pending: 0,
        })

        // Under another key, the secrets sealed with k1 cannot be opened: each webhook is named, with the key.
        vi.stubEnv('WHISPERER_ENCRYPTION_KEYS', key('k2'))
        const failed = await whisperer(...globals, 'secrets', 'rewrap')
        expect(failed.code).toBe(1)
        expect(failed.stdout).toBe('sealed the secrets of 0 webhooks with the key "k2" (2 scanned)\n')
        for (const id of webhooks) expect(failed.stderr).toMatch(new RegExp(`  webhook ${id}: .*"k1"`))
      },
      slow,
    )
  })
})
