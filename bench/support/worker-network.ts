/**
 * Network namespaces for the worker processes of the multi-worker runs, so that each worker has a
 * network stack of its own, as on a machine of its own. A namespace only has its own loopback, so
 * each is connected to the root namespace by a veth pair on one bridge: the bridge holds the host
 * address (`10.213.N.1/24`), on which the receiver and the bench's PostgreSQL also listen, and
 * worker i gets `10.213.N.(10 + i)`. Creating namespaces takes root and `ip` (iproute2); without
 * them, or on any failure, the bench says why and runs the workers in its own namespace.
 */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readlinkSync } from 'node:fs'
import { networkInterfaces } from 'node:os'

/** What the runner needs to place workers in the namespaces. */
export interface WorkerNetworkInfo {
  /** The bridge's address in the root namespace: the receiver and PostgreSQL listen on it too. */
  host: string
  /** The bridge's network, allowed as a webhook target. */
  cidr: string
  /** One namespace per worker, by index (`ip netns exec <name> …`). */
  namespaces: string[]
}

export interface WorkerNetwork extends WorkerNetworkInfo {
  /** Deletes the namespaces (their veth ends go with them) and the bridge; safe to call twice. */
  remove(): void
}

/** This process's network namespace (`net:[inode]`), or null where there is no /proc. */
export function networkNamespace(): string | null {
  try {
    return readlinkSync('/proc/self/ns/net')
  } catch {
    return null
  }
}

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] })

/** A /24 in 10.213.0.0/16 that no interface of this machine uses. */
function freeSubnet(): number | null {
  const used = new Set(
    Object.values(networkInterfaces())
      .flat()
      .map((address) => address?.address ?? ''),
  )
  for (let tries = 0; tries < 20; tries += 1) {
    const n = randomBytes(1)[0]!
    if (![...used].some((address) => address.startsWith(`10.213.${n}.`))) return n
  }
  return null
}

/** Creates `count` namespaces on a fresh bridge, or says why it could not. */
export function createWorkerNetwork(count: number): WorkerNetwork | { unavailable: string } {
  if (process.platform !== 'linux') return { unavailable: 'network namespaces are Linux only' }
  if (process.getuid?.() !== 0) return { unavailable: 'creating network namespaces takes root' }
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' })
  } catch {
    return { unavailable: '`ip` (iproute2) is not installed' }
  }
  const subnet = freeSubnet()
  if (subnet === null) return { unavailable: 'no free 10.213.N.0/24 subnet' }
  const id = randomBytes(3).toString('hex')
  const bridge = `wb${id}`
  const host = `10.213.${subnet}.1`
  const namespaces: string[] = []
  let removed = false
  const remove = () => {
    if (removed) return
    removed = true
    for (const ns of namespaces) {
      try {
        ip('netns', 'del', ns)
      } catch {}
    }
    try {
      ip('link', 'del', bridge)
    } catch {}
  }
  try {
    ip('link', 'add', bridge, 'type', 'bridge')
    ip('addr', 'add', `${host}/24`, 'dev', bridge)
    ip('link', 'set', bridge, 'up')
    for (let i = 0; i < count; i += 1) {
      const ns = `whisperer-bench-${id}-${i}`
      ip('netns', 'add', ns)
      namespaces.push(ns)
      const veth = `wb${id}v${i}`
      ip('link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns)
      ip('link', 'set', veth, 'master', bridge, 'up')
      ip('-n', ns, 'addr', 'add', `10.213.${subnet}.${10 + i}/24`, 'dev', 'eth0')
      ip('-n', ns, 'link', 'set', 'eth0', 'up')
      ip('-n', ns, 'link', 'set', 'lo', 'up')
    }
  } catch (error) {
    remove()
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim()
    return { unavailable: `setting up the namespaces failed: ${stderr || (error as Error).message}` }
  }
  return { host, cidr: `10.213.${subnet}.0/24`, namespaces, remove }
}
