import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { VisionpipeError } from '../../src/errors.js';
import { closeAllAgents } from '../../src/providers/http.js';
import { ImgGoProvider, type ImgGoProviderOptions, imggoIdempotencyKey } from '../../src/providers/imggo.js';
import type { ProviderImage } from '../../src/providers/spec.js';
import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import { startServer, type TestServer } from '../support/http.js';
import { asProviderImage, invoicePattern, solidJpeg } from '../support/simulator-fixtures.js';

const KEY = 'imggo_test_0123456789abcdef';
const PATTERN = '770e8400-e29b-41d4-a716-446655440000';
const signal = () => AbortSignal.timeout(20_000);
const MANIFEST = {
  invoice_number: 'IMG-1',
  vendor_name: 'Img Co',
  invoice_date: null,
  total: 42,
  status: 'paid',
  line_items: [],
};

let sim: Simulator;
let image: ProviderImage;
const providers: ImgGoProvider[] = [];

function provider(options: ImgGoProviderOptions = {}, target = sim): ImgGoProvider {
  const p = new ImgGoProvider({
    baseUrl: target.baseUrls.imggo,
    apiKey: KEY,
    imggoPatternId: PATTERN,
    pollIntervalMs: 10,
    ...options,
  });
  providers.push(p);
  return p;
}

async function failure(promise: Promise<unknown>): Promise<VisionpipeError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(VisionpipeError);
  return error as VisionpipeError;
}

beforeAll(async () => {
  sim = await startSimulator({
    rpm: 10_000,
    latency: { minMs: 200, maxMs: 200 },
    answer: (call) => {
      if (call.image.width === 13) throw new Error('low_image_quality: the image is too small to read');
      return MANIFEST;
    },
  });
  image = await asProviderImage(await solidJpeg(640, 480));
});

afterEach(() => {
  vi.unstubAllEnvs();
});

afterAll(async () => {
  await Promise.all(providers.map((p) => p.close()));
  await sim.close();
  await closeAllAgents();
});

describe('imggo provider: wire format', () => {
  it('ingests the image as multipart field "image" with an idempotency key, then polls the job until succeeded', async () => {
    // A job long enough for several polls even on a loaded machine.
    const slow = await startSimulator({
      rpm: 10_000,
      latency: { minMs: 800, maxMs: 800 },
      answer: () => MANIFEST,
    });
    const result = await provider({}, slow)
      .extract({ image, pattern: invoicePattern, model: 'managed-default' }, signal())
      .finally(() => slow.close());
    const mine = slow.requests;
    const ingest = mine[0]!;
    expect(ingest.method).toBe('POST');
    expect(ingest.path).toBe(`/api/patterns/${PATTERN}/ingest`);
    expect(ingest.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(ingest.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    const key = imggoIdempotencyKey(image.sha256, PATTERN);
    expect(key).toMatch(/^[a-zA-Z0-9_-]{1,255}$/);
    expect(ingest.headers['idempotency-key']).toBe(key);
    expect(ingest.form?.idempotency_key).toBe(key);
    const file = ingest.form?.image;
    expect(typeof file).toBe('object');
    if (typeof file === 'object') {
      expect(file.type).toBe('image/jpeg');
      expect(file.data.equals(image.data)).toBe(true);
    }
    // Polls start at 10 ms and back off ×1.5 up to 100 ms.
    const polls = mine.filter((r) => r.method === 'GET');
    expect(polls.length).toBeGreaterThanOrEqual(2);
    expect(polls[0]!.path).toMatch(/^\/api\/jobs\/[0-9a-f-]{36}$/);
    expect(result.output).toEqual(MANIFEST);
    expect(result.usage).toEqual({ input_tokens: 0, output_tokens: 0, image_tokens: 0, estimated: true });
    expect(result.raw).toMatchObject({ status: 'succeeded', pattern_id: PATTERN, idempotency_key: key });
    expect(result.rateLimit?.requests).toMatchObject({ limit: 10_000 });
  });

  it('the same content never creates a second job; other content does', async () => {
    const p = provider();
    const jobsBefore = sim.stats.jobsCreated;
    const first = await p.extract({ image, pattern: invoicePattern, model: 'managed-default' }, signal());
    const again = await p.extract({ image, pattern: invoicePattern, model: 'managed-default' }, signal());
    expect((again.raw as { id: string }).id).toBe((first.raw as { id: string }).id);
    const other = await asProviderImage(await solidJpeg(640, 481));
    await p.extract({ image: other, pattern: invoicePattern, model: 'managed-default' }, signal());
    expect(sim.stats.jobsCreated - jobsBefore).toBe(2);
  });

  it('sends the original URL as JSON image_url when preprocessing changed nothing', async () => {
    const origin: TestServer = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'image/jpeg' });
      res.end(image.data);
    });
    try {
      const sourceUrl = `${origin.url}/photo.jpg`;
      const before = sim.requests.length;
      const result = await provider().extract(
        {
          image: { ...image, sha256: 'f'.repeat(64), sourceUrl },
          pattern: invoicePattern,
          model: 'managed-default',
        },
        signal(),
      );
      const ingest = sim.requests[before]!;
      expect(ingest.headers['content-type']).toBe('application/json');
      expect(ingest.json).toEqual({
        image_url: sourceUrl,
        idempotency_key: imggoIdempotencyKey('f'.repeat(64), PATTERN),
      });
      expect(result.raw).toMatchObject({ image_url: sourceUrl, status: 'succeeded' });
    } finally {
      await origin.close();
    }
  });

  it('a failed job is a non-retryable error carrying ImgGo’s reason', async () => {
    const tiny = await asProviderImage(await solidJpeg(13, 13));
    const error = await failure(
      provider().extract({ image: tiny, pattern: invoicePattern, model: 'managed-default' }, signal()),
    );
    expect(error).toMatchObject({ code: 'BAD_RESPONSE', retryable: false });
    expect(error.message).toMatch(
      /^imggo: job [0-9a-f-]{36} failed: low_image_quality: the image is too small to read$/,
    );
  });

  it('gives up after maxPollMs (PROVIDER_TIMEOUT)', async () => {
    const slow = await startSimulator({ latency: { minMs: 5000, maxMs: 5000 } });
    try {
      const error = await failure(
        provider({ maxPollMs: 100 }, slow).extract(
          { image, pattern: invoicePattern, model: 'managed-default' },
          signal(),
        ),
      );
      expect(error.code).toBe('PROVIDER_TIMEOUT');
      expect(error.message).toMatch(/still (queued|running) after \d+ ms/);
    } finally {
      await slow.close();
    }
  });

  it('paces polls on X-RateLimit-Remaining/Reset instead of running into 429s', async () => {
    // A simulated minute lasts 200 ms: 4 requests per window, and the job takes 150 ms (45 simulated s).
    const tight = await startSimulator({
      rpm: 4,
      timeScale: 0.2 / 60,
      latency: { minMs: 45_000, maxMs: 45_000 },
    });
    try {
      const result = await provider({ pollIntervalMs: 5 }, tight).extract(
        { image, pattern: invoicePattern, model: 'managed-default' },
        signal(),
      );
      expect(result.output).toEqual({});
      expect(tight.stats.jobsCreated).toBe(1);
      // Polling every 5–50 ms would need ~8 requests; the headers said "0 left" and it waited for Reset.
      expect(tight.stats.rateLimited).toBe(0);
      expect(tight.requests.length).toBeLessThanOrEqual(6);
    } finally {
      await tight.close();
    }
  });

  it('waits out a 429 (Retry-After) on a poll and goes on polling the same job', async () => {
    let limitedOnce = false;
    const busy = await startSimulator({
      latency: { minMs: 100, maxMs: 100 },
      answer: () => {
        if (!limitedOnce) busy.inject('rate-limit'); // the next poll answers 429, Retry-After: 1
        limitedOnce = true;
        return MANIFEST;
      },
    });
    try {
      const started = Date.now();
      const result = await provider({}, busy).extract(
        { image, pattern: invoicePattern, model: 'managed-default' },
        signal(),
      );
      expect(result.output).toEqual(MANIFEST);
      expect(busy.stats.rateLimited).toBe(1);
      expect(busy.stats.jobsCreated).toBe(1);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    } finally {
      await busy.close();
    }
  });
});

