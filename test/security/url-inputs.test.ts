/**
 * URL inputs (issue 12, issue 11 §5): the address policy holds on every DNS answer and every
 * redirect hop; the provider gets the prepared bytes, never the URL unless `passUrls` asks
 * (and then not for credentials, private networks, or an image that was changed or stripped);
 * a passed-through answer is never served for the downloaded bytes alone (cache poisoning).
 *
 * DNS is replaced by a resolver, and the loopback test server's address is allowed by name
 * (allowNetworks), so every guard is exercised with the test server counting as public.
 */
import type { LookupAddress } from 'node:dns';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCache } from '../../src/cache/open-cache.js';
import {
  checkAddress,
  classifyAddress,
  parseNetworks,
  type Resolver,
  resolveChecked,
} from '../../src/image/address-policy.js';
import { fetchUrlBytes } from '../../src/image/fetch-url.js';
import { createPipeline } from '../../src/pipeline/create-pipeline.js';
import { OpenAIProvider } from '../../src/providers/openai.js';
import { startServer, type TestServer } from '../support/http.js';
import { jpegWithGps, tempDir } from '../support/images.js';
import { type CompatibleServer, startCompatibleServer } from '../support/openai-compatible.js';

const v4 = (address: string): LookupAddress => ({ address, family: 4 });

/** A resolver for made-up names; anything else is NXDOMAIN. */
function resolver(table: Record<string, string[]>): Resolver {
  return async (hostname) => {
    const answers = table[hostname];
    if (!answers) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return answers.map((a) => (a.includes(':') ? { address: a, family: 6 } : v4(a)));
  };
}

describe('address policy', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'linkLocal'], // cloud metadata
    ['100.64.0.1', 'carrierGradeNat'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['::1', 'loopback'],
    ['fe80::1', 'linkLocal'],
    ['fd00::1', 'uniqueLocal'],
    ['::ffff:127.0.0.1', 'loopback'], // IPv4-mapped
    ['::ffff:169.254.169.254', 'linkLocal'],
  ])('refuses %s (%s) by default, allows it with allowPrivate', (address, range) => {
    expect(checkAddress(address)).toEqual({ allowed: false, range });
    expect(checkAddress(address, { allowPrivate: true }).allowed).toBe(true);
  });

  it('allows public unicast, refuses what is not an address', () => {
    expect(checkAddress('93.184.216.34')).toEqual({ allowed: true, range: 'unicast' });
    expect(checkAddress('2606:2800:220:1::1').allowed).toBe(true);
    expect(classifyAddress('not-an-ip')).toEqual({ allowed: false, range: 'invalid' });
    expect(checkAddress('not-an-ip', { allowPrivate: false, allowNetworks: ['10.0.0.0/8'] }).allowed).toBe(
      false,
    );
  });

  it('allowNetworks opens exactly the ranges named (CIDR or one address), v4-mapped included', () => {
    const policy = { allowNetworks: ['10.20.0.0/16', '127.0.0.1'] };
    expect(checkAddress('10.20.5.5', policy).allowed).toBe(true);
    expect(checkAddress('10.21.0.1', policy).allowed).toBe(false);
    expect(checkAddress('127.0.0.1', policy).allowed).toBe(true);
    expect(checkAddress('127.0.0.2', policy).allowed).toBe(false);
    expect(checkAddress('::ffff:10.20.1.1', policy).allowed).toBe(true);
    expect(checkAddress('::1', policy).allowed).toBe(false);
    expect(() => parseNetworks(['10.0.0.0/99'])).toThrow('not an address or CIDR range');
    expect(() => parseNetworks(['intranet'])).toThrow('"intranet"');
  });

  it('checks every DNS answer, whatever its position (rebinding)', async () => {
    const resolve = resolver({
      'first.test': ['10.0.0.5', '93.184.216.34'],
      'last.test': ['93.184.216.34', '10.0.0.5'],
      'middle.test': ['93.184.216.34', '169.254.169.254', '93.184.216.35'],
      'public.test': ['93.184.216.34', '93.184.216.35'],
      'empty.test': [],
    });
    for (const name of ['first.test', 'last.test', 'middle.test'])
      await expect(resolveChecked(name, { resolve }), name).rejects.toMatchObject({ code: 'EADDRBLOCKED' });
    await expect(resolveChecked('public.test', { resolve })).resolves.toHaveLength(2);
    await expect(resolveChecked('empty.test', { resolve })).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(resolveChecked('first.test', { resolve, allowPrivate: true })).resolves.toHaveLength(2);
  });
});

