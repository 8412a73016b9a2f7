import { existsSync } from 'node:fs'
import { type Browser, chromium } from 'playwright-core'

/** Where Chromium is: CHROMIUM_PATH when set, otherwise Debian's package (`apt-get install chromium`). */
export function chromiumPath(env: NodeJS.ProcessEnv = process.env): string | null {
  const candidates = env.CHROMIUM_PATH
    ? [env.CHROMIUM_PATH]
    : ['/usr/bin/chromium', '/usr/bin/chromium-browser']
  return candidates.find((path) => existsSync(path)) ?? null
}

/**
 * Whether the browser tests can run. Without Chromium they are skipped, and say so; with
 * WHISPERER_REQUIRE_BROWSER=1 (CI) a missing Chromium is an error instead.
 */
export function browserAvailable(env: NodeJS.ProcessEnv = process.env): boolean {
  if (chromiumPath(env)) return true
  if (env.WHISPERER_REQUIRE_BROWSER === '1') {
    throw new Error('WHISPERER_REQUIRE_BROWSER=1 but Chromium was not found: apt-get install chromium')
  }
  console.warn(
    '\n!! Chromium not found (apt-get install chromium, or set CHROMIUM_PATH): the dashboard browser tests are SKIPPED.\n',
  )
  return false
}

/** Headless Chromium, with nothing fetched from the network behind the tests' back. */
export function launchBrowser(): Promise<Browser> {
  const executablePath = chromiumPath()
  if (!executablePath)
    throw new Error('Chromium was not found: apt-get install chromium, or set CHROMIUM_PATH')
  return chromium.launch({
    executablePath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    timeout: 30_000,
  })
}
