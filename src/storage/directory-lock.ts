import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { WhispererError } from '../core/errors.ts'

const held = new Set<string>()

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Takes the lock of an embedded database directory: PGlite is one process's database, and a
 * second process opening the same directory would corrupt it. A lock left by a process that died
 * is taken over. Returns the function that releases it.
 */
export function lockDirectory(directory: string): () => void {
  const path = resolve(directory)
  const file = join(path, 'whisperer.lock')
  if (held.has(path)) {
    throw new WhispererError(
      'invalid_options',
      `The embedded database in ${directory} is already open in this process`,
    )
  }
  try {
    writeFileSync(file, String(process.pid), { flag: 'wx' })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    const pid = Number(readFileSync(file, 'utf8').trim())
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
      throw new WhispererError(
        'invalid_options',
        `The embedded database in ${directory} is in use by process ${pid} (a running "whisperer serve"?). ` +
          'PGlite cannot be shared between processes: stop that process, use its REST API, or use PostgreSQL (DATABASE_URL).',
      )
    }
    writeFileSync(file, String(process.pid))
  }
  held.add(path)
  return () => {
    held.delete(path)
    rmSync(file, { force: true })
  }
}
