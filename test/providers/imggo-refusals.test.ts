/**
 * ImgGo's refusal envelope (issue 11 trial): ImgGo answers `{success: false, error: {code,
 * message}}` (imggo-api docs/api-reference/error-handling.md), with a 2xx status too. A
 * permanent refusal (invalid_image_url, job_not_found…) fails at once with a typed code and
 * one call; a key refusal is AUTH_FAILED; a passing one (internal_error) is sent again and
 * the record says so in cascade.retried. The real provider through the real pipeline
 * against a loopback server answering ImgGo's shapes.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createPipeline } from '../../src/pipeline/create-pipeline.js';
import { closeAllAgents } from '../../src/providers/http.js';
import { ImgGoProvider } from '../../src/providers/imggo.js';
import { startServer, type TestServer } from '../support/http.js';
import { vendorTotalPattern } from '../support/patterns.js';
import { solidJpeg } from '../support/simulator-fixtures.js';

const pattern = vendorTotalPattern('receipt');
const MANIFEST = { vendor_name: 'ACME', total: 12.5 };
const refusal = (code: string, message: string) => ({ success: false, error: { code, message } });
const servers: TestServer[] = [];

afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});
afterAll(async () => {
  await closeAllAgents();
});

/**
 * An ImgGo API on loopback: call n of ingest answers `ingest(n)`, every job poll `poll()`
 * (defaults: the job queued, then succeeded with MANIFEST); counts both.
 */
async function imggo(handlers: { ingest?: (n: number) => unknown; poll?: () => unknown }) {
  const counts = { ingest: 0, poll: 0 };
  const server = await startServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      if (req.method === 'POST') {
        counts.ingest++;
        res.end(
          JSON.stringify(
            handlers.ingest?.(counts.ingest) ?? {
              success: true,
              data: { job_id: 'job-1', status: 'queued' },
            },
          ),
        );
        return;
      }
      counts.poll++;
      res.end(
        JSON.stringify(
          handlers.poll?.() ?? {
            success: true,
            data: { id: 'job-1', status: 'succeeded', manifest: MANIFEST },
          },
        ),
      );
    });
  });
  servers.push(server);
  return { url: `${server.url}/api`, counts };
}

async function recordAt(url: string) {
  const provider = new ImgGoProvider({
    baseUrl: url,
    apiKey: 'imggo_test_0123456789abcdef',
    imggoPatternId: 'pat-1',
    pollIntervalMs: 10,
  });
  const pipeline = await createPipeline({ pattern, provider, cache: { spec: 'off' } });
  try {
    return await pipeline.process({ bytes: await solidJpeg(320, 240), name: 'receipt.jpg' });
  } finally {
    await pipeline.close();
    await provider.close();
  }
}

describe('imggo: a permanent refusal fails at once, typed', () => {
  it('ingest answers 200 success:false invalid_image_url: BAD_REQUEST, one call, ImgGo’s code and words', async () => {
    const api = await imggo({ ingest: () => refusal('invalid_image_url', 'Image URL is not accessible') });
    const record = await recordAt(api.url);
    expect(record).toMatchObject({ status: 'error', error: { code: 'BAD_REQUEST' }, attempts: 1 });
    expect(record.error?.message).toContain('invalid_image_url');
    expect(record.error?.message).toContain('Image URL is not accessible');
    expect(api.counts.ingest).toBe(1);
  });

  it('a job poll answers job_not_found: BAD_REQUEST, never ingested again', async () => {
    const api = await imggo({ poll: () => refusal('job_not_found', 'Job not found or has expired') });
    const record = await recordAt(api.url);
    expect(record).toMatchObject({ status: 'error', error: { code: 'BAD_REQUEST' }, attempts: 1 });
    expect(api.counts).toEqual({ ingest: 1, poll: 1 });
  });

  it('a refused key (invalid_api_key) is AUTH_FAILED, one call', async () => {
    const api = await imggo({
      ingest: () => refusal('invalid_api_key', 'API key is invalid or has been revoked'),
    });
    const record = await recordAt(api.url);
    expect(record).toMatchObject({ status: 'error', error: { code: 'AUTH_FAILED' }, attempts: 1 });
    expect(api.counts.ingest).toBe(1);
  });
});

describe('imggo: a passing refusal is sent again, and the record says so', () => {
  it('internal_error on the first ingest, then the job: ok, attempts 2, cascade.retried names the refusal', async () => {
    const api = await imggo({
      ingest: (n) => (n === 1 ? refusal('internal_error', 'Temporary failure') : undefined),
    });
    const record = await recordAt(api.url);
    expect(record).toMatchObject({ status: 'ok', output: MANIFEST, attempts: 2 });
    expect(record.cascade.retried).toMatch(
      /attempt 1: PROVIDER_UNAVAILABLE \(.*internal_error.*\); sent again/,
    );
    expect(api.counts.ingest).toBe(2);
  });

  it('an answer on the first call has no retried note', async () => {
    const api = await imggo({});
    const record = await recordAt(api.url);
    expect(record).toMatchObject({ status: 'ok', attempts: 1 });
    expect(record.cascade).not.toHaveProperty('retried');
  });
});
