/**
 * Every branch of the URL fetcher (src/image/fetch-url.ts), written from the mutation report
 * of stryker.security.config.mjs: each redirect status, the redirect count at its limit,
 * Content-Length and streamed bodies at their limits, which HTTP errors are retryable, the
 * request it sends, and the message of each refusal. DNS is stubbed, so the loopback test
 * server is a public host reached by name (allowNetworks names its address).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlockedAddressError, type Resolver } from '../../src/image/address-policy.js';
import { type FetchLimits, fetchUrlBytes } from '../../src/image/fetch-url.js';
import { startServer, type TestServer } from '../support/http.js';

const BODY = Buffer.alloc(100, 7);
let server: TestServer;
let seen: Array<{
  url: string;
  method: string | undefined;
  accept: string | undefined;
  agent: string | undefined;
}> = [];
const resolve: Resolver = async (hostname) => {
  if (hostname === 'images.test') return [{ address: '127.0.0.1', family: 4 }];
  if (hostname === 'nowhere.test') return [];
  throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
};

beforeAll(async () => {
  server = await startServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    seen.push({
      url: req.url ?? '',
      method: req.method,
      accept: req.headers.accept,
      agent: req.headers['user-agent'],
    });
    const status = Number(url.searchParams.get('status') ?? 0);
    const hops = Number(url.searchParams.get('hops') ?? 0);
    switch (url.pathname) {
      case '/redirect':
        if (url.searchParams.has('nolocation')) return void res.writeHead(status).end();
        res.writeHead(status || 302, { location: hops > 1 ? `/redirect?hops=${hops - 1}` : '/body' });
        return void res.end();
      case '/status':
        return void res.writeHead(status).end('no');
      case '/hang':
        return; // never answers
      case '/two-types':
        res.setHeader('content-type', ['image/png', 'text/html']);
        return void res.end(BODY);
      case '/typed':
        return void res.writeHead(200, { 'content-type': 'image/png' }).end(BODY);
      case '/chunked': {
        // No Content-Length: only the streaming cap applies.
        res.writeHead(200);
        res.write(BODY.subarray(0, 50));
        return void res.end(BODY.subarray(50));
      }
      default:
        res.writeHead(200, { 'content-length': String(BODY.length) });
        return void res.end(BODY);
    }
  });
});
afterAll(() => server.close());

const at = (pathAndQuery: string) => `http://images.test:${server.port}${pathAndQuery}`;
const fetchIt = (url: string, limits: FetchLimits = {}) =>
  fetchUrlBytes(url, { resolve, allowNetworks: ['127.0.0.1'], timeoutMs: 10_000, ...limits });

describe('fetchUrlBytes: redirects', () => {
  it.each([301, 302, 303, 307, 308])('follows a %i and re-checks the next hop', async (status) => {
    seen = [];
    const fetched = await fetchIt(at(`/redirect?status=${status}`));
    expect(fetched.bytes.equals(BODY)).toBe(true);
    expect(fetched.finalUrl).toBe(at('/body'));
    expect(seen.map((s) => s.url)).toEqual([`/redirect?status=${status}`, '/body']);
  });

  it('a 300 or 304 is not followed: it is an HTTP error', async () => {
    await expect(fetchIt(at('/status?status=300'))).rejects.toMatchObject({ code: 'FETCH_HTTP_ERROR' });
    await expect(fetchIt(at('/status?status=304'))).rejects.toMatchObject({ code: 'FETCH_HTTP_ERROR' });
  });

  it('a redirect without Location is FETCH_FAILED naming the status', async () => {
    const url = at('/redirect?status=301&nolocation=1');
    await expect(fetchIt(url)).rejects.toMatchObject({
      input: url,
      code: 'FETCH_FAILED',
      message: `${url}: HTTP 301 without a Location header`,
    });
  });

  it('follows exactly maxRedirects hops and refuses one more', async () => {
    await expect(fetchIt(at('/redirect?hops=2'), { maxRedirects: 2 })).resolves.toMatchObject({
      finalUrl: at('/body'),
    });
    const url = at('/redirect?hops=3');
    await expect(fetchIt(url, { maxRedirects: 2 })).rejects.toMatchObject({
      input: url,
      code: 'TOO_MANY_REDIRECTS',
      message: `${url}: more than 2 redirects`,
    });
    await expect(fetchIt(at('/redirect'), { maxRedirects: 0 })).rejects.toMatchObject({
      code: 'TOO_MANY_REDIRECTS',
    });
    // The default is 3.
    await expect(fetchIt(at('/redirect?hops=3'))).resolves.toBeDefined();
    await expect(fetchIt(at('/redirect?hops=4'))).rejects.toMatchObject({ code: 'TOO_MANY_REDIRECTS' });
  });
});

describe('fetchUrlBytes: size limits at their edge', () => {
  it('a declared Content-Length equal to maxBytes passes; one byte less of limit refuses it', async () => {
    expect((await fetchIt(at('/body'), { maxBytes: 100 })).bytes).toHaveLength(100);
    const url = at('/body');
    await expect(fetchIt(url, { maxBytes: 99 })).rejects.toMatchObject({
      input: url,
      code: 'INPUT_TOO_LARGE',
      message: `${url}: Content-Length 100 B exceeds the 99B input limit`,
    });
  });

  it('a streamed body of exactly maxBytes passes; one byte over is cut off', async () => {
    expect((await fetchIt(at('/chunked'), { maxBytes: 100 })).bytes.equals(BODY)).toBe(true);
    const url = at('/chunked');
    await expect(fetchIt(url, { maxBytes: 99 })).rejects.toMatchObject({
      input: url,
      code: 'INPUT_TOO_LARGE',
      message: `${url}: body exceeds the 99B input limit (cut off)`,
    });
  });
});

describe('fetchUrlBytes: HTTP errors and the request', () => {
  it.each([
    [404, false],
    [403, false],
    [407, false],
    [408, true],
    [429, true],
    [499, false],
    [500, true],
    [503, true],
  ])('HTTP %i is FETCH_HTTP_ERROR, retryable %s', async (status, retryable) => {
    const url = at(`/status?status=${status}`);
    await expect(fetchIt(url)).rejects.toMatchObject({
      input: url,
      code: 'FETCH_HTTP_ERROR',
      message: `${url}: HTTP ${status}`,
      retryable,
    });
  });

  it('asks for an image as visionpipe, and returns the content type when there is one', async () => {
    seen = [];
    const typed = await fetchIt(at('/typed'));
    expect(typed.contentType).toBe('image/png');
    expect(seen[0]).toMatchObject({ method: 'GET', accept: 'image/*,*/*;q=0.5', agent: 'visionpipe' });
    // A repeated Content-Type is no type at all.
    expect((await fetchIt(at('/two-types'))).contentType).toBeUndefined();
    expect((await fetchIt(at('/body'))).contentType).toBeUndefined();
  });
});

