/**
 * "Is this host this machine?" judged by the address, not by its spelling (issue 12, low):
 * an implicit config's `alertWebhook` (and every other destination setting) was refused for
 * `http://[::ffff:127.0.0.1]/` and `http://LOCALHOST./` while `http://0x7f000001/` passed as
 * loopback. Every spelling of a loopback address is now local, and every spelling of a
 * private, link-local or public one is not, the same for a URL setting, a bare listen
 * address, and a provider endpoint that may go without an API key.
 */
import { describe, expect, it } from 'vitest';
import { checkImplicitConfig, remoteHostOf } from '../../src/config/implicit.js';
import { classifyAddress, isLoopbackHost } from '../../src/image/address-policy.js';
import { isLoopback } from '../../src/providers/remote.js';

/** Hosts (as written in a URL) that are this machine's loopback. */
const LOOPBACK = [
  '127.0.0.1',
  '127.9.8.7',
  'localhost',
  'LOCALHOST',
  'LocalHost',
  'localhost.',
  'LOCALHOST.',
  '2130706433', // decimal
  '0177.0.0.1', // octal
  '0x7f000001', // hex
  '0x7F.0.0.1',
  '127.1', // short form
  '[::1]',
  '[0:0:0:0:0:0:0:1]',
  '[::ffff:127.0.0.1]', // IPv4-mapped
  '[::FFFF:7F00:1]',
  '[0:0:0:0:0:ffff:127.0.0.2]',
];

/** Hosts that are not: other machines, however they are spelled. */
const NOT_LOOPBACK = [
  '10.0.0.1',
  '0x0a000001', // 10.0.0.1 in hex
  '167772161', // 10.0.0.1 in decimal
  '012.0.0.1', // 10.0.0.1 in octal
  '[::ffff:10.0.0.1]',
  '169.254.169.254',
  '0xa9fea9fe',
  '[::ffff:169.254.169.254]',
  '192.168.1.20',
  '8.8.8.8',
  '[2001:db8::1]',
  // IPv6 forms that embed 127.x but route elsewhere (the SSRF guard refuses them as loopback).
  '[::127.0.0.1]',
  '[64:ff9b::7f00:1]',
  '[2002:7f00:1::]',
  'localhost.evil.example',
  'evil-localhost',
  'evil.example',
];

/** How each check judges the host: true where it is taken for this machine. */
function judged(host: string): boolean[] {
  const url = `http://${host}:9099/T0/alert`;
  return [
    isLoopback(new URL(url)),
    remoteHostOf('url', url) === undefined,
    remoteHostOf('store', `redis://${host}:6379/0`) === undefined,
    remoteHostOf('address', host) === undefined,
  ];
}

describe('loopback by address, every spelling', () => {
  it.each(LOOPBACK)('%s is this machine', (host) => {
    expect(judged(host)).toEqual([true, true, true, true]);
  });

  it.each(NOT_LOOPBACK)('%s is another machine', (host) => {
    expect(judged(host)).toEqual([false, false, false, false]);
  });

  it('agrees with the SSRF guard: what is local here is loopback there', () => {
    for (const host of LOOPBACK) {
      const address = new URL(`http://${host}/`).hostname.replace(/^\[|\]$/g, '');
      if (address === 'localhost' || address === 'localhost.') continue;
      expect(classifyAddress(address).range, host).toBe('loopback');
      expect(isLoopbackHost(address), host).toBe(true);
    }
  });
});

describe('an implicit config with alertWebhook', () => {
  const check = (url: string) =>
    checkImplicitConfig({
      config: { alertWebhook: [url] },
      file: 'visionpipe.config.yaml',
      baseUrlFlag: undefined,
      providerFlag: undefined,
    });

  it.each(LOOPBACK)('on %s is used (announced)', (host) => {
    expect(check(`http://${host}:9099/T0/alert`)).toContain('alertWebhook');
  });

  it.each(NOT_LOOPBACK)('on %s is refused', (host) => {
    expect(() => check(`http://${host}:9099/T0/alert`)).toThrow(/alertWebhook/);
  });
});
