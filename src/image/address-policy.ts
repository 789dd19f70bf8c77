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

/** Resolves a host name to every address it has (dns.lookup with `all: true` by default). */
export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

export const systemResolver: Resolver = (hostname) => dns.promises.lookup(hostname, { all: true });

/**
 * Which addresses a URL fetch may reach: public unicast always; the ranges in
 * `allowNetworks` (CIDR, e.g. `10.20.0.0/16` for one intranet image host) too; and every
 * address when `allowPrivate` is set. `resolve` replaces DNS (tests make a loopback test
 * server a public name this way; a deployment may pin names).
 */
export interface AddressPolicy {
  allowPrivate?: boolean;
  allowNetworks?: readonly string[];
  resolve?: Resolver;
}

/** Parsed CIDR ranges; a bad one is an INVALID_OPTION-worthy Error naming it. */
export function parseNetworks(networks: readonly string[] = []): Array<[ipaddr.IPv4 | ipaddr.IPv6, number]> {
  return networks.map((cidr) => {
    try {
      return ipaddr.parseCIDR(
        cidr.includes('/') ? cidr : `${cidr}/${ipaddr.parse(cidr).kind() === 'ipv4' ? 32 : 128}`,
      );
    } catch {
      throw new Error(`"${cidr}" is not an address or CIDR range (e.g. 10.0.0.0/8, 192.168.1.20)`);
    }
  });
}

/** Whether the policy lets a connection reach `address`, and the range it is in. */
export function checkAddress(address: string, policy: AddressPolicy = {}): AddressVerdict {
  const verdict = classifyAddress(address);
  if (verdict.allowed || policy.allowPrivate) return { allowed: true, range: verdict.range };
  if (verdict.range === 'invalid') return verdict;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress())
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  for (const [network, bits] of parseNetworks(policy.allowNetworks)) {
    if (network.kind() === parsed.kind() && parsed.match(network, bits))
      return { allowed: true, range: verdict.range };
  }
  return verdict;
}

/**
 * Resolves `hostname` and checks EVERY answer: one internal address among public ones is
 * enough to refuse (a common DNS-rebinding trick), whatever its position in the answer.
 */
export async function resolveChecked(hostname: string, policy: AddressPolicy = {}): Promise<LookupAddress[]> {
  const addresses = await (policy.resolve ?? systemResolver)(hostname);
  if (addresses.length === 0)
    throw Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' });
  for (const { address } of addresses) {
    const verdict = checkAddress(address, policy);
    if (!verdict.allowed) throw new BlockedAddressError(hostname, address, verdict.range);
  }
  return addresses;
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `dns.lookup`-compatible function for `net.connect` that resolves through the policy's
 * resolver and refuses non-public addresses. The connection goes to the address that was
 * checked: there is no second lookup to rebind between the check and the connect.
 */
export function guardedLookupFor(policy: AddressPolicy) {
  return (
    hostname: string,
    options: LookupOneOptions | LookupAllOptions | number | undefined,
    callback: LookupCallback,
  ): void => {
    const base = typeof options === 'number' ? { family: options } : (options ?? {});
    resolveChecked(hostname, policy).then(
      (addresses) => {
        if ('all' in base && base.all) return callback(null, addresses);
        const first = addresses[0] as LookupAddress;
        callback(null, first.address, first.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, []),
    );
  };
}

/** The default policy's lookup: system DNS, public addresses only. */
export const guardedLookup = guardedLookupFor({});