describe('fetchUrlBytes with the test server as a public host', () => {
  let server: TestServer;
  let png: Buffer;
  let resolve: Resolver;
  let hits = 0;
  const allowNetworks = ['127.0.0.1'];

  beforeAll(async () => {
    png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#f00' } })
      .png()
      .toBuffer();
    server = await startServer((req, res) => {
      hits++;
      const to = new URL(req.url ?? '/', 'http://x').searchParams.get('to');
      if (to) {
        res.writeHead(302, { location: to }).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'image/png' }).end(png);
    });
    resolve = resolver({
      'images.test': ['127.0.0.1'],
      'metadata.test': ['169.254.169.254'],
      'intranet.test': ['10.0.0.7'],
      'rebind.test': ['127.0.0.1', '192.168.0.9'],
      'rebind-last.test': ['192.168.0.9', '127.0.0.1'],
      'v6loop.test': ['::1'],
    });
  });
  afterAll(() => server.close());

  const at = (host: string, query = '') => `http://${host}:${server.port}/scan.png${query}`;
  const fetchIt = (url: string) => fetchUrlBytes(url, { resolve, allowNetworks, timeoutMs: 5000 });

  it('fetches from an allowed name (so the refusals below are the policy, not the setup)', async () => {
    const fetched = await fetchIt(at('images.test'));
    expect(fetched.bytes.equals(png)).toBe(true);
  });

  it.each([
    ['a name resolving to cloud metadata', () => `http://metadata.test:${server.port}/latest`],
    ['a private name', () => `http://intranet.test:${server.port}/x`],
    ['a loopback literal outside the allowed ones', () => `http://127.0.0.2:${server.port}/x`],
    ['an IPv6 loopback name', () => `http://v6loop.test:${server.port}/x`],
    ['a metadata literal', () => 'http://169.254.169.254/latest/meta-data/'],
    ['a file URL', () => 'file:///etc/passwd'],
  ])('refuses a redirect hop to %s', async (_name, target) => {
    const before = hits;
    await expect(fetchIt(at('images.test', `?to=${encodeURIComponent(target())}`))).rejects.toMatchObject({
      code: 'URL_BLOCKED',
    });
    expect(hits - before).toBe(1); // the first hop only: the blocked one is never connected
  });

  it('refuses a name with one internal answer among allowed ones, first or last', async () => {
    await expect(fetchIt(at('rebind.test'))).rejects.toMatchObject({ code: 'URL_BLOCKED' });
    await expect(fetchIt(at('rebind-last.test'))).rejects.toMatchObject({ code: 'URL_BLOCKED' });
  });

  it('without allowNetworks, the loopback server itself is refused (literal and name)', async () => {
    await expect(fetchUrlBytes(`http://127.0.0.1:${server.port}/x`)).rejects.toMatchObject({
      code: 'URL_BLOCKED',
    });
    await expect(fetchUrlBytes(at('images.test'), { resolve })).rejects.toMatchObject({
      code: 'URL_BLOCKED',
    });
    await expect(fetchUrlBytes(`http://localhost:${server.port}/x`)).rejects.toMatchObject({
      code: 'URL_BLOCKED',
    });
  });

  it('caps size and time on the allowed host too', async () => {
    await expect(
      fetchUrlBytes(at('images.test'), { resolve, allowNetworks, maxBytes: 10 }),
    ).rejects.toMatchObject({
      code: 'INPUT_TOO_LARGE',
    });
    await expect(
      fetchUrlBytes(at('images.test'), { resolve, allowNetworks: ['not-a-range'] }),
    ).rejects.toMatchObject({ code: 'INVALID_OPTION' });
  });
});

