/**
 * The model hooks rely on Drizzle's internals (builders replayed method by method, `is`,
 * `getTableColumns`, `mapFromDriverValue`), so package.json states the drizzle-orm range they are
 * tested with. This test runs the Drizzle model-hook tests again on the lowest version of that range
 * and on the highest one published, each installed with npm into a directory of its own (the
 * installed devDependency is tested by the rest of the suite). Without the registry it is skipped,
 * and says so.
 */
import { execFile } from 'node:child_process'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { promisify } from 'node:util'
import { expect, inject, test } from 'vitest'

const run = promisify(execFile)
const root = new URL('../../', import.meta.url)
const underTest = process.env.WHISPERER_DRIZZLE_ORM_VERSION
const readJson = async (path: string) => JSON.parse(await readFile(new URL(path, root), 'utf8'))

type Version = [number, number, number]
const parse = (version: string): Version | null => {
  const match = /^(\d+)\.(\d+)\.(\d+)$/.exec(version)
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : null
}
const compare = (a: Version, b: Version) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]

/** The published versions, or null when the registry cannot be reached. */
async function published(): Promise<string[] | null> {
  try {
    const { stdout } = await run('npm', ['view', 'drizzle-orm', 'versions', '--json'], { timeout: 60_000 })
    return JSON.parse(stdout) as string[]
  } catch {
    return null
  }
}

/** drizzle-orm `version` installed under .cache/, once; resolves to its directory. */
async function install(version: string): Promise<string> {
  const prefix = new URL(`.cache/drizzle-orm/${version}/`, root)
  const directory = new URL('node_modules/drizzle-orm/', prefix)
  const installed = await readFile(new URL('package.json', directory), 'utf8').catch(() => null)
  if (installed === null || JSON.parse(installed).version !== version) {
    await mkdir(prefix, { recursive: true })
    await writeFile(new URL('package.json', prefix), '{ "private": true }\n')
    const flags = ['--no-save', '--no-package-lock', '--ignore-scripts', '--no-audit', '--no-fund']
    await run('npm', ['install', `drizzle-orm@${version}`, ...flags], {
      cwd: prefix.pathname,
      timeout: 300_000,
    })
  }
  return directory.pathname
}

/** The Drizzle model-hook tests in a child vitest, with drizzle-orm taken from `directory`. */
async function runTests(version: string, directory: string): Promise<void> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('VITEST')))
  const postgresUrl = inject('postgresUrl')
  const files = ['drizzle.test.ts', 'drizzle-tx.test.ts', 'drizzle-versions.test.ts']
  const vitest = new URL('node_modules/vitest/vitest.mjs', root).pathname
  try {
    // A generous timeout per test: this run checks a version, not speed, and a busy machine's PGlite
    // can take a minute to start.
    const args = ['run', '--testTimeout=300000', ...files.map((file) => `test/model-hooks/${file}`)]
    await run(process.execPath, [vitest, ...args], {
      cwd: root.pathname,
      env: {
        ...env,
        ...(postgresUrl ? { DATABASE_URL: postgresUrl, WHISPERER_REQUIRE_POSTGRES: '1' } : {}),
        WHISPERER_DRIZZLE_ORM: directory,
        WHISPERER_DRIZZLE_ORM_VERSION: version,
      },
      timeout: 600_000,
      maxBuffer: 64 * 1024 * 1024,
    })
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string }
    throw new Error(`the model-hook tests fail on drizzle-orm ${version}:\n${stdout.slice(-6000)}\n${stderr}`)
  }
}

test.runIf(underTest)('the tests import the drizzle-orm under test', async () => {
  const { npmVersion } = (await import('drizzle-orm/version')) as { npmVersion: string }
  expect(npmVersion).toBe(underTest)
})

test.skipIf(underTest)(
  'the model hooks pass their tests on the lowest and the highest drizzle-orm of the stated range',
  async (context) => {
    const { peerDependencies, devDependencies } = await readJson('package.json')
    const range = /^>=(\d+\.\d+\.\d+) <(\d+\.\d+\.\d+)$/.exec(peerDependencies['drizzle-orm'])
    expect(range, 'peerDependencies states drizzle-orm as ">=x.y.z <x.y.z"').not.toBeNull()
    const [lowest, above] = [parse(range![1]!)!, parse(range![2]!)!]
    const { version: installed } = await readJson('node_modules/drizzle-orm/package.json')
    expect(compare(parse(installed)!, lowest) >= 0 && compare(parse(installed)!, above) < 0).toBe(true)
    expect(devDependencies['drizzle-orm']).toBe(`^${installed}`)

    const versions = await published()
    if (versions === null) {
      console.warn('\n!! npm cannot reach the registry: drizzle-orm versions are not tested.\n')
      context.skip()
      return
    }
    const inRange = versions
      .map((version) => ({ version, parsed: parse(version) }))
      .filter(({ parsed }) => parsed && compare(parsed, lowest) >= 0 && compare(parsed, above) < 0)
      .sort((a, b) => compare(a.parsed!, b.parsed!))
    expect(inRange[0]?.version, 'the lowest version of the range is published').toBe(range![1])
    const ends = [...new Set([inRange[0]!.version, inRange.at(-1)!.version])]
    for (const version of ends.filter((version) => version !== installed)) {
      await runTests(version, await install(version))
    }
  },
  900_000,
)
