/**
 * Which network addresses a URL source may reach. By default only public unicast
 * addresses: loopback, private, link-local (cloud metadata at 169.254.169.254),
 * CGNAT, multicast, reserved and IPv6 ranges that embed IPv4 are refused, checked
 * after DNS resolution so a public name pointing at an internal address is refused too.
 * This is what keeps the future service from being used for SSRF.
 */

import type { LookupAddress, LookupAllOptions, LookupOneOptions } from 'node:dns';
import dns from 'node:dns';
import ipaddr from 'ipaddr.js';

export interface AddressVerdict {
  allowed: boolean;
  /** ipaddr.js range name, e.g. `loopback`, `private`, `linkLocal`, `unicast`. */
  range: string;
}

export function classifyAddress(address: string): AddressVerdict {
  if (!ipaddr.isValid(address)) return { allowed: false, range: 'invalid' };
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6') {
    const v6 = parsed as ipaddr.IPv6;
    if (v6.isIPv4MappedAddress()) parsed = v6.toIPv4Address();
  }
  const range = parsed.range();
  return { allowed: range === 'unicast', range };
}

/** Strips the brackets from an IPv6 URL hostname (`[::1]` → `::1`). */
export function unbracket(hostname: string): string {
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}

export class BlockedAddressError extends Error {
  readonly code = 'EADDRBLOCKED';
  constructor(
    readonly hostname: string,
    readonly address: string,
    readonly range: string,
  ) {
    super(`${hostname} resolves to ${address} (${range}), which is not a public address`);
  }
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `dns.lookup`-compatible function for `net.connect` that refuses non-public
 * addresses. All resolved addresses must be public: one internal record among
 * several is enough to refuse (a common DNS-rebinding trick).
 */
export function guardedLookup(
  hostname: string,
  options: LookupOneOptions | LookupAllOptions | number | undefined,
  callback: LookupCallback,
): void {
  const base = typeof options === 'number' ? { family: options } : (options ?? {});
  dns.lookup(hostname, { ...base, all: true }, (error, addresses) => {
    if (error) return callback(error, []);
    for (const { address } of addresses) {
      const verdict = classifyAddress(address);
      if (!verdict.allowed) return callback(new BlockedAddressError(hostname, address, verdict.range), []);
    }
    if ('all' in base && base.all) return callback(null, addresses);
    const first = addresses[0];
    if (!first)
      return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), []);
    callback(null, first.address, first.family);
  });
}
