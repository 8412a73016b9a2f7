import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { expect, test } from 'vitest'
import { nodeFlags } from '../../src/cli/node-flags.ts'

const cli = new URL('../../src/cli/bin.ts', import.meta.url).pathname
const run = promisify(execFile)
// Loaded before the CLI in every process image: says which flags and pid it runs with.
const probe = `data:text/javascript,console.log(JSON.stringify({ pid: process.pid, flags: process.execArgv.filter((a) => !a.startsWith('--import') && !a.startsWith('data:')) }))`

async function starts(env: Record<string, string> = {}) {
  const { stdout } = await run(process.execPath, ['--import', probe, cli, '--version'], {
    env: { ...process.env, NODE_OPTIONS: '', ...env },
  })
  const lines = stdout.trim().split('\n')
  return { images: lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line)), lines }
}

test('the CLI relaunches itself, same pid, with its V8 flags, before loading anything', async () => {
  const { images, lines } = await starts()
  expect(images).toHaveLength(2)
  expect(images[0].flags).toEqual([])
  expect(images[1]).toEqual({ pid: images[0].pid, flags: nodeFlags })
  expect(lines.at(-1)).toMatch(/^\d+\.\d+\.\d+/)
})

test("an operator's own young generation size is kept: no relaunch", async () => {
  const { images } = await starts({ NODE_OPTIONS: '--max-semi-space-size=16' })
  expect(images).toHaveLength(1)
  expect(images[0].flags).toEqual([])
})
