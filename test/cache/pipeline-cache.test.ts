import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { openCache } from '../../src/cache/open-cache.js';
import { VisionpipeError } from '../../src/errors.js';
import { SIZE_PROFILES } from '../../src/image/profiles.js';
import { parsePattern } from '../../src/patterns/index.js';
import { createPipeline } from '../../src/pipeline/create-pipeline.js';
import type { RunRecord } from '../../src/pipeline/record.js';
import type { ExtractRequest, Provider } from '../../src/providers/spec.js';
import { corpus, photoLikeJpeg, tempDir } from '../support/images.js';

const receipt = (instructions = 'One row per receipt.') =>
  parsePattern(
    { name: 'receipt', format: 'csv', instructions, csv_schema: 'merchant_name,date,total_amount,category' },
    'test',
  );

/**
 * A provider that counts its calls and answers with the content hash it was given, so
 * a stale cached answer would be visible. It stands in for a paid model: the pipeline's
 * caching is under test, not extraction.
 */
function countingProvider(options: { failFirst?: number; delayMs?: number } = {}) {
  const calls: ExtractRequest[] = [];
  let failures = options.failFirst ?? 0;
  const provider: Provider = {
    id: 'counting',
    defaultModel: 'count-1',
    sizeProfile: () => SIZE_PROFILES.max2048,
    estimateImageTokens: () => 100,
    async extract(request) {
      calls.push(request);
      await new Promise((resolve) => setTimeout(resolve, options.delayMs ?? 5));
      if (failures > 0) {
        failures--;
        throw new VisionpipeError('PROVIDER_UNAVAILABLE', 'simulated outage');
      }
      return {
        output: {
          merchant_name: request.image.sha256.slice(0, 12),
          date: null,
          total_amount: 1,
          category: null,
        },
        usage: { input_tokens: 120, output_tokens: 20, image_tokens: 100, estimated: false },
        model: request.model,
      };
    },
    close: async () => {},
  };
  return { provider, calls };
}

async function twoSameSizeJpegs(): Promise<[Buffer, Buffer]> {
  const pixels = await photoLikeJpeg(320, 240, 5);
  const a = await sharp(pixels)
    .withExif({ IFD0: { Copyright: 'AAAA' } })
    .jpeg({ quality: 80 })
    .toBuffer();
  const b = await sharp(pixels)
    .withExif({ IFD0: { Copyright: 'BBBB' } })
    .jpeg({ quality: 80 })
    .toBuffer();
  expect(a.length).toBe(b.length);
  expect(a.equals(b)).toBe(false);
  return [a, b];
}

