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

/**
 * The IPv4 address an IPv6 address carries, by the form that embeds it, or `undefined`:
 * IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible `::a.b.c.d` (deprecated; WHATWG URLs write
 * `[::127.0.0.1]` as `[::7f00:1]`), SIIT `::ffff:0:a.b.c.d` (RFC 6145), NAT64 `64:ff9b::/96`
 * and the local-use `64:ff9b:1::/48` (RFC 6052, 8215: the address in the last 32 bits),
 * 6to4 `2002:AABB:CCDD::/16` (bits 16-48) and Teredo `2001:0::/32` (the client's address,
 * inverted, in the last 32 bits; its server's is in `embeddedIPv4s`). `::` and `::1` are
 * not embeddings (their own ranges).
 */
export function embeddedIPv4(v6: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  const p = v6.parts;
  const v4 = (high: number, low: number) => new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
  const zero = (from: number, to: number) => p.slice(from, to).every((part) => part === 0);
  if (zero(0, 5) && p[5] === 0xffff) return v4(p[6]!, p[7]!); // mapped
  if (zero(0, 6) && (p[6] !== 0 || p[7]! > 1)) return v4(p[6]!, p[7]!); // compatible
  if (zero(0, 4) && p[4] === 0xffff && p[5] === 0) return v4(p[6]!, p[7]!); // SIIT
  if (p[0] === 0x64 && p[1] === 0xff9b && (p[2] === 0 || p[2] === 1)) return v4(p[6]!, p[7]!); // NAT64
  if (p[0] === 0x2002) return v4(p[1]!, p[2]!); // 6to4
  if (p[0] === 0x2001 && p[1] === 0) return v4(p[6]! ^ 0xffff, p[7]! ^ 0xffff); // Teredo client
  return undefined;
}

/**
 * Every IPv4 address an IPv6 address carries: `embeddedIPv4`'s, and for Teredo
 * (`2001:0:SSSS:SSSS:flags:port:CCCC:CCCC`, RFC 4380 §4) the server's address in bits
 * 32-64 as well, not inverted. Empty when it embeds none.
 */
export function embeddedIPv4s(v6: ipaddr.IPv6): ipaddr.IPv4[] {
  const first = embeddedIPv4(v6);
  if (first === undefined) return [];
  const p = v6.parts;
  if (p[0] === 0x2001 && p[1] === 0)
    return [first, new ipaddr.IPv4([p[2]! >> 8, p[2]! & 0xff, p[3]! >> 8, p[3]! & 0xff])];
  return [first];
}

/**
 * Whether `address` is public unicast, and its range. An IPv6 form embedding an IPv4 address
 * (`embeddedIPv4`) is judged by that address first: `[::7f00:1]`, `[64:ff9b::a9fe:a9fe]` or
 * `[2002:c0a8:101::]` reach loopback, cloud metadata or a private host and are refused with
 * the IPv4 range (`loopback`, `linkLocal`, `private`); with a public IPv4 inside, only the
 * mapped form is allowed (the others keep their own IPv6 range: `ipv4Compatible`, `rfc6052`,
 * `6to4`, `teredo`, `rfc6145`).
 */
export function classifyAddress(address: string): AddressVerdict {
  if (!ipaddr.isValid(address)) return { allowed: false, range: 'invalid' };
  const parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv4') {
    const range = parsed.range();
    return { allowed: range === 'unicast', range };
  }
  const v6 = parsed as ipaddr.IPv6;
  const inner = embeddedIPv4s(v6);
  if (inner.length === 0) {
    const range = v6.range();
    return { allowed: range === 'unicast', range };
  }
  // Every address carried (a Teredo address carries its server's and its client's).
  const innerRange = inner.map((v4) => v4.range()).find((range) => range !== 'unicast');
  if (innerRange !== undefined) return { allowed: false, range: innerRange };
  if (v6.isIPv4MappedAddress()) return { allowed: true, range: 'unicast' };
  const range = v6.range();
  return { allowed: false, range: range === 'unicast' ? 'ipv4Compatible' : range };
}

/** Strips the brackets from an IPv6 URL hostname (`[::1]` → `::1`). */
export function unbracket(hostname: string): string {
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}

/**
 * Whether a URL host (or a bare host, with or without IPv6 brackets) is this machine's
 * loopback, judged by the address it spells, as `classifyAddress` judges it: `localhost`
 * (any case, with or without the trailing dot of a fully qualified name), and every
 * spelling of an address in `127.0.0.0/8` or `::1`: decimal, octal and hex IPv4
 * (`2130706433`, `0177.0.0.1`, `0x7f000001`, `127.1`), IPv4-mapped IPv6
 * (`[::ffff:127.0.0.1]`, which a dual-stack socket connects to 127.0.0.1). Other IPv6
 * forms embedding 127.x (IPv4-compatible, NAT64, 6to4, Teredo) are refused by the SSRF guard
 * as loopback, but do not reach this machine's loopback when connected to: not loopback
 * here, so a setting naming them is not taken for a local one.
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = unbracket(hostname.trim()).toLowerCase().replace(/\.$/, '');
  if (host === 'localhost') return true;
  if (!ipaddr.isValid(host) || classifyAddress(host).range !== 'loopback') return false;
  const parsed = ipaddr.parse(host);
  if (parsed.kind() === 'ipv4') return true;
  // `::1` itself (no IPv4 inside), or 127.x mapped; not the forms routed elsewhere.
  const v6 = parsed as ipaddr.IPv6;
  return v6.isIPv4MappedAddress() || embeddedIPv4s(v6).length === 0;
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
  const parsed = ipaddr.parse(address);
  const networks = parseNetworks(policy.allowNetworks);
  const named = (one: ipaddr.IPv4 | ipaddr.IPv6) =>
    networks.some(([network, bits]) => network.kind() === one.kind() && one.match(network, bits));
  // An IPv6 form embedding IPv4 addresses matches the IPv4 ranges named (`10.20.0.0/16`):
  // allowed when one of them is named and each other one is named or public (Teredo's two).
  const inner = parsed.kind() === 'ipv6' ? embeddedIPv4s(parsed as ipaddr.IPv6) : [];
  const allowed =
    inner.length === 0
      ? named(parsed)
      : inner.some(named) && inner.every((v4) => named(v4) || v4.range() === 'unicast');
  return allowed ? { allowed: true, range: verdict.range } : verdict;
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
