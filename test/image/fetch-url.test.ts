import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VisionpipeError } from '../../src/errors.js';
import { BlockedAddressError, classifyAddress, guardedLookup } from '../../src/image/address-policy.js';
import { fetchUrlBytes, redactUrl } from '../../src/image/fetch-url.js';
import { optimizeImage } from '../../src/image/optimize-image.js';
import { startServer, type TestServer } from '../support/http.js';
import { corpus } from '../support/images.js';

let server: TestServer;
let image: Buffer;
let bodyAborted = false;

beforeAll(async () => {
  image = await readFile(corpus('car-plate1.jpg'));
  server = await startServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const hops = Number(url.searchParams.get('hops') ?? 0);
    switch (url.pathname) {
      case '/image.jpg':
        res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': image.length });
        res.end(image);
        return;
      case '/redirect':
        res.writeHead(302, { location: hops > 1 ? `/redirect?hops=${hops - 1}` : '/image.jpg' });
        res.end();
        return;
      case '/endless': {
        // Chunked, no Content-Length: only the streaming cap can stop it.
        res.writeHead(200, { 'content-type': 'image/jpeg' });
        const chunk = Buffer.alloc(64 * 1024, 1);
        let sent = 0;
        const pump = () => {
          while (sent < 200 * 1024 * 1024) {
            sent += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end();
        };
        res.on('close', () => {
          if (sent < 200 * 1024 * 1024) bodyAborted = true;
        });
        pump();
        return;
      }
      case '/declared-huge':
        res.writeHead(200, { 'content-length': String(500 * 1024 * 1024) });
        res.write(Buffer.alloc(10));
        return;
      case '/missing':
        res.writeHead(404).end('not here');
        return;
      case '/unavailable':
        res.writeHead(503).end('later');
        return;
      case '/hang':
        return; // never answers
      default:
        res.writeHead(500).end();
    }
  });
});

afterAll(() => server.close());

async function failure(promise: Promise<unknown>): Promise<VisionpipeError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(VisionpipeError);
  return error as VisionpipeError;
}

const allow = { allowPrivateNetworks: true };

describe('fetchUrlBytes', () => {
  it('fetches an image over a pooled connection', async () => {
    const result = await fetchUrlBytes(`${server.url}/image.jpg`, allow);
    expect(result.bytes.equals(image)).toBe(true);
    expect(result.contentType).toBe('image/jpeg');
  });

  it('follows up to 3 redirects and refuses the 4th', async () => {
    const three = await fetchUrlBytes(`${server.url}/redirect?hops=3`, allow);
    expect(three.bytes.equals(image)).toBe(true);
    expect(three.finalUrl).toBe(`${server.url}/image.jpg`);
    const four = await failure(fetchUrlBytes(`${server.url}/redirect?hops=4`, allow));
    expect(four.code).toBe('TOO_MANY_REDIRECTS');
  });

  it('cuts a body off at maxBytes while streaming', async () => {
    const error = await failure(fetchUrlBytes(`${server.url}/endless`, { ...allow, maxBytes: 1024 * 1024 }));
    expect(error.code).toBe('INPUT_TOO_LARGE');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(bodyAborted).toBe(true);
  });

  it('refuses a declared Content-Length over the limit without reading it', async () => {
    const error = await failure(fetchUrlBytes(`${server.url}/declared-huge`, allow));
    expect(error.code).toBe('INPUT_TOO_LARGE');
  });

  it('maps HTTP errors with retryability', async () => {
    const missing = await failure(fetchUrlBytes(`${server.url}/missing`, allow));
    expect(missing).toMatchObject({ code: 'FETCH_HTTP_ERROR', retryable: false });
    expect(missing.message).toContain('404');
    const unavailable = await failure(fetchUrlBytes(`${server.url}/unavailable`, allow));
    expect(unavailable).toMatchObject({ code: 'FETCH_HTTP_ERROR', retryable: true });
  });

  it('times out a server that never answers', async () => {
    const error = await failure(fetchUrlBytes(`${server.url}/hang`, { ...allow, timeoutMs: 300 }));
    expect(error).toMatchObject({ code: 'FETCH_TIMEOUT', retryable: true });
  });

  it('refuses loopback by IP literal, by name and over IPv6 unless allowed', async () => {
    for (const url of [
      `${server.url}/image.jpg`,
      `http://localhost:${server.port}/image.jpg`,
      `http://[::1]:${server.port}/image.jpg`,
      'http://169.254.169.254/latest/meta-data/',
      'http://10.0.0.1/x.jpg',
    ]) {
      const error = await failure(fetchUrlBytes(url, { timeoutMs: 2000 }));
      expect(error.code, url).toBe('URL_BLOCKED');
      expect(error.message, url).toContain('--allow-private-urls');
    }
  });

  it('only fetches http and https', async () => {
    for (const url of ['ftp://example.com/a.jpg', 'file:///etc/passwd']) {
      expect((await failure(fetchUrlBytes(url))).code).toBe('URL_BLOCKED');
    }
  });

  it('redacts credentials in labels', () => {
    expect(redactUrl('https://user:secret@example.com/a.jpg')).toBe('https://[redacted]@example.com/a.jpg');
  });
});

describe('URL sources in optimizeImage', () => {
  it('optimizes an image from a loopback URL when private networks are allowed', async () => {
    const result = await optimizeImage(`${server.url}/redirect?hops=1`, allow);
    expect(result.original.format).toBe('jpeg');
    expect(result.input).toBe(`${server.url}/redirect?hops=1`);
  });

  it('refuses it by default', async () => {
    expect((await failure(optimizeImage(`${server.url}/image.jpg`))).code).toBe('URL_BLOCKED');
  });
});

describe('address policy', () => {
  it('allows only public unicast addresses', () => {
    expect(classifyAddress('8.8.8.8').allowed).toBe(true);
    expect(classifyAddress('2001:4860:4860::8888').allowed).toBe(true);
    for (const address of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      'fe80::1',
      'fd00:ec2::254',
      '::ffff:127.0.0.1',
      '64:ff9b::7f00:1',
      '224.0.0.1',
    ]) {
      expect(classifyAddress(address).allowed, address).toBe(false);
    }
  });

  it('guardedLookup refuses a name that resolves to loopback', async () => {
    const error = await new Promise<unknown>((resolve) =>
      guardedLookup('localhost', { all: true }, (e) => resolve(e)),
    );
    expect(error).toBeInstanceOf(BlockedAddressError);
  });
});
