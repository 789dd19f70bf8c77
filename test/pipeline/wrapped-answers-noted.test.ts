/**
 * An answer read inside one wrapper key (`{"parameter": {…}}`: patterns/wrapped-output.ts)
 * says so in its record, in `cascade.repair` where the one repair call's note goes, on
 * both paths that unwrap: a direct call, and a provider batch (`run --batch-api`: several
 * images' requests in one batch). An answer that came as asked carries no note. The real
 * pipeline against the loopback simulator, whose model answers in those shapes.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPipeline } from '../../src/pipeline/create-pipeline.js';
import { createBatchBackend } from '../../src/providers/batch/index.js';
import { closeAllAgents } from '../../src/providers/http.js';
import { createProvider } from '../../src/providers/registry.js';
import type { InputItem } from '../../src/runs/inputs.js';
import { type SimCall, type Simulator, startSimulator } from '../../src/simulator/index.js';
import { batchRecords } from '../support/batch-run.js';
import { tempDir } from '../support/images.js';
import { vendorTotalPattern } from '../support/patterns.js';
import { solidJpeg } from '../support/simulator-fixtures.js';

const KEY = 'sk-test-wrapped-noted-0000';
const pattern = vendorTotalPattern('simple');
const ANSWER = { vendor_name: 'ACME', total: 12.5 };
const NOTE = 'unwrapped tool arguments from key "parameter"';
/** The 300 px wide image is answered wrapped, the 320 px one as asked. */
const WRAPPED_WIDTH = 300;

let sim: Simulator;
let files: { wrapped: string; plain: string };

beforeAll(async () => {
  const answer = (call: SimCall) => (call.image.width === WRAPPED_WIDTH ? { parameter: ANSWER } : ANSWER);
  sim = await startSimulator({ answer, latency: { minMs: 0, maxMs: 5 } });
  const dir = await tempDir('visionpipe-wrapped-noted-');
  files = { wrapped: path.join(dir, 'wrapped.jpg'), plain: path.join(dir, 'plain.jpg') };
  await writeFile(files.wrapped, await solidJpeg(WRAPPED_WIDTH, 200));
  await writeFile(files.plain, await solidJpeg(320, 200));
});
afterAll(async () => {
  await sim.close();
  await closeAllAgents();
});

const options = (api: 'openai' | 'anthropic') => ({ [api]: { apiKey: KEY, baseUrl: sim.baseUrls[api] } });

async function* items(): AsyncGenerator<InputItem> {
  for (const [name, file] of Object.entries(files))
    yield { kind: 'file', path: file, label: name, rel: name };
}

describe('an answer read inside its wrapper key says so in the record', () => {
  it.each(['openai', 'anthropic'] as const)('%s, one call per image', async (api) => {
    const pipeline = await createPipeline({
      pattern,
      provider: createProvider(api, options(api)),
      cache: { spec: 'off' },
    });
    try {
      const wrapped = await pipeline.process({ path: files.wrapped });
      expect(wrapped).toMatchObject({ status: 'ok', output: ANSWER, cascade: { repair: NOTE } });
      const plain = await pipeline.process({ path: files.plain });
      expect(plain).toMatchObject({ status: 'ok', output: ANSWER, cascade: { repair: null } });
    } finally {
      await pipeline.close();
    }
  });

  it.each(['openai', 'anthropic'] as const)('%s, both images in one provider batch', async (api) => {
    const pipeline = await createPipeline({
      pattern,
      provider: createProvider(api, options(api)),
      cache: { spec: 'off' },
    });
    const records = await batchRecords(items(), {
      backend: createBatchBackend(api, options(api)),
      pipeline,
      stateDir: await tempDir('visionpipe-wrapped-noted-state-'),
      jobKey: `wrapped-${api}`,
    });
    const byInput = new Map(records.map((r) => [r.input, r]));
    expect(records).toHaveLength(2);
    expect(byInput.get('wrapped')).toMatchObject({ status: 'ok', output: ANSWER, cascade: { repair: NOTE } });
    expect(byInput.get('plain')).toMatchObject({ status: 'ok', output: ANSWER, cascade: { repair: null } });
  });
});
