/**
 * The V8 flags `whisperer` runs with. V8 sizes the young generation by the machine's memory: on a
 * machine with gigabytes to spare it grows to 64 MB per semi-space under load, which a worker or
 * service, allocating short-lived requests and rows, fills at once (about 130 MB more RSS, for no
 * throughput this machine could measure). 4 MB semi-spaces keep a worker near 230 MB under
 * fanout10 instead of 340 MB. The bench runs its workers and services with the same flags.
 */
export const nodeFlags = ['--max-semi-space-size=4']

/**
 * Re-executes this process with {@link nodeFlags} (same pid, same arguments and environment) when
 * it was started without them. An operator's own choice (the flag in `NODE_OPTIONS` or on the
 * command line) is kept, and where `process.execve` is missing (Windows) the process runs as started.
 */
export function relaunchWithNodeFlags(): void {
  const given = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].join(' ')
  if (given.includes('--max-semi-space-size') || typeof process.execve !== 'function') return
  if (process.platform === 'win32') return
  process.execve(
    process.execPath,
    [process.execPath, ...process.execArgv, ...nodeFlags, ...process.argv.slice(1)],
    process.env as Record<string, string>,
  )
}