describe('fetchUrlBytes: refusals and failures name the input', () => {
  it('not a URL', async () => {
    await expect(fetchIt('not a url')).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: 'not a url: not a valid URL',
      input: 'not a url',
    });
  });

  it('a scheme other than http and https', async () => {
    await expect(fetchIt('ftp://images.test/x.png')).rejects.toMatchObject({
      code: 'URL_BLOCKED',
      message: 'ftp://images.test/x.png: only http and https URLs are fetched (got ftp:)',
      input: 'ftp://images.test/x.png',
    });
  });

  it('an internal IP literal, and one in brackets', async () => {
    await expect(fetchIt('http://10.0.0.1/x.png')).rejects.toMatchObject({
      code: 'URL_BLOCKED',
      message:
        'http://10.0.0.1/x.png: 10.0.0.1 is a private address; pass allowPrivateNetworks (--allow-private-urls) to fetch it',
      input: 'http://10.0.0.1/x.png',
    });
    // https is fetched like http: refused for the address, not the scheme.
    await expect(fetchIt('https://10.0.0.1/x.png')).rejects.toMatchObject({
      code: 'URL_BLOCKED',
      message: expect.stringContaining('10.0.0.1 is a private address'),
    });
    await expect(fetchIt('http://[::1]/x.png')).rejects.toMatchObject({
      code: 'URL_BLOCKED',
      message: expect.stringContaining('::1 is a loopback address'),
    });
  });

  it('a name resolving to an internal address, with the label redacted', async () => {
    const url = `http://images.test:${server.port}/x.png?token=s3cr3t-value`;
    const error = await fetchUrlBytes(url, { resolve, timeoutMs: 10_000 }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'URL_BLOCKED',
      input: `http://images.test:${server.port}/x.png?token=[redacted]`,
      message: `http://images.test:${server.port}/x.png?token=[redacted]: images.test resolves to 127.0.0.1 (loopback), which is not a public address; pass allowPrivateNetworks (--allow-private-urls) to fetch it`,
    });
  });

  it('a name with no address, an unknown name, a closed port: FETCH_FAILED with the code', async () => {
    await expect(fetchIt('http://nowhere.test/x.png')).rejects.toMatchObject({
      code: 'FETCH_FAILED',
      message: 'http://nowhere.test/x.png: ENOTFOUND no address for nowhere.test',
    });
    await expect(fetchIt('http://unknown.test/x.png')).rejects.toMatchObject({
      code: 'FETCH_FAILED',
      message: expect.stringContaining('http://unknown.test/x.png: ENOTFOUND'),
    });
    const closed = await startServer(() => {});
    const port = closed.port;
    await closed.close();
    await expect(fetchIt(`http://images.test:${port}/x.png`)).rejects.toMatchObject({
      code: 'FETCH_FAILED',
      message: expect.stringMatching(/ECONNREFUSED/),
    });
  });

  it('allowPrivateNetworks reaches the loopback server by literal', async () => {
    const fetched = await fetchUrlBytes(`http://127.0.0.1:${server.port}/body`, {
      allowPrivateNetworks: true,
    });
    expect(fetched.bytes.equals(BODY)).toBe(true);
  });

  it('allowPrivateNetworks reaches a name that system DNS resolves to loopback', async () => {
    const named = await fetchUrlBytes(`http://localhost:${server.port}/body`, { allowPrivateNetworks: true });
    expect(named.bytes.equals(BODY)).toBe(true);
  });

  it('allowNetworks alone (system DNS, no resolver) opens the named addresses to a name', async () => {
    const fetched = await fetchUrlBytes(`http://localhost:${server.port}/body`, {
      allowNetworks: ['127.0.0.1', '::1'],
    });
    expect(fetched.bytes.equals(BODY)).toBe(true);
  });

  it('a host that never answers is FETCH_TIMEOUT naming the input', async () => {
    const url = at('/hang');
    await expect(fetchIt(url, { timeoutMs: 300 })).rejects.toMatchObject({
      code: 'FETCH_TIMEOUT',
      message: `${url}: timed out`,
      input: url,
    });
  });

  it('a bad allowNetworks entry is INVALID_OPTION naming it', async () => {
    await expect(fetchIt(at('/body'), { allowNetworks: ['10.0.0.0/99'] })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      option: 'allowNetworks',
      message: 'allowNetworks: "10.0.0.0/99" is not an address or CIDR range (e.g. 10.0.0.0/8, 192.168.1.20)',
    });
  });

  it("an abort from the caller is ABORTED (not the host's failure, not a crash)", async () => {
    const controller = new AbortController();
    controller.abort();
    const url = at('/body');
    await expect(fetchIt(url, { signal: controller.signal })).rejects.toMatchObject({
      input: url,
      code: 'ABORTED',
      message: `${url}: aborted`,
    });
  });
});

