/**
 * A rerun does not pay again for a failure that will repeat (issue 13): a SCHEMA_MISMATCH
 * from the same model on the same bytes and pattern, and an image that cannot be decoded,
 * are remembered in the cache and handed back for nothing; `--retry-failed` sends them
 * again. A transient failure (the provider's 5xx) is never remembered: the rerun tries
 * it again. Real CLI runs, real simulator counting what it answered.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import { ROOT, readRecords, runOpenAiCompatible } from '../support/cli.js';
import { tempDir } from '../support/images.js';
import { solidJpeg } from '../support/simulator-fixtures.js';

const PATTERN = path.join(ROOT, 'samples/patterns/invoice.json');
let folder: string;
let images: string;
let broken: Simulator;
let down: Simulator;

beforeAll(async () => {
  folder = await tempDir('visionpipe-memo-');
  images = path.join(folder, 'images');
  await mkdir(images);
  await writeFile(path.join(images, 'a.jpg'), await solidJpeg(50, 40, '#112233'));
  await writeFile(path.join(images, 'b.jpg'), await solidJpeg(52, 40, '#445566'));
  // A JPEG cut short: sharp cannot decode it, on any run.
  await writeFile(path.join(images, 'cut.jpg'), (await solidJpeg(90, 90)).subarray(0, 120));
  // A model that always answers a total that is not a number: SCHEMA_MISMATCH every time.
  broken = await startSimulator({ answer: () => ({ invoice_number: 'INV-1', total: 'twelve' }) });
  // A provider that is down: every call a 5xx.
  down = await startSimulator({ answer: 'empty', faults: { rate5xx: 1 } });
});

afterAll(async () => {
  await broken?.close();
  await down?.close();
});

async function run(sim: Simulator, stateDir: string, extra: string[] = []) {
  const out = path.join(folder, `${path.basename(stateDir)}.jsonl`);
  const result = await runOpenAiCompatible(images, {
    pattern: PATTERN,
    baseUrl: sim.baseUrls.openai,
    out,
    extra: ['--max-attempts', '1', '--state-dir', path.join(folder, stateDir), ...extra],
    cwd: folder,
  });
  const records = await readRecords(out);
  const byName = (name: string) => records.find((r) => r.input.endsWith(name))!;
  return { result, records, byName };
}

const modelCalls = (sim: Simulator) => sim.stats.requests['openai POST /v1/chat/completions'] ?? 0;

describe('deterministic failures are remembered', () => {
  it('a rerun hands back SCHEMA_MISMATCH and IMAGE_DECODE for nothing; --retry-failed sends them again', async () => {
    const first = await run(broken, 'state-broken');
    expect(first.byName('a.jpg').error?.code).toBe('SCHEMA_MISMATCH');
    expect(first.byName('b.jpg').error?.code).toBe('SCHEMA_MISMATCH');
    expect(first.byName('cut.jpg').error?.code).toBe('IMAGE_DECODE');
    expect(first.byName('a.jpg').cost_usd).toBeGreaterThan(0);
    const paid = modelCalls(broken);
    expect(paid).toBe(2);

    // The same command again: it resumes, and the errors are run again… from memory.
    const second = await run(broken, 'state-broken');
    expect(modelCalls(broken)).toBe(paid);
    for (const name of ['a.jpg', 'b.jpg', 'cut.jpg']) {
      const record = second.byName(name);
      expect(record.status).toBe('error');
      expect(record.error?.message).toContain('remembered from');
      expect(record.error?.message).toContain('--retry-failed');
      expect(record.attempts).toBe(0);
      expect(record.cost_usd ?? 0).toBe(0);
      // A remembered answer is a hit; an input refused before any call (it does not decode)
      // is in neither hits nor misses (refused-cache.test.ts).
      expect(record.cache).toBe(name === 'cut.jpg' ? null : 'hit');
    }
    expect(second.byName('a.jpg').error?.code).toBe('SCHEMA_MISMATCH');
    expect(second.byName('cut.jpg').error?.code).toBe('IMAGE_DECODE');

    const third = await run(broken, 'state-broken', ['--retry-failed']);
    expect(modelCalls(broken)).toBe(paid + 2);
    expect(third.byName('a.jpg').error?.message).not.toContain('remembered from');
    expect(third.byName('a.jpg').attempts).toBeGreaterThan(0);
  });

  it('a transient failure (provider 5xx) is not remembered: the rerun calls again', async () => {
    const first = await run(down, 'state-down');
    expect(first.byName('a.jpg').error?.code).toBe('PROVIDER_UNAVAILABLE');
    const calls = down.stats.faults['5xx'];
    expect(calls).toBeGreaterThanOrEqual(2);
    const second = await run(down, 'state-down');
    expect(second.byName('a.jpg').error?.code).toBe('PROVIDER_UNAVAILABLE');
    expect(second.byName('a.jpg').error?.message).not.toContain('remembered from');
    expect(down.stats.faults['5xx']).toBeGreaterThanOrEqual(calls + 2);
  });
});
