import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns'
import type { LookupFunction } from 'node:net'
import { type CompiledAddressPolicy, isAddressAllowed } from '../core/address-policy.ts'

/** The error a refused address raises inside a connect; the sender reports it as `blocked`. */
export class BlockedAddressError extends Error {
  readonly code = 'WHISPERER_BLOCKED_ADDRESS'
}

/** Resolves a host name to all its addresses, as `dns.lookup` with `all: true` does. */
export type ResolveAll = (
  hostname: string,
  options: LookupOptions,
  callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void

const resolveWithDns: ResolveAll = (hostname, options, callback) =>
  dnsLookup(hostname, { ...options, all: true }, callback)

/**
 * A DNS lookup for the HTTP agent that refuses every address the policy does not allow after
 * resolution, at connect time, so a name that re-binds to an internal address between validation
 * and delivery is still refused. A name is refused if any address it resolves to is, unless the
 * name itself is allow-listed.
 */
export function guardedLookup(
  policy: CompiledAddressPolicy,
  resolve: ResolveAll = resolveWithDns,
): LookupFunction {
  return ((hostname: string, options: LookupOptions, callback: (...args: unknown[]) => void) => {
    const trusted = policy.hosts.has(hostname.toLowerCase())
    resolve(hostname, options, (error, addresses) => {
      if (error) return callback(error)
      const refused = trusted
        ? undefined
        : addresses.find((entry) => !isAddressAllowed(entry.address, policy))
      if (refused) {
        return callback(
          new BlockedAddressError(`${hostname} resolves to ${refused.address}, which is not allowed`),
        )
      }
      if (options.all) return callback(null, addresses)
      const first = addresses[0]!
      callback(null, first.address, first.family)
    })
  }) as LookupFunction
}
