import ipaddr from 'ipaddr.js'

/** Which targets Whisperer may connect to. */
export interface AddressPolicy {
  /** Allow every private, loopback and link-local address. @default false */
  allowPrivateTargets: boolean
  /** Host names, addresses or CIDR ranges allowed although private, e.g. `127.0.0.1` or `10.0.0.0/8`. */
  allowedTargets: readonly string[]
}

export interface CompiledAddressPolicy {
  allowPrivate: boolean
  hosts: ReadonlySet<string>
  ranges: readonly [ipaddr.IPv4 | ipaddr.IPv6, number][]
}

export function compileAddressPolicy(policy: AddressPolicy): CompiledAddressPolicy {
  const hosts = new Set<string>()
  const ranges: [ipaddr.IPv4 | ipaddr.IPv6, number][] = []
  for (const entry of policy.allowedTargets) {
    const value = entry.trim().toLowerCase()
    if (value.includes('/') && ipaddr.isValidCIDR(value)) ranges.push(ipaddr.parseCIDR(value))
    else if (ipaddr.isValid(stripBrackets(value))) {
      const address = ipaddr.parse(stripBrackets(value))
      ranges.push([address, address.kind() === 'ipv4' ? 32 : 128])
    } else hosts.add(value)
  }
  return { allowPrivate: policy.allowPrivateTargets, hosts, ranges }
}

/** 198.18.0.0/15 (benchmarking) is missing from ipaddr.js's IPv4 ranges. */
const benchmarking = ipaddr.parseCIDR('198.18.0.0/15')

/**
 * Whether an address is publicly routable: not private, loopback, link-local (cloud metadata),
 * carrier-grade NAT, multicast, reserved or unspecified. IPv4-mapped IPv6 is judged as IPv4.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false
  let parsed = ipaddr.parse(address)
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address()
  }
  if (parsed.kind() === 'ipv4' && (parsed as ipaddr.IPv4).match(benchmarking as [ipaddr.IPv4, number]))
    return false
  return parsed.range() === 'unicast'
}

/** Whether the policy lets Whisperer connect to this resolved address. */
export function isAddressAllowed(address: string, policy: CompiledAddressPolicy): boolean {
  if (policy.allowPrivate || isPublicAddress(address)) return true
  if (!ipaddr.isValid(address)) return false
  const parsed = ipaddr.process(address)
  return policy.ranges.some(([range, bits]) => range.kind() === parsed.kind() && parsed.match(range, bits))
}

/**
 * The verdict on a URL's host before any DNS lookup: an allow-listed name or an allowed literal
 * address passes, a refused literal address or `localhost` is blocked, and any other name must be
 * checked on each address it resolves to.
 */
export function judgeHost(
  hostname: string,
  policy: CompiledAddressPolicy,
): 'allowed' | 'blocked' | 'resolve' {
  const host = stripBrackets(hostname.toLowerCase()).replace(/\.$/, '')
  if (policy.hosts.has(host)) return 'allowed'
  if (ipaddr.isValid(host)) return isAddressAllowed(host, policy) ? 'allowed' : 'blocked'
  if (!policy.allowPrivate && (host === 'localhost' || host.endsWith('.localhost'))) return 'blocked'
  return 'resolve'
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host
}
