/**
 * Redirect hops (issue 12): an image URL on a host that counts as public, answering with a
 * redirect to loopback, link-local (cloud metadata) or a private range, is refused at the hop
 * unless private networks are opened (--allow-private-urls). Every hop is checked: its scheme,
 * its IP literal in every spelling, and its DNS answers (a stubbed resolver and system DNS).
 *
 * Two real loopback servers: the "public" edge on 127.0.0.2 (allowed by allowNetworks, named
 * cdn.test by the resolver) and the internal target on 127.0.0.1, which must never see a
 * request while the policy holds. The positive controls reach it with allowPrivateNetworks, so
 * each refusal is the policy and not the setup.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Resolver } from '../../src/image/address-policy.js';
import { type FetchLimits, fetchUrlBytes } from '../../src/image/fetch-url.js';

interface Server {
  port: number;
  hits: string[];
  close(): Promise<void>;
}

async function listen(host: string, handler: (req: http.IncomingMessage, res: http.ServerResponse) => void) {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(req.url ?? '');
    handler(req, res);
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  } satisfies Server;
}

const table: Record<string, string[]> = {
  'cdn.test': ['127.0.0.2'],
  'loop.test': ['127.0.0.1'],
  'meta.test': ['169.254.169.254'],
  'lan.test': ['192.168.1.5'],
  'ula.test': ['fd00::1'],
  // Rebinding at the hop: an allowed answer first, the internal one second.
  'mixed.test': ['127.0.0.2', '127.0.0.1'],
};
const resolve: Resolver = async (hostname) => {
  const answers = table[hostname];
  if (!answers) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
  return answers.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};

let edge: Server;
let inner: Server;

beforeAll(async () => {
  inner = await listen('127.0.0.1', (_req, res) => {
    res.writeHead(200, { 'content-type': 'image/png' }).end('internal secret');
  });
  edge = await listen('127.0.0.2', (req, res) => {
    if (req.url === '/ok') {
      res.writeHead(200, { 'content-type': 'image/png' }).end('edge');
      return;
    }
    const query = new URL(req.url ?? '/', 'http://x').searchParams;
    const to = query.get('to') ?? '/';
    const status = Number(query.get('status') ?? 302);
    // /chain: one harmless hop on the edge itself, then the hop to `to`.
    const location = req.url?.startsWith('/chain') ? `/hop?to=${encodeURIComponent(to)}` : to;
    res.writeHead(status, { location }).end();
  });
});
afterAll(async () => {
  await edge?.close();
  await inner?.close();
});

const viaEdge = (target: string, path = '/hop', status = 302) =>
  `http://cdn.test:${edge.port}${path}?status=${status}&to=${encodeURIComponent(target)}`;
const publicEdge: FetchLimits = { resolve, allowNetworks: ['127.0.0.2'], timeoutMs: 10_000 };

async function refused(url: string, limits: FetchLimits = publicEdge): Promise<string> {
  const before = inner.hits.length;
  const error = (await fetchUrlBytes(url, limits).then(
    () => undefined,
    (e: unknown) => e,
  )) as { code?: string; message?: string } | undefined;
  expect(error?.code, `${url} was fetched`).toBe('URL_BLOCKED');
  expect(inner.hits.length - before, 'the internal server was reached').toBe(0);
  return error?.message ?? '';
}

describe('a redirect hop from a public host to an internal address is refused at the hop', () => {
  it('the edge itself is fetched, and reaching the internal server is possible when allowed (controls)', async () => {
    const ok = await fetchUrlBytes(viaEdge('/ok'), publicEdge);
    expect(ok.finalUrl).toBe(`http://cdn.test:${edge.port}/ok`);
    expect(ok.bytes.toString()).toBe('edge');
    const before = inner.hits.length;
    const opened = await fetchUrlBytes(viaEdge(`http://loop.test:${inner.port}/x.png`), {
      ...publicEdge,
      allowPrivateNetworks: true,
    });
    expect(opened.bytes.toString()).toBe('internal secret');
    expect(inner.hits.length - before).toBe(1);
  });

  it.each([
    ['127.0.0.1', (p: number) => `http://127.0.0.1:${p}/x.png`, 'loopback'],
    ['IPv6 loopback', (p: number) => `http://[::1]:${p}/x.png`, 'loopback'],
    ['IPv4-mapped IPv6 loopback', (p: number) => `http://[::ffff:127.0.0.1]:${p}/x.png`, 'loopback'],
    ['a decimal loopback', (p: number) => `http://2130706433:${p}/x.png`, 'loopback'],
    ['a short hex loopback', (p: number) => `http://0x7f.1:${p}/x.png`, 'loopback'],
    ['cloud metadata', () => 'http://169.254.169.254/latest/meta-data/', 'linkLocal'],
    ['a private range', () => 'http://10.0.0.7/x.png', 'private'],
    ['the unspecified address', (p: number) => `http://0.0.0.0:${p}/x.png`, 'unspecified'],
  ])('an IP literal: %s', async (_name, target, range) => {
    const message = await refused(viaEdge(target(inner.port)));
    expect(message).toContain(range);
    expect(message).toContain('--allow-private-urls');
  });

  it.each([
    ['loopback', 'loop.test', '127.0.0.1 (loopback)'],
    ['cloud metadata', 'meta.test', '169.254.169.254 (linkLocal)'],
    ['a private range', 'lan.test', '192.168.1.5 (private)'],
    ['an IPv6 unique-local range', 'ula.test', 'fd00::1 (uniqueLocal)'],
    ['an internal second answer', 'mixed.test', '127.0.0.1 (loopback)'],
  ])('a name resolving to %s (checked after DNS, at connect)', async (_name, host, answer) => {
    const message = await refused(viaEdge(`http://${host}:${inner.port}/x.png`));
    expect(message).toContain(`${host} resolves to ${answer}`);
  });

  it.each([301, 302, 303, 307, 308])('whatever the redirect status (%i)', async (status) => {
    await refused(viaEdge(`http://loop.test:${inner.port}/x.png`, '/hop', status));
    await refused(viaEdge(`http://127.0.0.1:${inner.port}/x.png`, '/hop', status));
  });

  it('at the second hop as at the first', async () => {
    await refused(viaEdge(`http://loop.test:${inner.port}/x.png`, '/chain'));
    await refused(viaEdge(`http://127.0.0.1:${inner.port}/x.png`, '/chain'));
  });

  it('with system DNS: a hop to localhost is refused after resolution', async () => {
    // No resolver: the edge by its literal (allowed), the hop by name through getaddrinfo.
    const url = `http://127.0.0.2:${edge.port}/hop?to=${encodeURIComponent(`http://localhost:${inner.port}/x.png`)}`;
    const message = await refused(url, { allowNetworks: ['127.0.0.2'], timeoutMs: 10_000 });
    expect(message).toMatch(/localhost resolves to (127\.0\.0\.1|::1) \(loopback\)/);
  });

  it('allowNetworks opens the ranges it names and no other: the edge, not the target', async () => {
    await refused(viaEdge(`http://127.0.0.3:${inner.port}/x.png`));
    await refused(viaEdge(`http://loop.test:${inner.port}/x.png`), {
      ...publicEdge,
      allowNetworks: ['127.0.0.2/32', '10.0.0.0/8'],
    });
  });
});
