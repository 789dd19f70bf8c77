/**
 * The Anthropic Message Batches backend against the simulator: headers and the
 * `requests: [{custom_id, params}]` body (params = the single-call Messages body),
 * polling until `ended`, results from `results_url` read with the single-call parser,
 * errored / expired / canceled results as typed errors, and the batch price.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VisionpipeError } from '../../src/errors.js';
import { ANTHROPIC_VERSION, AnthropicProvider } from '../../src/providers/anthropic.js';
import {
  AnthropicBatchBackend,
  type AnthropicBatchOptions,
} from '../../src/providers/batch/anthropic-batch.js';
import type { BatchItem, BatchRequest, BatchState } from '../../src/providers/batch/index.js';
import { closeAllAgents } from '../../src/providers/http.js';
import { costUsd } from '../../src/providers/pricing.js';
import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import { batchRequests, INVOICE_ANSWER } from './fixtures/batch-requests.js';

const KEY = 'sk-ant-test-batch-0123456789abcdef';
const MODEL = 'claude-sonnet-4-5';
const signal = () => AbortSignal.timeout(20_000);

let sim: Simulator;
const closables: Array<{ close(): Promise<void> }> = [];

function backend(options: AnthropicBatchOptions = {}, on: Simulator = sim): AnthropicBatchBackend {
  const b = new AnthropicBatchBackend({ baseUrl: on.baseUrls.anthropic, apiKey: KEY, ...options });
  closables.push(b);
  return b;
}

async function until(b: AnthropicBatchBackend, batchId: string): Promise<BatchState[]> {
  const seen: BatchState[] = [];
  for (let i = 0; i < 2000; i++) {
    const status = await b.status(batchId, signal());
    if (seen.at(-1) !== status.state) seen.push(status.state);
    if (status.state === 'ended') return seen;
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

beforeAll(async () => {
  sim = await startSimulator({
    latency: { minMs: 1, maxMs: 4 },
    answer: () => INVOICE_ANSWER,
    batchFailures: (id) => (id.startsWith('bad-') ? 'bad-request' : id === 'late-1' ? 'expired' : undefined),
  });
});

afterAll(async () => {
  await Promise.all(closables.map((c) => c.close()));
  await sim.close();
  await closeAllAgents();
});

describe('anthropic batch backend: wire format', () => {
  it('POSTs /v1/messages/batches with x-api-key and anthropic-version; each params is the single-call body', async () => {
    const requests = await batchRequests(2, MODEL);
    const { batchId } = await backend().submit(requests, signal());
    expect(batchId).toMatch(/^msgbatch_/);
    const create = sim.requests.find((r) => r.route === 'anthropic POST /v1/messages/batches')!;
    expect(create.method).toBe('POST');
    expect(create.headers['x-api-key']).toBe(KEY);
    expect(create.headers['anthropic-version']).toBe(ANTHROPIC_VERSION);
    expect(create.headers['content-type']).toBe('application/json');
    const body = create.json as { requests: Array<{ custom_id: string; params: unknown }> };
    expect(Object.keys(body)).toEqual(['requests']);
    expect(body.requests.map((r) => r.custom_id)).toEqual(['req-0', 'req-1']);
    for (const entry of body.requests) expect(Object.keys(entry).sort()).toEqual(['custom_id', 'params']);

    const single = new AnthropicProvider({ baseUrl: sim.baseUrls.anthropic, apiKey: KEY });
    closables.push(single);
    await single.extract(requests[1]!, signal());
    const call = sim.requests.findLast((r) => r.route === 'anthropic POST /v1/messages')!;
    expect(body.requests[1]!.params).toEqual(call.json);
    expect(body.requests[1]!.params).toMatchObject({ max_tokens: 4096, tool_choice: { type: 'tool' } });
  });

  it('polls GET /v1/messages/batches/{id} until ended and reads results from results_url with the same headers', async () => {
    const requests = await batchRequests(3, MODEL, 'ok');
    const b = backend();
    const { batchId } = await b.submit(requests, signal());
    const first = await b.status(batchId, signal());
    expect(first.state).toBe('in_progress');
    expect(first.counts?.total).toBe(3);
    expect((await until(b, batchId)).at(-1)).toBe('ended');
    expect(await b.status(batchId, signal())).toEqual({
      state: 'ended',
      counts: { total: 3, completed: 3, failed: 0 },
    });
    const poll = sim.requests.findLast((r) => r.route === 'anthropic GET /v1/messages/batches/{id}')!;
    expect(poll.path).toBe(`/v1/messages/batches/${batchId}`);
    expect(poll.headers['anthropic-version']).toBe(ANTHROPIC_VERSION);

    const results = await collect(b.results(batchId, signal(), infos(requests)));
    const download = sim.requests.findLast(
      (r) => r.route === 'anthropic GET /v1/messages/batches/{id}/results',
    )!;
    expect(download.path).toBe(`/v1/messages/batches/${batchId}/results`);
    expect(download.headers['x-api-key']).toBe(KEY);
    expect(download.headers['anthropic-version']).toBe(ANTHROPIC_VERSION);

    const single = new AnthropicProvider({ baseUrl: sim.baseUrls.anthropic, apiKey: KEY });
    closables.push(single);
    for (const request of requests) {
      const item = results.get(request.customId)!;
      expect(item.error).toBeUndefined();
      expect(item.result?.output).toEqual(INVOICE_ANSWER);
      expect(item.result?.model).toBe(MODEL);
      const direct = await single.extract(request, signal());
      expect(item.result?.usage).toEqual(direct.usage);
      expect(item.result?.usage.image_tokens).toBe(
        single.estimateImageTokens(request.image.width, request.image.height),
      );
      const full = costUsd('anthropic', MODEL, item.result!.usage)!;
      expect(costUsd('anthropic', MODEL, item.result!.usage, { batch: true })).toBeCloseTo(full / 2, 12);
    }
  });

  it('errored results are typed (invalid_request_error → BAD_REQUEST); expired ones PROVIDER_UNAVAILABLE', async () => {
    const requests = [...(await batchRequests(1, MODEL, 'bad')), ...(await batchRequests(3, MODEL, 'late'))];
    const b = backend();
    const { batchId } = await b.submit(requests, signal());
    await until(b, batchId);
    expect((await b.status(batchId, signal())).counts).toEqual({ total: 4, completed: 1, failed: 3 });
    const results = await collect(b.results(batchId, signal(), infos(requests)));
    expect(results.get('bad-0')?.error).toBeInstanceOf(VisionpipeError);
    expect(results.get('bad-0')?.error).toMatchObject({ code: 'BAD_REQUEST', retryable: false });
    expect(results.get('bad-0')?.error?.message).toContain('Simulated invalid request.');
    expect(results.get('late-0')?.result?.output).toEqual(INVOICE_ANSWER);
    for (const id of ['late-1', 'late-2']) {
      expect(results.get(id)?.error).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', retryable: true });
    }
  });

  it('cancel: processing_status canceling, then ended; requests not yet run are ABORTED (canceled)', async () => {
    const slow = await startSimulator({ latency: { minMs: 400, maxMs: 400 }, answer: () => INVOICE_ANSWER });
    try {
      const b = backend({}, slow);
      const requests = await batchRequests(5, MODEL, 'stop');
      const { batchId } = await b.submit(requests, signal());
      await b.cancel(batchId, signal());
      expect((await b.status(batchId, signal())).state).toBe('cancelling');
      await until(b, batchId);
      const results = await collect(b.results(batchId, signal(), infos(requests)));
      expect(results.size).toBe(5);
      const aborted = [...results.values()].filter((item) => item.error?.code === 'ABORTED');
      expect(aborted.length).toBeGreaterThanOrEqual(4);
    } finally {
      await slow.close();
    }
  });
});

describe('anthropic batch backend: the simulator refuses what the API refuses', () => {
  it('results before the batch ended: BAD_REQUEST; unknown batch: 404', async () => {
    const slow = await startSimulator({ latency: { minMs: 30, maxMs: 30 }, answer: () => INVOICE_ANSWER });
    try {
      const b = backend({}, slow);
      const { batchId } = await b.submit(await batchRequests(2, MODEL), signal());
      await expect(collect(b.results(batchId, signal()))).rejects.toMatchObject({ code: 'BAD_REQUEST' });
      await expect(b.status('msgbatch_nope', signal())).rejects.toMatchObject({
        code: 'BAD_REQUEST',
        status: 404,
      });
    } finally {
      await slow.close();
    }
  });

  it('a missing anthropic-version, a missing key, duplicate custom ids and an empty list are 400/401', async () => {
    const url = `${sim.baseUrls.anthropic}/v1/messages/batches`;
    const post = (headers: Record<string, string>, body: unknown) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
    const params = { model: MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] };
    const noVersion = await post({ 'x-api-key': KEY }, { requests: [{ custom_id: 'a', params }] });
    expect(noVersion.status).toBe(400);
    expect(await noVersion.json()).toMatchObject({
      error: { message: 'anthropic-version: header is required' },
    });
    const noKey = await post(
      { 'anthropic-version': ANTHROPIC_VERSION },
      { requests: [{ custom_id: 'a', params }] },
    );
    expect(noKey.status).toBe(401);
    const headers = { 'x-api-key': KEY, 'anthropic-version': ANTHROPIC_VERSION };
    const duplicate = await post(headers, {
      requests: [
        { custom_id: 'a', params },
        { custom_id: 'a', params },
      ],
    });
    expect(duplicate.status).toBe(400);
    expect(JSON.stringify(await duplicate.json())).toContain('Duplicate custom_id');
    expect((await post(headers, { requests: [] })).status).toBe(400);
    expect((await post(headers, { requests: [{ custom_id: 'has space', params }] })).status).toBe(400);
  });

  it('params that fail validation are that request’s errored result, not a refused batch', async () => {
    const headers = {
      'x-api-key': KEY,
      'anthropic-version': ANTHROPIC_VERSION,
      'content-type': 'application/json',
    };
    const created = await fetch(`${sim.baseUrls.anthropic}/v1/messages/batches`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ requests: [{ custom_id: 'broken', params: { model: MODEL, messages: [] } }] }),
    });
    expect(created.status).toBe(200);
    const { id } = (await created.json()) as { id: string };
    const b = backend();
    await until(b, id);
    const results = await collect(b.results(id, signal()));
    expect(results.get('broken')?.error).toMatchObject({ code: 'BAD_REQUEST' });
    expect(results.get('broken')?.error?.message).toContain('invalid_request_error');
  });

  it('limits: 100 000 requests / 256 MB; a refused key never shows in errors', async () => {
    expect(backend().limits).toEqual({ maxRequests: 100_000, maxBytes: 256_000_000 });
    expect(() => backend({ maxRequestsPerBatch: 100_001 })).toThrow(VisionpipeError);
    const strict = await startSimulator({ apiKeys: ['sk-ant-right'] });
    try {
      const error = await backend({}, strict)
        .submit(await batchRequests(1, MODEL), signal())
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'AUTH_FAILED', status: 401 });
      expect(JSON.stringify(error) + String((error as Error).message)).not.toContain(KEY);
      expect(strict.stats.batchesCreated).toBe(0);
    } finally {
      await strict.close();
    }
  });
});
