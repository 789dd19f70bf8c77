/**
 * runBatchJob(): submit, poll, fetch, and above all resume. The crash that matters is the
 * one between submit and fetch: the batch is paid for, its results are not in yet. A real
 * child process is SIGKILLed right after the state file names its batch; running the job
 * again must poll that batch (batchesCreated stays 1), deliver every result, and leave
 * every image billed exactly once.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { VisionpipeError } from '../../src/errors.js';
import {
  type BatchBackend,
  type BatchItem,
  type BatchJobEvent,
  type BatchJobOptions,
  type BatchRequest,
  batchStateFile,
  createBatchBackend,
  readBatchJobState,
  runBatchJob,
} from '../../src/providers/batch/index.js';
import { closeAllAgents } from '../../src/providers/http.js';
import { type Simulator, type SimulatorOptions, startSimulator } from '../../src/simulator/index.js';
import { tempDir } from '../support/images.js';
import { invoicePattern } from '../support/simulator-fixtures.js';
import { batchRequests, INVOICE_ANSWER } from './fixtures/batch-requests.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CHILD = path.join(import.meta.dirname, 'fixtures', 'batch-crash-child.ts');
const MODELS = { openai: 'gpt-4o', anthropic: 'claude-sonnet-4-5' } as const;
type Id = keyof typeof MODELS;

const simulators: Simulator[] = [];
const backends: BatchBackend[] = [];
const children: ChildProcess[] = [];

async function simulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const sim = await startSimulator({
    latency: { minMs: 1, maxMs: 3 },
    answer: () => INVOICE_ANSWER,
    ...options,
  });
  simulators.push(sim);
  return sim;
}

function backendFor(sim: Simulator, id: Id, extra: Record<string, unknown> = {}): BatchBackend {
  const backend = createBatchBackend(id, {
    [id]: { baseUrl: sim.baseUrls[id], apiKey: 'sk-crash-test', ...extra },
  });
  backends.push(backend);
  return backend;
}

async function stateFile(): Promise<string> {
  return path.join(await tempDir('visionpipe-batch-'), 'batches', 'job.json');
}

async function drain(
  options: Omit<BatchJobOptions, 'pollIntervalMs'> & { pollIntervalMs?: number },
  events: BatchJobEvent[] = [],
): Promise<Map<string, BatchItem>> {
  const items = new Map<string, BatchItem>();
  const job = runBatchJob({
    pollIntervalMs: 5,
    ...options,
    onStatus: (event) => {
      events.push(event);
      options.onStatus?.(event);
    },
  });
  for await (const item of job) {
    expect(items.has(item.customId)).toBe(false);
    items.set(item.customId, item);
  }
  return items;
}

async function waitFor(check: () => Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  await Promise.all(backends.splice(0).map((b) => b.close()));
  await Promise.all(simulators.splice(0).map((s) => s.close()));
});

afterAll(async () => {
  await closeAllAgents();
});

describe('runBatchJob: from submit to results', () => {
  it('submits once, records the batch id, polls to the end, yields every result, and keeps the state marked fetched', async () => {
    const sim = await simulator();
    const file = await stateFile();
    const events: BatchJobEvent[] = [];
    const requests = await batchRequests(3, MODELS.openai);
    const items = await drain(
      { backend: backendFor(sim, 'openai'), jobKey: 'job-1', requests, stateFile: file },
      events,
    );

    expect([...items.keys()].sort()).toEqual(['req-0', 'req-1', 'req-2']);
    for (const item of items.values()) expect(item.result?.output).toEqual(INVOICE_ANSWER);
    expect(sim.stats.batchesCreated).toBe(1);
    expect(sim.stats.batchRequests).toBe(3);
    expect(events[0]).toMatchObject({ type: 'submitted', requests: 3 });
    expect(events.some((e) => e.type === 'status' && e.state === 'completed')).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: 'fetched', results: 3, errors: 0 });

    const state = await readBatchJobState(file);
    expect(state).toMatchObject({ version: 1, jobKey: 'job-1', backend: 'openai', fetched: true });
    expect(state?.batches).toHaveLength(1);
    expect(state?.batches[0]).toMatchObject({ state: 'completed', fetched: true });
    expect(state?.batches[0]?.id).toBe((events[0] as { batchId: string }).batchId);
    expect(state?.batches[0]?.requests).toEqual(
      requests.map((r) => [r.customId, 'gpt-4o', r.image.width, r.image.height]),
    );
  });

  it('splits a job over the request and byte limits into several batches, each recorded', async () => {
    const sim = await simulator();
    const file = await stateFile();
    const requests = await batchRequests(5, MODELS.anthropic);
    const backend = backendFor(sim, 'anthropic', { maxRequestsPerBatch: 2 });
    const items = await drain({ backend, jobKey: 'split', requests, stateFile: file });
    expect(items.size).toBe(5);
    expect(sim.stats.batchesCreated).toBe(3);
    const state = await readBatchJobState(file);
    expect(state?.batches.map((b) => b.requests.length)).toEqual([2, 2, 1]);

    const bytes = await simulator();
    const one = backendFor(bytes, 'openai');
    const limit = Math.ceil(one.requestBytes(requests[0]!) * 1.5);
    const bySize = backendFor(bytes, 'openai', { maxBatchBytes: limit });
    const sized = await drain({
      backend: bySize,
      jobKey: 'split-bytes',
      requests: await batchRequests(3, MODELS.openai),
      stateFile: await stateFile(),
    });
    expect(sized.size).toBe(3);
    expect(bytes.stats.batchesCreated).toBe(3);
  });

  it('a request larger than a whole batch is a BAD_REQUEST error; the others run', async () => {
    const sim = await simulator();
    const requests = await batchRequests(2, MODELS.openai);
    const probe = backendFor(sim, 'openai');
    const big: BatchRequest = {
      ...requests[0]!,
      customId: 'huge',
      pattern: { ...invoicePattern, instructions: 'x'.repeat(20_000) },
    };
    const backend = backendFor(sim, 'openai', { maxBatchBytes: probe.requestBytes(requests[0]!) + 1000 });
    const items = await drain({
      backend,
      jobKey: 'big',
      requests: [big, ...requests],
      stateFile: await stateFile(),
    });
    expect(items.get('huge')?.error).toMatchObject({ code: 'BAD_REQUEST' });
    expect(items.get('req-0')?.result?.output).toEqual(INVOICE_ANSWER);
    expect(items.get('req-1')?.result?.output).toEqual(INVOICE_ANSWER);
    expect(sim.stats.batchRequests).toBe(2);
  });

  it('a transient failure while polling or downloading is tried again; the job completes', async () => {
    const sim = await simulator();
    const events: BatchJobEvent[] = [];
    let injectedOnEnd = false;
    const items = await drain(
      {
        backend: backendFor(sim, 'openai'),
        jobKey: 'flaky',
        requests: await batchRequests(2, MODELS.openai),
        stateFile: await stateFile(),
        onStatus: (event) => {
          if (event.type === 'submitted') sim.inject('5xx', 2);
          if (event.type === 'status' && event.state === 'completed' && !injectedOnEnd) {
            injectedOnEnd = true;
            sim.inject('529', 1);
          }
        },
      },
      events,
    );
    expect(items.size).toBe(2);
    expect([...items.values()].every((i) => i.result !== undefined)).toBe(true);
    const retries = events.filter((e) => e.type === 'retrying');
    expect(retries.length).toBe(3);
    expect(retries[0]).toMatchObject({ error: { code: 'PROVIDER_UNAVAILABLE' } });
    expect(sim.stats.batchesCreated).toBe(1);
  });

  it('a batch that fails validation: every request is BAD_REQUEST naming why', async () => {
    const sim = await simulator();
    const requests = [
      ...(await batchRequests(1, 'gpt-4o', 'a')),
      ...(await batchRequests(1, 'gpt-4.1', 'b')),
    ];
    const items = await drain({
      backend: backendFor(sim, 'openai'),
      jobKey: 'invalid',
      requests,
      stateFile: await stateFile(),
    });
    expect(items.size).toBe(2);
    for (const item of items.values()) {
      expect(item.error).toMatchObject({ code: 'BAD_REQUEST', retryable: false });
      expect(item.error?.message).toMatch(/batch batch_\w+ failed: line 2: mismatched_model/);
    }
  });

  it('an expired batch: results for what ran, PROVIDER_UNAVAILABLE for the rest', async () => {
    const sim = await simulator({ batchFailures: (id) => (id === 'req-1' ? 'expired' : undefined) });
    const items = await drain({
      backend: backendFor(sim, 'anthropic'),
      jobKey: 'expired',
      requests: await batchRequests(3, MODELS.anthropic),
      stateFile: await stateFile(),
    });
    expect(items.get('req-0')?.result?.output).toEqual(INVOICE_ANSWER);
    expect(items.get('req-1')?.error).toMatchObject({ code: 'PROVIDER_UNAVAILABLE' });
    expect(items.get('req-2')?.error).toMatchObject({ code: 'PROVIDER_UNAVAILABLE' });
  });

  it('a request the provider reports nothing for is BAD_RESPONSE; lines for unknown ids are ignored', async () => {
    const submitted: string[][] = [];
    const fake: BatchBackend = {
      id: 'openai',
      limits: { maxRequests: 10, maxBytes: 1_000_000 },
      requestBytes: () => 10,
      submit: async (requests) => {
        submitted.push(requests.map((r) => r.customId));
        return { batchId: 'batch_fake' };
      },
      status: async () => ({ state: 'completed', counts: { total: 2, completed: 1, failed: 0 } }),
      async *results() {
        yield { customId: 'stranger', error: new VisionpipeError('BAD_REQUEST', 'not ours') };
        yield {
          customId: 'req-0',
          result: {
            output: {},
            model: 'm',
            usage: { input_tokens: 1, output_tokens: 1, image_tokens: 0, estimated: false },
          },
        };
        yield { customId: 'req-0', error: new VisionpipeError('BAD_REQUEST', 'a repeated line') };
      },
      close: async () => {},
    };
    const items = await drain({
      backend: fake,
      jobKey: 'fake',
      requests: await batchRequests(2, 'm'),
      stateFile: await stateFile(),
    });
    expect([...items.keys()].sort()).toEqual(['req-0', 'req-1']);
    expect(items.get('req-0')?.result).toBeDefined();
    expect(items.get('req-1')?.error).toMatchObject({ code: 'BAD_RESPONSE' });
    expect(submitted).toEqual([['req-0', 'req-1']]);
  });

  it('gives up after maxWaitMs with PROVIDER_TIMEOUT; the next run picks up the same batch', async () => {
    const sim = await simulator({ latency: { minMs: 40, maxMs: 40 } });
    const file = await stateFile();
    const requests = await batchRequests(3, MODELS.openai);
    const first = drain({
      backend: backendFor(sim, 'openai'),
      jobKey: 'slow',
      requests,
      stateFile: file,
      maxWaitMs: 20,
    });
    await expect(first).rejects.toMatchObject({ code: 'PROVIDER_TIMEOUT' });
    await expect(first).rejects.toThrow(/run again to pick them up/);
    const items = await drain({
      backend: backendFor(sim, 'openai'),
      jobKey: 'slow',
      requests,
      stateFile: file,
    });
    expect(items.size).toBe(3);
    expect(sim.stats.batchesCreated).toBe(1);
  });

  it('refuses bad or repeated custom ids, a state file of another unfinished job, and a damaged state file', async () => {
    const sim = await simulator({ latency: { minMs: 30, maxMs: 30 } });
    const [request] = await batchRequests(1, MODELS.openai);
    const backend = backendFor(sim, 'openai');
    const file = await stateFile();
    await expect(
      drain({ backend, jobKey: 'k', requests: [{ ...request!, customId: 'has space' }], stateFile: file }),
    ).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    await expect(
      drain({ backend, jobKey: 'k', requests: [request!, request!], stateFile: file }),
    ).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    await expect(drain({ backend, jobKey: '', requests: [], stateFile: file })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
    });
    await expect(
      drain({ backend, jobKey: 'k', requests: [], stateFile: file, pollIntervalMs: 0 }),
    ).rejects.toMatchObject({
      code: 'INVALID_OPTION',
    });

    const controller = new AbortController();
    await expect(
      drain({
        backend,
        jobKey: 'job-a',
        requests: [request!],
        stateFile: file,
        signal: controller.signal,
        onStatus: (e) => e.type === 'submitted' && controller.abort(),
      }),
    ).rejects.toMatchObject({ code: 'ABORTED' });
    await expect(drain({ backend, jobKey: 'job-b', requests: [request!], stateFile: file })).rejects.toThrow(
      /holds unfinished openai batches of another job \(job-a\)/,
    );
    await expect(
      drain({ backend: backendFor(sim, 'anthropic'), jobKey: 'job-a', requests: [], stateFile: file }),
    ).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    expect(sim.stats.batchesCreated).toBe(1);

    await writeFile(file, '{"version":1,"jobKey":"torn');
    await expect(drain({ backend, jobKey: 'job-a', requests: [request!], stateFile: file })).rejects.toThrow(
      /is not a visionpipe batch state; delete it to start over/,
    );
    expect(sim.stats.batchesCreated).toBe(1);
    expect(batchStateFile('/state', 'abc-123')).toBe(path.join('/state', 'batches', 'abc-123.json'));
    expect(batchStateFile('/state', 'run:with/odd chars')).toMatch(/batches[/\\][0-9a-f]{32}\.json$/);
  });
});

describe('runBatchJob: resume', () => {
  for (const id of ['openai', 'anthropic'] as const) {
    it(`${id}: a process SIGKILLed between submit and fetch; run again, the same batch is polled, never submitted twice, each image billed once`, async () => {
      const billed = new Map<string, number>();
      const sim = await simulator({
        latency: { minMs: 20, maxMs: 30 },
        onBilled: (event) => {
          expect(event.batch).toBe(true);
          billed.set(event.sha256, (billed.get(event.sha256) ?? 0) + 1);
        },
      });
      const file = await stateFile();
      const child = spawn(process.execPath, ['--import', 'tsx', CHILD, id, sim.baseUrls[id], file, '4'], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = once(child, 'exit');
      await waitFor(async () => {
        if (child.exitCode !== null) throw new Error(`child exited early: ${stderr}`);
        return ((await readBatchJobState(file))?.batches.length ?? 0) > 0;
      }, 'the child to record its batch');
      child.kill('SIGKILL');
      const [, signal] = await exited;
      expect(signal).toBe('SIGKILL');
      // Killed after submit, before fetch: the provider has the batch, the child has no result.
      expect(stdout).not.toContain('item ');
      expect(sim.stats.batchesCreated).toBe(1);
      const saved = await readBatchJobState(file);
      expect(saved).toMatchObject({ jobKey: `crash-${id}`, backend: id, fetched: false });
      const batchId = saved!.batches[0]!.id;

      const events: BatchJobEvent[] = [];
      const items = await drain(
        {
          backend: backendFor(sim, id),
          jobKey: `crash-${id}`,
          requests: await batchRequests(4, MODELS[id]),
          stateFile: file,
        },
        events,
      );
      expect(events[0]).toEqual({ type: 'resumed', batchIds: [batchId], requests: 4 });
      expect(events.some((e) => e.type === 'submitted')).toBe(false);
      expect([...items.keys()].sort()).toEqual(['req-0', 'req-1', 'req-2', 'req-3']);
      for (const item of items.values()) expect(item.result?.output).toEqual(INVOICE_ANSWER);
      expect(sim.stats.batchesCreated).toBe(1);
      expect(sim.stats.batchRequests).toBe(4);
      const creates =
        id === 'openai'
          ? ['openai POST /v1/files', 'openai POST /v1/batches']
          : ['anthropic POST /v1/messages/batches'];
      for (const route of creates) expect(sim.stats.requests[route]).toBe(1);
      expect(billed.size).toBe(4);
      expect([...billed.values()].every((n) => n === 1)).toBe(true);
      expect(await readBatchJobState(file)).toMatchObject({
        fetched: true,
        batches: [{ id: batchId, fetched: true }],
      });
    });
  }

  it('aborted between submit and fetch in process: the next run (even with no requests passed) delivers the batch', async () => {
    const sim = await simulator({ latency: { minMs: 5, maxMs: 10 } });
    const file = await stateFile();
    const controller = new AbortController();
    const requests = await batchRequests(3, MODELS.anthropic);
    await expect(
      drain({
        backend: backendFor(sim, 'anthropic'),
        jobKey: 'abort',
        requests,
        stateFile: file,
        signal: controller.signal,
        onStatus: (e) => e.type === 'submitted' && controller.abort(),
      }),
    ).rejects.toMatchObject({ code: 'ABORTED' });
    // The state file names the batch with its requests: the results need nothing else.
    const items = await drain({
      backend: backendFor(sim, 'anthropic'),
      jobKey: 'abort',
      requests: [],
      stateFile: file,
    });
    expect([...items.keys()].sort()).toEqual(['req-0', 'req-1', 'req-2']);
    expect(items.get('req-2')?.result?.usage.image_tokens).toBeGreaterThan(0);
    expect(sim.stats.batchesCreated).toBe(1);
  });

  it('a consumer that stops mid-fetch gets the batch again next run (fetched is marked only once all were taken)', async () => {
    const sim = await simulator();
    const file = await stateFile();
    const requests = await batchRequests(3, MODELS.openai);
    const job = runBatchJob({
      backend: backendFor(sim, 'openai'),
      jobKey: 'partial',
      requests,
      stateFile: file,
      pollIntervalMs: 5,
    });
    for await (const item of job) {
      expect(item.result).toBeDefined();
      break;
    }
    expect((await readBatchJobState(file))?.batches[0]?.fetched).toBe(false);
    const items = await drain({
      backend: backendFor(sim, 'openai'),
      jobKey: 'partial',
      requests,
      stateFile: file,
    });
    expect(items.size).toBe(3);
    expect(sim.stats.batchesCreated).toBe(1);
  });

  it('after a completed job: with every input cached nothing is submitted; the same requests again are a new job', async () => {
    const sim = await simulator();
    const file = await stateFile();
    const requests = await batchRequests(2, MODELS.openai);
    await drain({ backend: backendFor(sim, 'openai'), jobKey: 'done', requests, stateFile: file });
    const before = await readFile(file, 'utf8');

    // The caller's cache answers every input, so it passes no requests: nothing happens.
    const events: BatchJobEvent[] = [];
    const none = await drain(
      { backend: backendFor(sim, 'openai'), jobKey: 'done', requests: [], stateFile: file },
      events,
    );
    expect(none.size).toBe(0);
    expect(events).toEqual([]);
    expect(await readFile(file, 'utf8')).toBe(before);
    expect(sim.stats.batchesCreated).toBe(1);

    // A finished job is never resumed: the same inputs again (no cache) are new work.
    const again = await drain({
      backend: backendFor(sim, 'openai'),
      jobKey: 'done',
      requests,
      stateFile: file,
    });
    expect(again.size).toBe(2);
    expect(sim.stats.batchesCreated).toBe(2);
  });
});
