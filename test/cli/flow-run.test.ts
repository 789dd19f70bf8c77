/**
 * `visionpipe run` as a new user runs it against an OpenAI-compatible server whose
 * limit it was not told (issue 10): a zoo server capping calls in flight with bare 429s,
 * plus 5xx and connection resets. No --rpm: every valid image must come back ok, with the
 * refusals in `rate_limited` and not in `attempts`.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/pipeline/record.js';
import { type AdmissionEvent, type Simulator, startSimulator } from '../../src/simulator/index.js';
import { ROOT, runCli } from '../support/cli.js';
import { tempDir } from '../support/images.js';
import { solidJpeg } from '../support/simulator-fixtures.js';

const PATTERN = path.join(ROOT, 'samples/patterns/receipt.yaml');
const VALID = 40;
let folder: string;
let sim: Simulator;
const events: AdmissionEvent[] = [];

beforeAll(async () => {
  folder = await tempDir('visionpipe-flow-run-');
  for (let i = 0; i < VALID; i++)
    await writeFile(
      path.join(folder, `r-${i}.jpg`),
      await solidJpeg(80 + i, 60, `#${(0x203040 + i * 777).toString(16).slice(-6)}`),
    );
  await writeFile(path.join(folder, 'broken.jpg'), (await solidJpeg(90, 90)).subarray(0, 120));
  sim = await startSimulator({
    answer: 'empty',
    latency: { minMs: 50, maxMs: 150 },
    limiter: { shape: 'concurrency', maxInFlight: 5 },
    faults: { rate5xx: 0.05, rateReset: 0.01 },
    seed: 5,
    onAdmission: (event) => events.push(event),
  });
});

afterAll(async () => {
  await sim?.close();
});

describe('visionpipe run against a server it was not told the limit of', () => {
  it('loses no valid image at --concurrency 20, counts refusals apart from attempts', async () => {
    const out = path.join(folder, 'results.jsonl');
    const result = await runCli(
      [
        'run',
        folder,
        '--pattern',
        PATTERN,
        '--provider',
        'openai',
        '--model',
        'gpt-4o-mini',
        '--base-url',
        sim.baseUrls.openai,
        '--concurrency',
        '20',
        '--cache',
        'off',
        '--out',
        out,
      ],
      { cwd: folder, env: { OPENAI_API_KEY: 'sk-flow-test' } },
    );
    const records = (await readFile(out, 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as RunRecord);
    expect(records).toHaveLength(VALID + 1);
    const bad = records.filter((r) => r.status !== 'ok' && !r.input.endsWith('broken.jpg'));
    expect(bad.map((r) => `${r.input}: ${r.error?.message}`)).toEqual([]);
    expect(records.find((r) => r.input.endsWith('broken.jpg'))?.status).toBe('error');
    const refused = events.filter((e) => !e.admitted).length;
    expect(refused).toBeGreaterThan(0);
    expect(records.reduce((sum, r) => sum + r.rate_limited.count, 0)).toBe(refused);
    // Attempts count only the calls that were not refused: one each, plus the faults' retries.
    const extra = records.reduce((sum, r) => sum + Math.max(0, r.attempts - 1), 0);
    // (A reset of a reused keep-alive socket may be retried by the HTTP client itself.)
    expect(extra).toBeGreaterThanOrEqual(sim.stats.faults['5xx']);
    expect(extra).toBeLessThanOrEqual(sim.stats.faults['5xx'] + sim.stats.faults.reset);
    expect(result.code).toBe(0);
  });
});
