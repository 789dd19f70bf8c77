/**
 * The README's library example, run as written against the public entry point: the
 * pipeline on real sample images with the local engine, one record per input, errors as
 * records.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as visionpipe from '../src/index.js';
import { createPipeline, expandInputs, type RunRecord } from '../src/index.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const sample = (name: string) => path.join(ROOT, 'samples/images', name);

describe('library entry point', () => {
  it('exports every part the README names', () => {
    for (const name of [
      'createPipeline',
      'expandInputs',
      'optimizeImage',
      'preprocessImage',
      'targetSize',
      'perceptualHash',
      'loadPattern',
      'validateOutput',
      'render',
      'createProvider',
      'costUsd',
      'createLimiter',
      'retry',
      'callWithPolicy',
      'openCache',
      'startSimulator',
      // docs/flow-control.md and docs/providers.md use these as a user would.
      'breakerFor',
      'AdaptiveFlow',
      'createBatchBackend',
      'runBatchJob',
      'batchStateFile',
    ]) {
      expect(typeof (visionpipe as Record<string, unknown>)[name], name).toBe('function');
    }
  });

  it('runs the README example on samples: records, not exceptions', async () => {
    const pipeline = await createPipeline({
      pattern: path.join(ROOT, 'samples/patterns/invoice.json'),
      cache: { spec: 'memory' },
    });
    try {
      const one = await pipeline.process(sample('invoice-001.png'));
      expect(one.status).toBe('ok');
      expect(visionpipe.validateOutput(pipeline.pattern, one.output)).toEqual([]);
      expect(one.cost_usd).toBe(0);

      const records: RunRecord[] = [];
      const inputs = expandInputs([
        sample('invoice-001.png'),
        sample('invoice-002.png'),
        sample('invoice-004-duplicate.png'), // a byte-for-byte copy of invoice-002
        sample('nope.png'),
      ]);
      for await (const record of pipeline.run(inputs, { concurrency: 2 })) records.push(record);
      expect(records).toHaveLength(4);
      const byName = new Map(records.map((r) => [path.basename(r.input), r]));
      // Seen before in this pipeline's life (an in-memory cache): reused, not paid again.
      expect(byName.get('invoice-001.png')?.cache).toBe('dedup');
      const copies = [byName.get('invoice-002.png'), byName.get('invoice-004-duplicate.png')];
      expect(copies.map((r) => r?.cache).sort()).toEqual(['dedup', 'miss']);
      expect(copies[0]?.output).toEqual(copies[1]?.output);
      expect(byName.get('nope.png')?.status).toBe('error');
      expect(byName.get('nope.png')?.error?.code).toBe('NOT_FOUND');
    } finally {
      await pipeline.close();
    }
  }, 60_000);
});
