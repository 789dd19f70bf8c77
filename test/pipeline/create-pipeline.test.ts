import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SIZE_PROFILES } from '../../src/image/profiles.js';
import { createPipeline } from '../../src/pipeline/create-pipeline.js';
import type { ExtractRequest, ExtractResult, Provider } from '../../src/providers/spec.js';
import { ROOT } from '../support/cli.js';
import { corpus, textImage } from '../support/images.js';

const RECEIPT = path.join(ROOT, 'samples/patterns/receipt.yaml');

/** A scripted provider: the pipeline's own behaviour (validation, timeouts) under test, not a model. */
function scripted(
  answer: (request: ExtractRequest, signal: AbortSignal) => Promise<unknown>,
): Provider & { calls: ExtractRequest[] } {
  const calls: ExtractRequest[] = [];
  return {
    id: 'scripted',
    defaultModel: 'script-1',
    calls,
    sizeProfile: () => SIZE_PROFILES['openai-high'],
    estimateImageTokens: () => 0,
    async extract(request, signal): Promise<ExtractResult> {
      calls.push(request);
      return {
        output: await answer(request, signal),
        usage: { input_tokens: 10, output_tokens: 5, image_tokens: 8, estimated: false },
        model: request.model,
      };
    },
    close: async () => {},
  };
}

describe('createPipeline', () => {
  it('processes a Buffer with the local engine into a conforming record', async () => {
    const pipeline = await createPipeline({ pattern: RECEIPT });
    try {
      const image = await textImage(
        [{ text: 'CITY BAKERY', size: 40 }, '2024-02-29', 'TOTAL 12.40', 'Category: Meals'],
        {
          width: 900,
        },
      );
      const record = await pipeline.process(image, { label: 'bakery.png' });
      expect(record).toMatchObject({
        input: 'bakery.png',
        status: 'ok',
        provider: 'local',
        output: { merchant_name: 'CITY BAKERY', date: '2024-02-29', total_amount: 12.4 },
      });
    } finally {
      await pipeline.close();
    }
  });

  it("sends the image at the provider's size profile and reports the bytes", async () => {
    const provider = scripted(async () => ({
      merchant_name: 'x',
      date: null,
      total_amount: 1,
      category: null,
    }));
    const pipeline = await createPipeline({ pattern: RECEIPT, provider });
    const record = await pipeline.process(corpus('inventory4.jpg'));
    expect(provider.calls[0]!.image).toMatchObject({ width: 768, height: 1024, format: 'jpeg' });
    expect(record.image).toMatchObject({
      width: 768,
      height: 1024,
      original_bytes: (await readFile(corpus('inventory4.jpg'))).length,
    });
    expect(record.profile).toBe('openai-high');
    expect(record.usage).toEqual({ input_tokens: 10, output_tokens: 5, image_tokens: 8, estimated: false });
  });

  it('turns a non-conforming output into SCHEMA_MISMATCH, never passing it on as ok', async () => {
    const provider = scripted(async () => ({
      merchant_name: 42,
      date: 'x',
      total_amount: '12',
      extra: true,
    }));
    const pipeline = await createPipeline({ pattern: RECEIPT, provider });
    const record = await pipeline.process(corpus('car-plate1.jpg'));
    expect(record.status).toBe('error');
    expect(record.error?.code).toBe('SCHEMA_MISMATCH');
    expect(record.error?.message).toContain('/merchant_name');
    // Kept on the error record as parsed, to debug the failure; never an ok output.
    expect(record.output).toEqual({ merchant_name: 42, date: 'x', total_amount: '12', extra: true });
    expect(record.attempts).toBe(1);
  });

  it('enforces the per-image timeout and aborts the provider call', async () => {
    let aborted = false;
    const provider = scripted(
      (_request, signal) =>
        new Promise((_resolve, reject) => {
          signal.addEventListener('abort', () => {
            aborted = true;
            reject(signal.reason);
          });
        }),
    );
    const pipeline = await createPipeline({
      pattern: RECEIPT,
      provider,
      timeoutMs: 100,
      retry: { maxAttempts: 2, baseDelayMs: 1 },
    });
    const record = await pipeline.process(corpus('car-plate1.jpg'));
    expect(record.error?.code).toBe('PROVIDER_TIMEOUT');
    expect(record.attempts).toBe(2); // a timeout is retryable: tried twice
    expect(aborted).toBe(true);
  });

  it('runs a batch through a window and yields one record per item', async () => {
    const provider = scripted(async () => ({
      merchant_name: null,
      date: null,
      total_amount: null,
      category: null,
    }));
    const pipeline = await createPipeline({ pattern: RECEIPT, provider });
    const items = ['car-plate1.jpg', 'car-plate2.jpg', 'missing.jpg'].map((name) => ({
      kind: 'file' as const,
      label: name,
      path: corpus(name),
      rel: name,
    }));
    const records = [];
    for await (const record of pipeline.run(items, { concurrency: 2 })) records.push(record);
    expect(records.map((r) => r.status).sort()).toEqual(['error', 'ok', 'ok']);
    expect(records.find((r) => r.status === 'error')?.error?.code).toBe('NOT_FOUND');
  });
});
