import ipaddr from 'ipaddr.js';

const descriptions: Record<string, string> = {
  loopback: 'a loopback address',
  private: 'a private address',
  uniqueLocal: 'a private address',
  linkLocal: 'a link-local address',
  carrierGradeNat: 'a shared (carrier-grade NAT) address',
  unspecified: 'an unspecified address',
  multicast: 'a multicast address',
  broadcast: 'a broadcast address',
};

/**
 * Why an IP address must not be fetched from the server side, or undefined when it is an
 * ordinary public address. Only ipaddr.js's 'unicast' range passes: loopback, private,
 * link-local (169.254.169.254 is the cloud metadata service), CGNAT, multicast, reserved,
 * documentation, and the IPv6 forms that embed or translate IPv4 (6to4, Teredo, NAT64) are all
 * refused. IPv4-mapped IPv6 (::ffff:a.b.c.d) is judged as the IPv4 address it is.
 */
export function nonPublicAddressReason(address: string): string | undefined {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.process(address);
  } catch {
    return 'an address that is not valid';
  }
  const range = parsed.range();
  if (range === 'unicast') return undefined;
  return descriptions[range] ?? 'a reserved address';
}
