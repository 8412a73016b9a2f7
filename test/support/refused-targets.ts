/**
 * Targets the default address policy refuses, at create time and at connect time. `address` is
 * what a host name resolving to the target would return from `dns.lookup` (libuv writes an
 * IPv4-compatible address with a dotted tail, as `::127.0.0.1`).
 */
export interface RefusedTarget {
  label: string
  url: string
  address: string
}

const target = (label: string, url: string, address: string): RefusedTarget => ({ label, url, address })

export const refusedTargets: readonly RefusedTarget[] = [
  // IPv4 loopback, unspecified and cloud metadata, also written in decimal, octal and hex
  target('loopback', 'http://127.0.0.1/', '127.0.0.1'),
  target('loopback, top of 127/8', 'http://127.255.255.254:8080/', '127.255.255.254'),
  target('loopback in decimal', 'http://2130706433/', '127.0.0.1'),
  target('loopback in octal', 'http://0177.0.0.1/', '127.0.0.1'),
  target('loopback in hex, two parts', 'http://0x7f.1/', '127.0.0.1'),
  target('loopback in hex, one part', 'http://0x7f000001/', '127.0.0.1'),
  target('loopback in octal, one part', 'http://017700000001/', '127.0.0.1'),
  target('loopback, short form', 'http://127.1/', '127.0.0.1'),
  target('unspecified', 'http://0.0.0.0/', '0.0.0.0'),
  target('unspecified as 0', 'http://0/', '0.0.0.0'),
  target('this network', 'http://0.1.2.3/', '0.1.2.3'),
  target('cloud metadata', 'http://169.254.169.254/latest/meta-data/', '169.254.169.254'),
  target('cloud metadata in decimal', 'http://2852039166/', '169.254.169.254'),
  target('cloud metadata in hex', 'http://0xa9fea9fe/', '169.254.169.254'),
  // IPv4 private, shared (CGNAT) and special-purpose blocks
  target('private 10/8', 'http://10.0.0.1/', '10.0.0.1'),
  target('private 10/8 in octal', 'http://012.0.0.1/', '10.0.0.1'),
  target('private 172.16/12', 'http://172.16.0.1/', '172.16.0.1'),
  target('private 172.16/12, top', 'http://172.31.255.254/', '172.31.255.254'),
  target('private 192.168/16', 'http://192.168.1.1/', '192.168.1.1'),
  target('CGNAT 100.64/10', 'http://100.64.0.1/', '100.64.0.1'),
  target('CGNAT 100.64/10, top', 'http://100.127.255.254/', '100.127.255.254'),
  target('IETF protocol assignments 192.0.0/24', 'http://192.0.0.8/', '192.0.0.8'),
  target('NAT64 discovery 192.0.0.170', 'http://192.0.0.170/', '192.0.0.170'),
  target('documentation TEST-NET-1', 'http://192.0.2.1/', '192.0.2.1'),
  target('documentation TEST-NET-2', 'http://198.51.100.7/', '198.51.100.7'),
  target('documentation TEST-NET-3', 'http://203.0.113.9/', '203.0.113.9'),
  target('benchmarking 198.18/15', 'http://198.18.0.1/', '198.18.0.1'),
  target('benchmarking 198.18/15, top', 'http://198.19.255.254/', '198.19.255.254'),
  target('deprecated 6to4 relay anycast', 'http://192.88.99.1/', '192.88.99.1'),
  target('AS112', 'http://192.31.196.1/', '192.31.196.1'),
  target('AS112 direct delegation', 'http://192.175.48.1/', '192.175.48.1'),
  target('AMT', 'http://192.52.193.1/', '192.52.193.1'),
  target('multicast', 'http://224.0.0.1/', '224.0.0.1'),
  target('multicast SSDP', 'http://239.255.255.250/', '239.255.255.250'),
  target('multicast documentation', 'http://233.252.0.1/', '233.252.0.1'),
  target('reserved 240/4', 'http://240.0.0.1/', '240.0.0.1'),
  target('broadcast', 'http://255.255.255.255/', '255.255.255.255'),
  target('broadcast in hex', 'http://0xffffffff/', '255.255.255.255'),
  // IPv6 outside global unicast, and special-purpose blocks inside it
  target('IPv6 loopback', 'http://[::1]/', '::1'),
  target('IPv6 unspecified', 'http://[::]/', '::'),
  target('IPv6 link-local', 'http://[fe80::1]/', 'fe80::1'),
  target('IPv6 unique local', 'http://[fc00::1]/', 'fc00::1'),
  target('IPv6 cloud metadata', 'http://[fd00:ec2::254]/', 'fd00:ec2::254'),
  target('IPv6 deprecated site-local', 'http://[fec0::1]/', 'fec0::1'),
  target('IPv6 multicast link scope', 'http://[ff02::1]/', 'ff02::1'),
  target('IPv6 multicast global scope', 'http://[ff0e::1]/', 'ff0e::1'),
  target('IPv6 discard-only', 'http://[100::1]/', '100::1'),
  target('IPv6 segment routing', 'http://[5f00::1]/', '5f00::1'),
  target('IPv6 unassigned, outside 2000::/3', 'http://[4000::1]/', '4000::1'),
  target('IPv6 documentation 2001:db8::/32', 'http://[2001:db8::1]/', '2001:db8::1'),
  target('IPv6 documentation 3fff::/20', 'http://[3fff::1]/', '3fff::1'),
  target('IPv6 benchmarking', 'http://[2001:2::1]/', '2001:2::1'),
  target('IPv6 ORCHIDv2', 'http://[2001:20::1]/', '2001:20::1'),
  target('IPv6 IETF protocol assignment (PCP anycast)', 'http://[2001:1::1]/', '2001:1::1'),
  target('IPv6 AS112 direct delegation', 'http://[2620:4f:8000::1]/', '2620:4f:8000::1'),
  // IPv4-compatible ::/96 (deprecated): refused whatever it embeds
  target('IPv4-compatible loopback', 'http://[::127.0.0.1]/', '::127.0.0.1'),
  target('IPv4-compatible loopback in hex', 'http://[::7f00:1]/', '::127.0.0.1'),
  target('IPv4-compatible cloud metadata', 'http://[::169.254.169.254]/', '::169.254.169.254'),
  target('IPv4-compatible private', 'http://[::10.0.0.1]/', '::10.0.0.1'),
  target('IPv4-compatible public (deprecated)', 'http://[::8.8.8.8]/', '::8.8.8.8'),
  // IPv4-mapped ::ffff:0:0/96 and IPv4-translated ::ffff:0:0:0/96
  target('IPv4-mapped loopback', 'http://[::ffff:127.0.0.1]/', '::ffff:127.0.0.1'),
  target('IPv4-mapped cloud metadata in hex', 'http://[::ffff:a9fe:a9fe]/', '::ffff:169.254.169.254'),
  target('IPv4-mapped private', 'http://[::ffff:10.0.0.1]/', '::ffff:10.0.0.1'),
  target('IPv4-mapped CGNAT', 'http://[::ffff:100.64.0.1]/', '::ffff:100.64.0.1'),
  target('IPv4-mapped benchmarking', 'http://[::ffff:198.18.0.1]/', '::ffff:198.18.0.1'),
  target('IPv4-mapped multicast', 'http://[::ffff:224.0.0.1]/', '::ffff:224.0.0.1'),
  target('IPv4-translated loopback', 'http://[::ffff:0:127.0.0.1]/', '::ffff:0:7f00:1'),
  // NAT64 64:ff9b::/96, and the local-use NAT64 prefix 64:ff9b:1::/48
  target('NAT64 loopback', 'http://[64:ff9b::127.0.0.1]/', '64:ff9b::7f00:1'),
  target('NAT64 cloud metadata', 'http://[64:ff9b::a9fe:a9fe]/', '64:ff9b::a9fe:a9fe'),
  target('NAT64 private', 'http://[64:ff9b::10.0.0.1]/', '64:ff9b::a00:1'),
  target('NAT64 documentation', 'http://[64:ff9b::198.51.100.7]/', '64:ff9b::c633:6407'),
  target('NAT64 broadcast', 'http://[64:ff9b::255.255.255.255]/', '64:ff9b::ffff:ffff'),
  target('local-use NAT64', 'http://[64:ff9b:1::808:808]/', '64:ff9b:1::808:808'),
  // 6to4 2002::/16: the IPv4 address is bits 16-47
  target('6to4 loopback', 'http://[2002:7f00:1::1]/', '2002:7f00:1::1'),
  target('6to4 cloud metadata', 'http://[2002:a9fe:a9fe::1]/', '2002:a9fe:a9fe::1'),
  target('6to4 private', 'http://[2002:c0a8:101::1]/', '2002:c0a8:101::1'),
  target('6to4 CGNAT', 'http://[2002:6440:1::1]/', '2002:6440:1::1'),
  target('6to4 unspecified', 'http://[2002::1]/', '2002::1'),
  // Teredo 2001::/32: the server is bits 32-63, the client the last 32 bits inverted
  target(
    'Teredo, client loopback',
    'http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/',
    '2001:0:4136:e378:8000:63bf:80ff:fffe',
  ),
  target(
    'Teredo, client cloud metadata',
    'http://[2001:0:4136:e378:8000:63bf:5601:5601]/',
    '2001:0:4136:e378:8000:63bf:5601:5601',
  ),
  target(
    'Teredo, client private',
    'http://[2001:0:4136:e378:8000:63bf:3f57:fefe]/',
    '2001:0:4136:e378:8000:63bf:3f57:fefe',
  ),
  target(
    'Teredo, server private',
    'http://[2001:0:a00:1:8000:63bf:f7f7:f7f7]/',
    '2001:0:a00:1:8000:63bf:f7f7:f7f7',
  ),
  target('Teredo, server loopback', 'http://[2001:0:7f00:1::f7f7:f7f7]/', '2001:0:7f00:1::f7f7:f7f7'),
]

/** Addresses the default policy allows, among them every embedded-IPv4 form of a public address. */
export const publicAddresses: readonly string[] = [
  '8.8.8.8',
  '1.1.1.1',
  '93.184.216.34',
  '172.32.0.1',
  '100.128.0.1',
  '198.20.0.1',
  '192.0.1.1',
  '223.255.255.254',
  '2606:4700:4700::1111',
  '2a00:1450:4001:82a::200e',
  '::ffff:8.8.8.8',
  '64:ff9b::808:808',
  '64:ff9b::8.8.8.8',
  '2002:808:808::1',
  '2001:0:4136:e378:8000:63bf:f7f7:f7f7',
]