describe('imggo provider: options and errors', () => {
  it('requires the ImgGo pattern id and IMGGO_API_KEY', () => {
    expect(() => new ImgGoProvider({ apiKey: KEY })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION', option: 'imggoPatternId' }),
    );
    vi.stubEnv('IMGGO_API_KEY', '');
    expect(() => new ImgGoProvider({ imggoPatternId: PATTERN }).checkCredentials()).toThrow(
      expect.objectContaining({ code: 'MISSING_API_KEY', message: expect.stringContaining('IMGGO_API_KEY') }),
    );
    expect(() => new ImgGoProvider({ apiKey: KEY, imggoPatternId: PATTERN, pollIntervalMs: 0 })).toThrow(
      expect.objectContaining({ option: 'pollIntervalMs' }),
    );
  });

  it('401 → AUTH_FAILED; 404 pattern → BAD_REQUEST; 429 on ingest → RATE_LIMITED with Retry-After seconds', async () => {
    const strict = await startSimulator({
      apiKeys: ['imggo_live_other_123456'],
      imggoPatterns: { [PATTERN]: {} },
    });
    try {
      const auth = await failure(
        provider({}, strict).extract({ image, pattern: invoicePattern, model: 'managed-default' }, signal()),
      );
      expect(auth).toMatchObject({ code: 'AUTH_FAILED', status: 401 });
      expect(auth.message).toBe('imggo: HTTP 401 invalid_api_key: Invalid API key');
      const missing = await failure(
        provider({ apiKey: 'imggo_live_other_123456', imggoPatternId: 'no-such-pattern' }, strict).extract(
          { image, pattern: invoicePattern, model: 'managed-default' },
          signal(),
        ),
      );
      expect(missing).toMatchObject({ code: 'BAD_REQUEST', status: 404 });
      expect(missing.message).toBe('imggo: HTTP 404 pattern_not_found: Pattern not found');
    } finally {
      await strict.close();
    }
    sim.inject('rate-limit');
    const limited = await failure(
      provider().extract({ image, pattern: invoicePattern, model: 'managed-default' }, signal()),
    );
    expect(limited).toMatchObject({ code: 'RATE_LIMITED', status: 429, retryAfterMs: 1000 });
    sim.inject('reset');
    expect(
      await failure(
        provider().extract({ image, pattern: invoicePattern, model: 'managed-default' }, signal()),
      ),
    ).toMatchObject({ code: 'CONNECTION_FAILED' });
  });

  it('answers from the remote pattern’s schema when the simulator knows it', async () => {
    const local = await startSimulator({
      answer: 'empty',
      imggoPatterns: { [PATTERN]: { schema: invoicePattern.schema } },
    });
    try {
      const result = await provider({}, local).extract(
        { image, pattern: invoicePattern, model: 'managed-default' },
        signal(),
      );
      expect(result.output).toMatchObject({ invoice_number: null, total: null, line_items: [] });
    } finally {
      await local.close();
    }
  });
});