describe('what the provider receives for a URL input', () => {
  let images: TestServer;
  let gateway: CompatibleServer;
  let plain: Buffer;
  let gps: Buffer;
  let resolve: Resolver;
  const pattern = {
    name: 'Simple',
    format: 'json' as const,
    instructions: 'Read it.',
    json_schema: { vendor_name: 'string' },
  };

  beforeAll(async () => {
    // A plain sRGB JPEG without metadata, small enough to need no resize: the only kind passUrls forwards.
    plain = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#3a6' } })
      .jpeg({ quality: 80 })
      .toBuffer();
    gps = await jpegWithGps(64, 48);
    images = await startServer((req, res) => {
      res.writeHead(200, { 'content-type': 'image/jpeg' }).end(req.url?.startsWith('/gps') ? gps : plain);
    });
    resolve = resolver({ 'images.test': ['127.0.0.1'] });
    // The "provider" answers by what it was given: a URL (it would fetch whatever the host serves then) or bytes.
    gateway = await startCompatibleServer((call) => {
      const sent = JSON.stringify(call.body.messages);
      return JSON.stringify({ vendor_name: sent.includes('http://images.test') ? 'FROM-URL' : 'FROM-BYTES' });
    });
  });
  afterAll(async () => {
    await images.close();
    await gateway.close();
  });

  async function pipeline(
    options: { passUrls?: boolean; allowPrivate?: boolean },
    cache?: Awaited<ReturnType<typeof openCache>>,
  ) {
    return createPipeline({
      pattern: (await import('../../src/patterns/index.js')).parsePattern(pattern, 'simple.json'),
      provider: new OpenAIProvider({
        baseUrl: gateway.baseUrl,
        apiKey: 'sk-test-urls-0000',
        timeoutMs: 5000,
      }),
      model: 'gpt-4.1-mini',
      cache: cache ?? { spec: 'memory' },
      sourceLimits: {
        resolve,
        allowNetworks: ['127.0.0.1'],
        ...(options.allowPrivate ? { allowPrivateNetworks: true } : {}),
        ...(options.passUrls ? { passUrls: true } : {}),
      },
    });
  }
  const url = (name: string, query = '') => `http://images.test:${images.port}/${name}${query}`;
  const lastSent = () => JSON.stringify(gateway.calls.at(-1)?.body.messages);

  it('by default: the prepared bytes, never the URL', async () => {
    const p = await pipeline({});
    const record = await p.process({ url: url('plain.jpg') });
    expect(record).toMatchObject({ status: 'ok', output: { vendor_name: 'FROM-BYTES' } });
    expect(lastSent()).toContain('data:image/jpeg;base64,');
    expect(lastSent()).not.toContain('images.test');
    await p.close();
  });

  it('with passUrls: the URL, for an image preprocessing left untouched', async () => {
    const p = await pipeline({ passUrls: true });
    const record = await p.process({ url: url('plain.jpg', '?v=pass') });
    expect(record).toMatchObject({ status: 'ok', output: { vendor_name: 'FROM-URL' } });
    await p.close();
  });

  it.each([
    ['an image whose metadata (GPS) was stripped', { passUrls: true }, () => url('gps.jpg')],
    ['a URL with credentials', { passUrls: true }, () => url('plain.jpg', '?token=abcdef123456')],
    ['private networks opened', { passUrls: true, allowPrivate: true }, () => url('plain.jpg', '?v=private')],
  ])('with passUrls, still the bytes for %s', async (_name, options, target) => {
    const p = await pipeline(options);
    const record = await p.process({ url: target() });
    expect(record).toMatchObject({ status: 'ok', output: { vendor_name: 'FROM-BYTES' } });
    expect(lastSent()).not.toContain('images.test');
    expect(lastSent()).not.toContain('GPS');
    await p.close();
  });

  it('a passed-through answer is never served for the same bytes from a file (cache poisoning)', async () => {
    const dir = await tempDir();
    const cache = await openCache({ spec: 'sqlite', stateDir: dir, ttlMs: 60_000, warn: () => {} });
    const viaUrl = await pipeline({ passUrls: true }, cache);
    const first = await viaUrl.process({ url: url('plain.jpg', '?v=poison') });
    expect(first).toMatchObject({ status: 'ok', output: { vendor_name: 'FROM-URL' }, cache: 'miss' });
    const file = path.join(dir, 'local-copy.jpg');
    await writeFile(file, plain);
    const calls = gateway.calls.length;
    const local = await pipeline({}, cache);
    const second = await local.process(file);
    expect(second.sha256).toBe(first.sha256);
    expect(second).toMatchObject({ status: 'ok', output: { vendor_name: 'FROM-BYTES' }, cache: 'miss' });
    expect(gateway.calls.length).toBe(calls + 1);
    // The same URL again may use its own entry: it is keyed on the URL as well as the bytes.
    const again = await viaUrl.process({ url: url('plain.jpg', '?v=poison') });
    expect(again.cache).not.toBe('miss');
    await viaUrl.close();
    await local.close();
    await cache.close();
  });
});