describe('fetchUrlBytes: errors from a resolver, and the connections it leaves', () => {
  const failing =
    (error: unknown): Resolver =>
    async () => {
      throw error;
    };

  it('an error without a code is FETCH_FAILED naming the input, with its message and cause', async () => {
    const cause = new Error('resolver broke');
    const url = 'http://images.test/x.png?token=s3cr3t-value';
    const error = await fetchUrlBytes(url, { resolve: failing(cause), timeoutMs: 10_000 }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({
      code: 'FETCH_FAILED',
      message: 'http://images.test/x.png?token=[redacted]: resolver broke',
      input: 'http://images.test/x.png?token=[redacted]',
    });
    expect((error as { cause?: unknown }).cause).toBe(cause);
  });

  it('a code that is not text is left out of the message', async () => {
    const error = Object.assign(new Error('odd failure'), { code: 42 });
    await expect(fetchIt('http://images.test/x.png', { resolve: failing(error) })).rejects.toMatchObject({
      code: 'FETCH_FAILED',
      message: 'http://images.test/x.png: odd failure',
    });
  });

  it('a refusal wrapped deep inside a resolver error is still URL_BLOCKED', async () => {
    const inner = new BlockedAddressError('images.test', '10.0.0.7', 'private');
    let wrapped: Error = inner;
    for (let i = 0; i < 8; i++) wrapped = new Error(`layer ${i}`, { cause: wrapped });
    await expect(fetchIt('http://images.test/x.png', { resolve: failing(wrapped) })).rejects.toMatchObject({
      code: 'URL_BLOCKED',
      message: expect.stringContaining('images.test resolves to 10.0.0.7 (private)'),
    });
  });

  it('an error whose cause chain loops back ends as FETCH_FAILED (walked once)', async () => {
    const a = new Error('first') as Error & { cause?: unknown };
    const b = new Error('second', { cause: a });
    a.cause = b;
    await expect(fetchIt('http://images.test/x.png', { resolve: failing(a) })).rejects.toMatchObject({
      code: 'FETCH_FAILED',
      message: 'http://images.test/x.png: first',
    });
  });

  describe('connections', () => {
    let pool: {
      port: number;
      connections: number;
      open: Set<import('node:net').Socket>;
      close(): Promise<void>;
    };
    beforeAll(async () => {
      const http = await import('node:http');
      const open = new Set<import('node:net').Socket>();
      const srv = http.createServer((_req, res) => res.end(BODY));
      // Long enough that only the client can close an idle connection within the test.
      srv.keepAliveTimeout = 60_000;
      const state = { connections: 0 };
      srv.on('connection', (socket) => {
        state.connections++;
        open.add(socket);
        socket.on('close', () => open.delete(socket));
      });
      await new Promise<void>((done) => srv.listen(0, '127.0.0.1', done));
      pool = {
        port: (srv.address() as import('node:net').AddressInfo).port,
        get connections() {
          return state.connections;
        },
        open,
        close: () =>
          new Promise<void>((done) => {
            srv.closeAllConnections();
            srv.close(() => done());
          }),
      };
    });
    afterAll(() => pool.close());

    const settle = async () => {
      for (let i = 0; i < 50 && pool.open.size > 0; i++) await new Promise((r) => setTimeout(r, 20));
    };

    it('a fetch with its own resolver closes its connections when it ends (no socket left per fetch)', async () => {
      for (let i = 0; i < 3; i++) {
        const fetched = await fetchIt(`http://images.test:${pool.port}/body`);
        expect(fetched.bytes.equals(BODY)).toBe(true);
      }
      await settle();
      expect(pool.open.size).toBe(0);
    });

    it('fetches without a resolver share pooled keep-alive connections', async () => {
      const before = pool.connections;
      for (let i = 0; i < 5; i++) {
        const fetched = await fetchUrlBytes(`http://127.0.0.1:${pool.port}/body`, {
          allowPrivateNetworks: true,
        });
        expect(fetched.bytes.equals(BODY)).toBe(true);
        // Lets the client hand the idle connection back to the pool before the next fetch.
        await new Promise((r) => setTimeout(r, 20));
      }
      // One connection when reused; five when every fetch opens (and closes) its own.
      expect(pool.connections - before).toBeLessThan(3);
    });
  });
});
