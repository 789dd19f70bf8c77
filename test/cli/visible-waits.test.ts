/**
 * Waiting is visible (issue 13): a run held back by the provider's rate limit says so in
 * its progress output while it waits (`waiting 3 s: rate limited by provider openai
 * (Retry-After)`), and the summary, text and --json, counts the refused calls and the
 * time spent waiting, matching the records. Real CLI, real simulator with a fixed window
 * that answers 429 + Retry-After.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Summary } from '../../src/runs/summary.js';
import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import { ROOT, readRecords, runOpenAiCompatible } from '../support/cli.js';
import { tempDir } from '../support/images.js';
import { solidJpeg } from '../support/simulator-fixtures.js';

const PATTERN = path.join(ROOT, 'samples/patterns/receipt.yaml');
const IMAGES = 6;
let folder: string;
let sim: Simulator | undefined;

beforeAll(async () => {
  folder = await tempDir('visionpipe-waits-');
  for (let i = 0; i < IMAGES; i++)
    await writeFile(
      path.join(folder, `w-${i}.jpg`),
      await solidJpeg(60 + i, 50, `#${(0x405060 + i * 999).toString(16)}`),
    );
});

afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function runAgainstWindow(extra: string[]) {
  // 2 calls per 2.5 s window: the first burst is refused with a Retry-After of ~3 s.
  sim = await startSimulator({
    answer: 'empty',
    limiter: { shape: 'fixed-window', rps: 0.8, windowMs: 2500 },
  });
  const out = path.join(folder, `results-${extra.length}.jsonl`);
  const result = await runOpenAiCompatible(folder, {
    pattern: PATTERN,
    baseUrl: sim.baseUrls.openai,
    out,
    extra: ['--concurrency', '6', '--cache', 'off', ...extra],
    cwd: folder,
    env: { VISIONPIPE_PROGRESS_INTERVAL_MS: '200' },
  });
  const records = await readRecords(out);
  return { result, records };
}

describe('a run held back by the rate limit', () => {
  it('says what it waits on while waiting, and the summary counts refusals and waiting time', async () => {
    const { result, records } = await runAgainstWindow([]);
    expect(result.code).toBe(0);
    expect(records.every((r) => r.status === 'ok')).toBe(true);
    const refused = records.reduce((sum, r) => sum + r.rate_limited.count, 0);
    expect(refused).toBeGreaterThan(0);
    // Announced when the pause starts, and shown in the periodic progress line in place of the ETA.
    expect(result.stderr).toMatch(/^waiting \d+ s: rate limited by provider openai \(Retry-After\)$/m);
    expect(result.stderr).toMatch(/^run: \d+\/\d+.*, waiting \d+ s: rate limited by provider openai/m);
    const line = result.stdout.split('\n').find((l) => l.includes('waiting on rate limit'));
    expect(line).toContain(`${refused} × refused`);
    expect(line).toMatch(
      /waiting on rate limit: held [\dm.]+ ?s \(wall time with a call held\) · calls waited [\dm.]+ ?s in all/,
    );
  });

  it('--json reports rate_limited {count, wait_ms} equal to the records', async () => {
    const { result, records } = await runAgainstWindow(['--json']);
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout) as Summary;
    const refused = records.reduce((sum, r) => sum + r.rate_limited.count, 0);
    const waited = records.reduce((sum, r) => sum + r.rate_limited.wait_ms, 0);
    expect(refused).toBeGreaterThan(0);
    expect(summary.rate_limited.count).toBe(refused);
    expect(summary.rate_limited.wait_ms).toBe(Math.round(waited));
    expect(summary.rate_limited.wait_ms).toBeGreaterThan(0);
    expect(summary.retries).toBe(0);
  });
});