describe('result cache in the pipeline', () => {
  it('never returns the old result for a file rewritten in place with size and mtime restored', async () => {
    const stateDir = await tempDir('visionpipe-state-');
    const file = path.join(await tempDir('visionpipe-in-'), 'scan.jpg');
    const [a, b] = await twoSameSizeJpegs();
    await writeFile(file, a);
    const { provider, calls } = countingProvider();
    const runOnce = async () => {
      const cache = await openCache({ spec: 'sqlite', stateDir });
      const pipeline = await createPipeline({ pattern: receipt(), provider, cache });
      const record = await pipeline.process({ path: file });
      await pipeline.close();
      await cache.close();
      return record;
    };
    const first = await runOnce();
    const again = await runOnce();
    expect(again.cache).toBe('hit');
    expect(again.output).toEqual(first.output);

    const before = await stat(file, { bigint: true });
    const reference = `${file}.ref`;
    execFileSync('touch', ['-r', file, reference]); // remember the exact (nanosecond) mtime
    await writeFile(file, b);
    execFileSync('touch', ['-r', reference, file]); // restore it, as `touch -r` or rsync would
    const after = await stat(file, { bigint: true });
    expect([after.size, after.mtimeNs]).toEqual([before.size, before.mtimeNs]);

    const rewritten = await runOnce();
    expect(rewritten.cache).toBe('miss');
    expect((rewritten.output as { merchant_name: string }).merchant_name).not.toBe(
      (first.output as { merchant_name: string }).merchant_name,
    );
    expect(calls).toHaveLength(2);
  });

  it('skips reading an unchanged file on a re-run (stat memo), and the hit costs nothing', async () => {
    const stateDir = await tempDir('visionpipe-state-');
    const { provider, calls } = countingProvider();
    const results: RunRecord[] = [];
    for (let i = 0; i < 2; i++) {
      const cache = await openCache({ spec: 'sqlite', stateDir });
      const pipeline = await createPipeline({ pattern: receipt(), provider, cache });
      results.push(await pipeline.process({ path: corpus('invoice1.jpg') }));
      expect(cache.memo?.lookup(corpus('invoice1.jpg'))).toBe(results[0]!.sha256);
      await pipeline.close();
      await cache.close();
    }
    expect(calls).toHaveLength(1);
    expect(results[1]).toMatchObject({ cache: 'hit', attempts: 0, cost_usd: 0, sha256: results[0]!.sha256 });
    expect(results[1]!.usage.input_tokens).toBe(0);
  });

  it('a changed pattern (instructions or schema) is a miss; the same pattern is a hit', async () => {
    const cache = await openCache({ spec: 'memory' });
    const { provider, calls } = countingProvider();
    const one = await createPipeline({ pattern: receipt('One row per receipt.'), provider, cache });
    await one.process(corpus('car-plate1.jpg'));
    const same = await createPipeline({ pattern: receipt('One row per receipt.'), provider, cache });
    expect((await same.process(corpus('car-plate1.jpg'))).cache).toBe('hit');
    const changed = await createPipeline({
      pattern: receipt('One row per receipt; totals include tax.'),
      provider,
      cache,
    });
    expect((await changed.process(corpus('car-plate1.jpg'))).cache).toBe('miss');
    expect(calls).toHaveLength(2);
    await cache.close();
  });

  it('never caches errors: a failed image is sent again next time', async () => {
    const cache = await openCache({ spec: 'memory' });
    const { provider, calls } = countingProvider({ failFirst: 1 });
    const pipeline = await createPipeline({ pattern: receipt(), provider, cache, retry: { maxAttempts: 1 } });
    const failed = await pipeline.process(corpus('car-plate2.jpg'));
    expect(failed.error?.code).toBe('PROVIDER_UNAVAILABLE');
    const retried = await pipeline.process(corpus('car-plate2.jpg'));
    expect(retried).toMatchObject({ status: 'ok', cache: 'miss' });
    expect(calls).toHaveLength(2);
    await cache.close();
  });

  it('exact duplicates under other names are processed once (single-flight when concurrent)', async () => {
    const dir = await tempDir('visionpipe-dups-');
    const bytes = await readFile(corpus('parking1.jpg'));
    const items = await Promise.all(
      ['a.jpg', 'b.jpg', 'c.jpg', 'd.jpg', 'e.jpg'].map(async (name) => {
        await writeFile(path.join(dir, name), bytes);
        return { kind: 'file' as const, label: name, path: path.join(dir, name), rel: name };
      }),
    );
    for (const concurrency of [5, 1]) {
      const { provider, calls } = countingProvider({ delayMs: 50 });
      const pipeline = await createPipeline({ pattern: receipt(), provider });
      const records: RunRecord[] = [];
      for await (const record of pipeline.run(items, { concurrency })) records.push(record);
      await pipeline.close();
      expect(calls, `concurrency ${concurrency}`).toHaveLength(1);
      expect(records.map((r) => r.cache).sort()).toEqual(['dedup', 'dedup', 'dedup', 'dedup', 'miss']);
      const original = records.find((r) => r.cache === 'miss')!;
      for (const duplicate of records.filter((r) => r.cache === 'dedup')) {
        expect(duplicate.output).toEqual(original.output);
        expect(duplicate).toMatchObject({
          attempts: 0,
          cost_usd: 0,
          duplicate_of: { input: original.input, distance: 0 },
        });
      }
    }
  });

  it('near-duplicates (opt-in) reuse the first result and record the distance', async () => {
    const original = await readFile(corpus('invoice2.jpg'));
    const copy = await sharp(original).resize(1600).jpeg({ quality: 70 }).toBuffer();
    const other = await readFile(corpus('parking3.jpg'));
    const { provider, calls } = countingProvider();
    const pipeline = await createPipeline({ pattern: receipt(), provider, nearDuplicateDistance: 6 });
    const first = await pipeline.process(original, { label: 'invoice2.jpg' });
    const near = await pipeline.process(copy, { label: 'invoice2-small.jpg' });
    const unrelated = await pipeline.process(other, { label: 'parking3.jpg' });
    expect(first.cache).toBe('miss');
    expect(near.cache).toBe('near-dup');
    expect(near.output).toEqual(first.output);
    expect(near.duplicate_of?.input).toBe('invoice2.jpg');
    // Its own content hash (evaluation and resume key on it); the original's is in duplicate_of.
    expect(near.sha256).toBe(createHash('sha256').update(copy).digest('hex'));
    expect(near.duplicate_of?.sha256).toBe(first.sha256);
    expect(near.duplicate_of?.distance).toBeGreaterThan(0);
    expect(near.duplicate_of?.distance).toBeLessThanOrEqual(6);
    expect(unrelated.cache).toBe('miss');
    expect(calls).toHaveLength(2);
    // Off by default: the same copy is paid for.
    const strict = await createPipeline({ pattern: receipt(), provider });
    await strict.process(original);
    expect((await strict.process(copy)).cache).toBe('miss');
  });
});
