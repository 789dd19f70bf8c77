/**
 * IPv6 forms embedding an IPv4 address (issue 12, third trial): `http://[::127.0.0.1]/`
 * (WHATWG writes it `[::7f00:1]`) was judged public unicast and fetched from loopback. Every
 * form that carries an IPv4 address is judged by that address: mapped, compatible, SIIT,
 * NAT64 (well-known and local-use prefixes), 6to4 and Teredo.
 */

import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import {
  checkAddress,
  classifyAddress,
  embeddedIPv4,
  embeddedIPv4s,
} from '../../src/image/address-policy.js';
import { fetchUrlBytes } from '../../src/image/fetch-url.js';
import { checkWebhookUrl } from '../../src/webhooks/url-guard.js';

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

  it("Teredo: the server's address (bits 32-64) is judged too, not only the client's", () => {
    const client = (8 << 8) | 8; // client 8.8.8.8, inverted in the last 32 bits
    const teredo = (server: string) => {
      const [a, b, c, d] = server.split('.').map(Number) as [number, number, number, number];
      const hex = (n: number) => n.toString(16);
      return `2001:0:${hex((a << 8) | b)}:${hex((c << 8) | d)}:8000:63bf:${hex(client ^ 0xffff)}:${hex(client ^ 0xffff)}`;
    };
    for (const [server, range] of [
      ['127.0.0.1', 'loopback'],
      ['169.254.169.254', 'linkLocal'],
      ['10.1.2.3', 'private'],
      ['100.64.0.1', 'carrierGradeNat'],
    ] as const) {
      const address = teredo(server);
      expect(embeddedIPv4s(ipaddr.parse(address) as ipaddr.IPv6).map(String), address).toEqual([
        '8.8.8.8',
        server,
      ]);
      expect(classifyAddress(address), address).toEqual({ allowed: false, range });
    }
    // Both public: the Teredo range, refused as before; naming the server's network allows it.
    expect(classifyAddress(teredo('65.54.227.120'))).toEqual({ allowed: false, range: 'teredo' });
    expect(checkAddress(teredo('10.20.1.2'), { allowNetworks: ['10.20.0.0/16'] }).allowed).toBe(true);
    // A named network for one embedded address does not let the other, internal, one through.
    expect(checkAddress(teredo('10.1.2.3'), { allowNetworks: ['8.8.8.0/24'] })).toEqual({
      allowed: false,
      range: 'private',
    });
  });

  it('SSRF messages put "an" before a vowel: "an unspecified address", "a loopback address"', async () => {
    for (const [url, phrase] of [
      ['http://0.0.0.0:9/x.png', '0.0.0.0 is an unspecified address'],
      ['http://[::]:9/x.png', ' is an unspecified address'],
      ['http://127.0.0.1:9/x.png', '127.0.0.1 is a loopback address'],
      ['http://[fd00::1]:9/x.png', ' is a uniqueLocal address'],
      ['http://[::808:808]:9/x.png', ' is an ipv4Compatible address'],
    ] as const) {
      await expect(fetchUrlBytes(url), url).rejects.toMatchObject({
        code: 'URL_BLOCKED',
        message: expect.stringContaining(phrase),
      });
    }
    await expect(checkWebhookUrl('http://0.0.0.0/hook', 'webhook', false)).rejects.toThrow(
      '0.0.0.0 is an unspecified address (0.0.0.0)',
    );
  });

  it('a fetch of http://[::127.0.0.1]/ is URL_BLOCKED before connecting', async () => {
    for (const host of ['[::127.0.0.1]', '[::7f00:1]', '[64:ff9b::a9fe:a9fe]', '[2002:7f00:1::1]'])
      await expect(fetchUrlBytes(`http://${host}:9/scan.png`), host).rejects.toMatchObject({
        code: 'URL_BLOCKED',
      });
  });
});
