/**
 * IPv6 forms embedding an IPv4 address (issue 12, third trial): `http://[::127.0.0.1]/`
 * (WHATWG writes it `[::7f00:1]`) was judged public unicast and fetched from loopback. Every
 * form that carries an IPv4 address is judged by that address: mapped, compatible, SIIT,
 * NAT64 (well-known and local-use prefixes), 6to4 and Teredo.
 */

import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import { checkAddress, classifyAddress, embeddedIPv4 } from '../../src/image/address-policy.js';
import { fetchUrlBytes } from '../../src/image/fetch-url.js';

/** Every spelling of `v4` inside IPv6, as `new URL` writes it. */
function spellings(v4: string): string[] {
  const [a, b, c, d] = v4.split('.').map(Number) as [number, number, number, number];
  const hi = ((a << 8) | b).toString(16);
  const lo = ((c << 8) | d).toString(16);
  const inv = (n: number) => (n ^ 0xffff).toString(16);
  return [
    `::ffff:${v4}`,
    `::${v4}`,
    `::ffff:0:${v4}`,
    `64:ff9b::${v4}`,
    `64:ff9b:1::${v4}`,
    `2002:${hi}:${lo}::1`,
    `2001:0:4136:e378:8000:63bf:${inv((a << 8) | b)}:${inv((c << 8) | d)}`,
  ].map((text) => new URL(`http://[${text}]/`).hostname.slice(1, -1));
}

describe('IPv6 forms embedding an IPv4 address', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['169.254.169.254', 'linkLocal'],
    ['10.1.2.3', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['0.1.2.3', 'unspecified'],
  ])('every form carrying %s is refused as %s', (v4, range) => {
    for (const address of spellings(v4)) {
      expect(embeddedIPv4(ipaddr.parse(address) as ipaddr.IPv6)?.toString(), address).toBe(v4);
      expect(classifyAddress(address), address).toEqual({ allowed: false, range });
    }
  });

  it('with a public address inside, only the mapped form is allowed; an allowed network matches every form', () => {
    const [mapped, ...others] = spellings('8.8.8.8');
    expect(classifyAddress(mapped!)).toEqual({ allowed: true, range: 'unicast' });
    for (const address of others) expect(classifyAddress(address).allowed, address).toBe(false);
    expect(classifyAddress('::808:808').range).toBe('ipv4Compatible');
    for (const address of spellings('10.20.1.2'))
      expect(checkAddress(address, { allowNetworks: ['10.20.0.0/16'] }).allowed, address).toBe(true);
    // Not embeddings: the IPv6 loopback and unspecified keep their ranges; a public IPv6 is public.
    expect(classifyAddress('::1')).toEqual({ allowed: false, range: 'loopback' });
    expect(classifyAddress('::')).toEqual({ allowed: false, range: 'unspecified' });
    expect(classifyAddress('2606:4700:4700::1111')).toEqual({ allowed: true, range: 'unicast' });
  });

  it('a fetch of http://[::127.0.0.1]/ is URL_BLOCKED before connecting', async () => {
    for (const host of ['[::127.0.0.1]', '[::7f00:1]', '[64:ff9b::a9fe:a9fe]', '[2002:7f00:1::1]'])
      await expect(fetchUrlBytes(`http://${host}:9/scan.png`), host).rejects.toMatchObject({
        code: 'URL_BLOCKED',
      });
  });
});
