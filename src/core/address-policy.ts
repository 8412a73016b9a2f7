import ipaddr from 'ipaddr.js'

/** Which targets Whisperer may connect to. */
export interface AddressPolicy {
  /** Allow every private, loopback and link-local address. @default false */
  allowPrivateTargets: boolean
  /** Host names, addresses or CIDR ranges allowed although private, e.g. `127.0.0.1` or `10.0.0.0/8`. */
  allowedTargets: readonly string[]
}

type Address = ipaddr.IPv4 | ipaddr.IPv6

export interface CompiledAddressPolicy {
  allowPrivate: boolean
  hosts: ReadonlySet<string>
  ranges: readonly [Address, number][]
}

export function compileAddressPolicy(policy: AddressPolicy): CompiledAddressPolicy {
  const hosts = new Set<string>()
  const ranges: [Address, number][] = []
  for (const entry of policy.allowedTargets) {
    const value = entry.trim().toLowerCase()
    const address = parseAddress(stripBrackets(value))
    if (value.includes('/') && ipaddr.isValidCIDR(value)) ranges.push(ipaddr.parseCIDR(value))
    else if (address) ranges.push([address, address.kind() === 'ipv4' ? 32 : 128])
    else hosts.add(value)
  }
  return { allowPrivate: policy.allowPrivateTargets, hosts, ranges }
}

const cidrs = (...ranges: string[]) => ranges.map((range) => ipaddr.parseCIDR(range))

/** IANA's IPv4 Special-Purpose Address Registry, and multicast. */
const ipv4SpecialPurpose = cidrs(
  '0.0.0.0/8', // this network
  '10.0.0.0/8', // private
  '100.64.0.0/10', // shared address space (carrier-grade NAT)
  '127.0.0.0/8', // loopback
  '169.254.0.0/16', // link-local, with the cloud metadata address 169.254.169.254
  '172.16.0.0/12', // private
  '192.0.0.0/24', // IETF protocol assignments
  '192.0.2.0/24', // documentation (TEST-NET-1)
  '192.31.196.0/24', // AS112
  '192.52.193.0/24', // AMT
  '192.88.99.0/24', // 6to4 relay anycast, deprecated
  '192.168.0.0/16', // private
  '192.175.48.0/24', // AS112 direct delegation
  '198.18.0.0/15', // benchmarking
  '198.51.100.0/24', // documentation (TEST-NET-2)
  '203.0.113.0/24', // documentation (TEST-NET-3)
  '224.0.0.0/4', // multicast
  '240.0.0.0/4', // reserved, with the broadcast address 255.255.255.255
)

/** IPv6 global unicast: every other IPv6 block is local, special, deprecated or unassigned. */
const globalUnicast = ipaddr.parseCIDR('2000::/3')

/**
 * IANA's IPv6 Special-Purpose Address Registry, inside global unicast. 2001::/23 holds Teredo,
 * benchmarking, AMT, AS112, ORCHID and anycast services; Teredo and 6to4 are judged by the IPv4
 * addresses they carry before these are checked.
 */
const ipv6SpecialPurpose = cidrs(
  '2001::/23', // IETF protocol assignments
  '2001:db8::/32', // documentation
  '2620:4f:8000::/48', // AS112 direct delegation
  '3fff::/20', // documentation
)

const nat64 = ipaddr.parseCIDR('64:ff9b::/96')

/**
 * Whether an address is globally routable unicast, the only kind Whisperer connects to by default.
 * An IPv4 address must be unicast and outside every special-purpose block. An IPv6 address that
 * carries an IPv4 address to which it is routed (IPv4-mapped, NAT64, 6to4, Teredo) is judged by
 * that address (both of Teredo's); any other must be in 2000::/3 and outside every special-purpose
 * block. IPv4-compatible addresses (`::a.b.c.d`, deprecated) and forms an operating system may read
 * otherwise (octal, hex or short IPv4, zone ids) are refused.
 */
export function isPublicAddress(address: string): boolean {
  const parsed = parseAddress(address)
  if (!parsed) return false
  return parsed.kind() === 'ipv4' ? isPublicIPv4(parsed as ipaddr.IPv4) : isPublicIPv6(parsed as ipaddr.IPv6)
}

function isPublicIPv4(address: ipaddr.IPv4): boolean {
  return address.range() === 'unicast' && !ipv4SpecialPurpose.some((range) => address.match(range))
}

function isPublicIPv6(address: ipaddr.IPv6): boolean {
  const embedded = embeddedIPv4(address)
  if (embedded) return embedded.every(isPublicIPv4)
  return (
    address.match(globalUnicast) &&
    !ipv6SpecialPurpose.some((range) => address.match(range)) &&
    address.range() === 'unicast'
  )
}

/**
 * The IPv4 addresses an IPv6 address is routed to: IPv4-mapped `::ffff:0:0/96` and NAT64
 * `64:ff9b::/96` in the last 32 bits, 6to4 `2002::/16` in bits 16-47, Teredo `2001::/32` its server
 * in bits 32-63 and its client in the last 32 bits inverted. Null for any other address.
 */
export function embeddedIPv4(address: ipaddr.IPv6): ipaddr.IPv4[] | null {
  const p = address.parts
  const ipv4 = (high: number, low: number) => new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff])
  if (address.isIPv4MappedAddress() || address.match(nat64)) return [ipv4(p[6]!, p[7]!)]
  if (p[0] === 0x2002) return [ipv4(p[1]!, p[2]!)]
  if (p[0] === 0x2001 && p[1] === 0) return [ipv4(p[2]!, p[3]!), ipv4(p[6]! ^ 0xffff, p[7]! ^ 0xffff)]
  return null
}

const ipv4Octet = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)'
const ipv4Text = new RegExp(`^(?:${ipv4Octet}\\.){3}${ipv4Octet}$`)

/**
 * An address written as resolvers and the URL parser write them: dotted decimal IPv4, or IPv6 in
 * hex, possibly with a dotted IPv4 tail. Null for anything else. IPv6 is read by the URL parser,
 * because ipaddr.js reads `::a.b.c.d` as `::ffff:a.b.c.d`.
 */
export function parseAddress(text: string): Address | null {
  if (ipv4Text.test(text)) return ipaddr.IPv4.parse(text)
  if (!text.includes(':') || !/^[\da-f:.]+$/i.test(text)) return null
  try {
    return ipaddr.IPv6.parse(new URL(`http://[${text}]/`).hostname.slice(1, -1))
  } catch {
    return null
  }
}

/** Whether the policy lets Whisperer connect to this resolved address. */
export function isAddressAllowed(address: string, policy: CompiledAddressPolicy): boolean {
  if (policy.allowPrivate || isPublicAddress(address)) return true
  const parsed = parseAddress(address)
  if (!parsed) return false
  const judged =
    parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()
      ? (parsed as ipaddr.IPv6).toIPv4Address()
      : parsed
  return policy.ranges.some(([range, bits]) => range.kind() === judged.kind() && judged.match(range, bits))
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
  // ipaddr.js also recognises octal, hex and short IPv4, which isAddressAllowed refuses.
  if (parseAddress(host) || ipaddr.isValid(host))
    return isAddressAllowed(host, policy) ? 'allowed' : 'blocked'
  if (!policy.allowPrivate && (host === 'localhost' || host.endsWith('.localhost'))) return 'blocked'
  return 'resolve'
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host
}
