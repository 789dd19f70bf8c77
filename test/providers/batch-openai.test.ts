/**
 * The OpenAI Batch API backend against the simulator: the upload and batch wire format,
 * lines that carry exactly the single-call body, polling, results read with the
 * single-call parser (usage included), failed lines as typed errors, and the batch price.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VisionpipeError } from '../../src/errors.js';
import type { BatchItem, BatchRequest, BatchState } from '../../src/providers/batch/index.js';
import { OpenAIBatchBackend, type OpenAIBatchOptions } from '../../src/providers/batch/openai-batch.js';
import { closeAllAgents } from '../../src/providers/http.js';
import { OpenAIProvider } from '../../src/providers/openai.js';
import { costUsd } from '../../src/providers/pricing.js';
import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import { batchRequests, INVOICE_ANSWER } from './fixtures/batch-requests.js';

const KEY = 'sk-test-batch-openai-0123456789abcdef';
const signal = () => AbortSignal.timeout(20_000);

let sim: Simulator;
const backends: Array<{ close(): Promise<void> }> = [];

function backend(options: OpenAIBatchOptions = {}): OpenAIBatchBackend {
  const b = new OpenAIBatchBackend({ baseUrl: sim.baseUrls.openai, apiKey: KEY, ...options });
  backends.push(b);
  return b;
}

async function until(b: OpenAIBatchBackend, batchId: string, seen: BatchState[] = []): Promise<BatchState[]> {
  for (let i = 0; i < 2000; i++) {
    const status = await b.status(batchId, signal());
    if (seen.at(-1) !== status.state) seen.push(status.state);
    if (['completed', 'failed', 'expired', 'cancelled'].includes(status.state)) return seen;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  throw new Error(`batch ${batchId} never ended`);
}

async function collect(items: AsyncIterable<BatchItem>): Promise<Map<string, BatchItem>> {
  const out = new Map<string, BatchItem>();
  for await (const item of items) out.set(item.customId, item);
  return out;
}

function infos(requests: BatchRequest[]) {
  return new Map(
    requests.map((r) => [
      r.customId,
      { customId: r.customId, model: r.model, width: r.image.width, height: r.image.height },
    ]),
  );
}

interface Line {
  custom_id: string;
  method: string;
  url: string;
  body: Record<string, unknown>;
}

beforeAll(async () => {
  sim = await startSimulator({
    latency: { minMs: 1, maxMs: 4 },
    answer: () => INVOICE_ANSWER,
    batchFailures: (id) => (id.startsWith('bad-') ? 'bad-request' : id === 'late-2' ? 'expired' : undefined),
  });
});

afterAll(async () => {
  await Promise.all(backends.map((b) => b.close()));
  await sim.close();
  await closeAllAgents();
});

describe('openai batch backend: wire format', () => {
  it('uploads one JSONL line per request (multipart, purpose=batch) whose body is the single-call body, then creates the batch', async () => {
    const requests = await batchRequests(2, 'gpt-4o');
    const { batchId } = await backend().submit(requests, signal());
    expect(batchId).toMatch(/^batch_/);

    const upload = sim.requests.find((r) => r.route === 'openai POST /v1/files')!;
    expect(upload.method).toBe('POST');
    expect(upload.path).toBe('/v1/files');
    expect(upload.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(upload.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(upload.form?.purpose).toBe('batch');
    const file = upload.form?.file;
    if (file === undefined || typeof file === 'string') throw new Error('no file part');
    expect(file.filename).toMatch(/\.jsonl$/);
    expect(file.type).toBe('application/jsonl');
    const text = file.data.toString('utf8');
    expect(text.endsWith('\n')).toBe(true);
    const lines = text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Line);
    expect(lines.map((l) => l.custom_id)).toEqual(['req-0', 'req-1']);
    for (const line of lines) {
      expect(Object.keys(line).sort()).toEqual(['body', 'custom_id', 'method', 'url']);
      expect(line.method).toBe('POST');
      expect(line.url).toBe('/v1/chat/completions');
    }

    // The body of each line is byte for byte what a single call sends.
    const single = new OpenAIProvider({ baseUrl: sim.baseUrls.openai, apiKey: KEY });
    backends.push(single);
    await single.extract(requests[1]!, signal());
    const call = sim.requests.findLast((r) => r.route === 'openai POST /v1/chat/completions')!;
    expect(lines[1]!.body).toEqual(call.json);

    const create = sim.requests.find((r) => r.route === 'openai POST /v1/batches')!;
    expect(create.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(create.headers['content-type']).toBe('application/json');
    expect(create.json).toEqual({
      input_file_id: expect.stringMatching(/^file-/),
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
      metadata: { source: 'visionpipe' },
    });
    // The batch names the file just uploaded.
    const fileId = (create.json as { input_file_id: string }).input_file_id;
    const stored = await fetch(`${sim.baseUrls.openai}/files/${fileId}`, {
      headers: { authorization: `Bearer ${KEY}` },
    });
    expect(await stored.json()).toMatchObject({ id: fileId, purpose: 'batch', bytes: file.size });
    expect(sim.stats.batchesCreated).toBeGreaterThanOrEqual(1);
  });

  it('sends detail, max tokens and metadata options the way the single-call provider does', async () => {
    const requests = await batchRequests(1, 'gpt-5-mini', 'opt');
    const b = backend({ detail: 'low', maxOutputTokens: 300, metadata: { run: 'nightly' } });
    await b.submit(requests, signal());
    const upload = sim.requests.findLast((r) => r.route === 'openai POST /v1/files')!;
    const file = upload.form?.file;
    if (file === undefined || typeof file === 'string') throw new Error('no file part');
    const line = JSON.parse(file.data.toString('utf8')) as Line;
    expect(line.body.max_completion_tokens).toBe(300);
    expect(line.body.temperature).toBeUndefined();
    const user = (line.body.messages as Array<{ content: unknown }>)[1]!.content as Array<{
      image_url?: { detail: string };
    }>;
    expect(user[0]!.image_url?.detail).toBe('low');
    const create = sim.requests.findLast((r) => r.route === 'openai POST /v1/batches')!;
    expect((create.json as { metadata: unknown }).metadata).toEqual({ source: 'visionpipe', run: 'nightly' });
  });
});

describe('openai batch backend: polling and results', () => {
  it('moves validating → in_progress → finalizing → completed, with request counts', async () => {
    // Each phase lasts one latency draw: long enough that a poll every few ms sees it even on a loaded machine.
    const slow = await startSimulator({ latency: { minMs: 150, maxMs: 150 }, answer: () => INVOICE_ANSWER });
    try {
      const b = new OpenAIBatchBackend({ baseUrl: slow.baseUrls.openai, apiKey: KEY });
      backends.push(b);
      const { batchId } = await b.submit(await batchRequests(3, 'gpt-4o'), signal());
      const seen = await until(b, batchId);
      expect(seen).toEqual(['validating', 'in_progress', 'finalizing', 'completed']);
      expect(await b.status(batchId, signal())).toEqual({
        state: 'completed',
        counts: { total: 3, completed: 3, failed: 0 },
      });
    } finally {
      await slow.close();
    }
  });

  it('reads each output line with the single-call parser: output, usage and model; half the price as a batch', async () => {
    const requests = await batchRequests(3, 'gpt-4o', 'ok');
    const b = backend();
    const { batchId } = await b.submit(requests, signal());
    await until(b, batchId);
    const results = await collect(b.results(batchId, signal(), infos(requests)));
    expect([...results.keys()].sort()).toEqual(['ok-0', 'ok-1', 'ok-2']);

    const single = new OpenAIProvider({ baseUrl: sim.baseUrls.openai, apiKey: KEY });
    backends.push(single);
    for (const request of requests) {
      const item = results.get(request.customId)!;
      expect(item.error).toBeUndefined();
      expect(item.result?.output).toEqual(INVOICE_ANSWER);
      expect(item.result?.model).toBe('gpt-4o');
      // Same request, same formulas: a batch line bills exactly what a single call bills.
      const direct = await single.extract(request, signal());
      expect(item.result?.usage).toEqual(direct.usage);
      expect(item.result?.usage.estimated).toBe(false);
      expect(item.result?.usage.image_tokens).toBe(
        single.estimateImageTokens(request.image.width, request.image.height, 'gpt-4o'),
      );
      const full = costUsd('openai', 'gpt-4o', item.result!.usage)!;
      expect(full).toBeGreaterThan(0);
      expect(costUsd('openai', 'gpt-4o', item.result!.usage, { batch: true })).toBeCloseTo(full / 2, 12);
    }
    const downloads = sim.requests.filter((r) => r.route === 'openai GET /v1/files/{id}/content');
    expect(downloads.at(-1)?.headers.authorization).toBe(`Bearer ${KEY}`);
  });

  it('a failed line (400 in the error file) is a typed BAD_REQUEST; the others still succeed', async () => {
    const requests = [
      ...(await batchRequests(2, 'gpt-4o', 'good')),
      ...(await batchRequests(1, 'gpt-4o', 'bad')),
    ];
    const b = backend();
    const { batchId } = await b.submit(requests, signal());
    await until(b, batchId);
    expect((await b.status(batchId, signal())).counts).toEqual({ total: 3, completed: 2, failed: 1 });
    const results = await collect(b.results(batchId, signal(), infos(requests)));
    const bad = results.get('bad-0')!;
    expect(bad.result).toBeUndefined();
    expect(bad.error).toBeInstanceOf(VisionpipeError);
    expect(bad.error).toMatchObject({ code: 'BAD_REQUEST', retryable: false, status: 400 });
    expect(bad.error?.message).toContain('Simulated invalid request.');
    expect(results.get('good-0')?.result?.output).toEqual(INVOICE_ANSWER);
    expect(results.get('good-1')?.result?.output).toEqual(INVOICE_ANSWER);
  });

  it('an expired batch keeps what ran; the rest are PROVIDER_UNAVAILABLE (batch_expired)', async () => {
    const requests = await batchRequests(4, 'gpt-4o', 'late');
    const b = backend();
    const { batchId } = await b.submit(requests, signal());
    expect((await until(b, batchId)).at(-1)).toBe('expired');
    const results = await collect(b.results(batchId, signal(), infos(requests)));
    expect(results.get('late-0')?.result?.output).toEqual(INVOICE_ANSWER);
    expect(results.get('late-1')?.result?.output).toEqual(INVOICE_ANSWER);
    for (const id of ['late-2', 'late-3']) {
      expect(results.get(id)?.error).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', retryable: true });
      expect(results.get(id)?.error?.message).toContain('batch_expired');
    }
  });

  it('cancel stops the batch: requests not yet run are ABORTED (batch_cancelled)', async () => {
    // 400 ms a request: on a loaded machine the cancel must still land while the first runs.
    const slow = await startSimulator({ latency: { minMs: 400, maxMs: 400 }, answer: () => INVOICE_ANSWER });
    try {
      const b = new OpenAIBatchBackend({ baseUrl: slow.baseUrls.openai, apiKey: KEY });
      backends.push(b);
      const requests = await batchRequests(5, 'gpt-4o', 'stop');
      const { batchId } = await b.submit(requests, signal());
      await b.cancel(batchId, signal());
      expect(['cancelling', 'cancelled']).toContain((await b.status(batchId, signal())).state);
      expect((await until(b, batchId)).at(-1)).toBe('cancelled');
      const results = await collect(b.results(batchId, signal(), infos(requests)));
      expect(results.size).toBe(5);
      expect([...results.values()].every((item) => item.error?.code === 'ABORTED')).toBe(true);
    } finally {
      await slow.close();
    }
  });

  it('a batch that fails validation reports why (mixed models in one file)', async () => {
    const requests = [
      ...(await batchRequests(1, 'gpt-4o', 'mix')),
      ...(await batchRequests(1, 'gpt-4.1', 'max')),
    ];
    const b = backend();
    const { batchId } = await b.submit(requests, signal());
    expect((await until(b, batchId)).at(-1)).toBe('failed');
    const status = await b.status(batchId, signal());
    expect(status.message).toMatch(/line 2: mismatched_model/);
    expect((await collect(b.results(batchId, signal(), infos(requests)))).size).toBe(0);
  });
});

describe('openai batch backend: errors, limits and secrets', () => {
  it('a refused key is AUTH_FAILED without the key in the message; no key at all is refused too', async () => {
    const strict = await startSimulator({ apiKeys: ['sk-the-right-one'] });
    try {
      const wrong = new OpenAIBatchBackend({ baseUrl: strict.baseUrls.openai, apiKey: KEY });
      const none = new OpenAIBatchBackend({ baseUrl: strict.baseUrls.openai });
      backends.push(wrong, none);
      const requests = await batchRequests(1, 'gpt-4o');
      for (const b of [wrong, none]) {
        const error = await b.submit(requests, signal()).catch((e: unknown) => e);
        expect(error).toMatchObject({ code: 'AUTH_FAILED', status: 401 });
        expect(String((error as Error).message)).not.toContain(KEY);
        expect(JSON.stringify(error)).not.toContain(KEY);
      }
      expect(strict.stats.batchesCreated).toBe(0);
      const status = await wrong.status('batch_nope', signal()).catch((e: unknown) => e);
      expect(status).toMatchObject({ code: 'AUTH_FAILED' });
    } finally {
      await strict.close();
    }
  });

  it('an unknown batch is BAD_REQUEST (404); batches of another key are invisible', async () => {
    const { batchId } = await backend().submit(await batchRequests(1, 'gpt-4o', 'own'), signal());
    const other = backend({ apiKey: 'sk-someone-else-0000' });
    await expect(other.status(batchId, signal())).rejects.toMatchObject({ code: 'BAD_REQUEST', status: 404 });
    await expect(backend().status('batch_unknown', signal())).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      status: 404,
    });
  });

  it('input files of purpose batch cannot be downloaded (as OpenAI answers)', async () => {
    await backend().submit(await batchRequests(1, 'gpt-4o', 'dl'), signal());
    const create = sim.requests.findLast((r) => r.route === 'openai POST /v1/batches')!;
    const fileId = (create.json as { input_file_id: string }).input_file_id;
    const response = await fetch(`${sim.baseUrls.openai}/files/${fileId}/content`, {
      headers: { authorization: `Bearer ${KEY}` },
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      error: { message: 'Not allowed to download files of purpose: batch' },
    });
  });

  it('limits: at most 50 000 requests / 200 MB, lower on request; a direct submit over them is refused', async () => {
    expect(backend().limits).toEqual({ maxRequests: 50_000, maxBytes: 200_000_000 });
    expect(() => backend({ maxRequestsPerBatch: 50_001 })).toThrow(
      /maxRequestsPerBatch must be an integer from 1 to 50000/,
    );
    expect(() => backend({ maxBatchBytes: 0 })).toThrow(VisionpipeError);
    const small = backend({ maxRequestsPerBatch: 1 });
    const before = sim.stats.requests['openai POST /v1/files'] ?? 0;
    await expect(small.submit(await batchRequests(2, 'gpt-4o'), signal())).rejects.toMatchObject({
      code: 'INVALID_OPTION',
    });
    await expect(small.submit([], signal())).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    expect(sim.stats.requests['openai POST /v1/files'] ?? 0).toBe(before);
    const [request] = await batchRequests(1, 'gpt-4o');
    // A line's size is its JSONL line plus the newline.
    expect(small.requestBytes(request!)).toBeGreaterThan(request!.image.data.length);
  });
});
