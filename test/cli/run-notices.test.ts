/**
 * What `visionpipe run` says about its own setup: a mistyped --limiter is a usage error
 * whether or not a limit uses it, the "Resuming" line and the summary agree on how many
 * earlier results there were and how many were kept, and `--cache memory` says once that
 * nothing outlives the run. Real CLI processes, real images; the runs that read an image
 * are answered by the simulator (what is read is not the subject: the local engine's OCR
 * cost ~2 s of CPU a run).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firstReasons } from '../../src/pipeline/merge-pages.js';
import type { Summary } from '../../src/runs/summary.js';
import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import { openAiFlags, ROOT, readRecords, runCli } from '../support/cli.js';
import { tempDir } from '../support/images.js';

const RECEIPT = path.join(ROOT, 'samples/patterns/receipt.yaml');
const GRADIENT = path.join(ROOT, 'samples/images/gradient-001.png'); // no text: quick to read
const NOISE = path.join(ROOT, 'samples/images/noise-001.jpg');
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({
    answer: () => ({ merchant_name: 'Shop', date: '2024-07-01', total_amount: 1.5, category: 'other' }),
  });
});

afterAll(async () => {
  await sim?.close();
});

/** `visionpipe run …args` in `cwd` against the simulator, with a test key. */
const runSim = (args: string[], cwd: string) =>
  runCli([...args, ...openAiFlags(sim.baseUrls.openai)], { cwd, env: { OPENAI_API_KEY: 'sk-test-notices' } });

describe('--limiter is checked when given', () => {
  it('exits 2 on a mistyped scheme or kind without --rpm, naming the flag, the value and the closest spec', async () => {
    const work = await tempDir('visionpipe-work-');
    const scheme = await runCli(['run', GRADIENT, '-p', RECEIPT, '--limiter', 'redsi://127.0.0.1:6379'], {
      cwd: work,
    });
    expect(scheme.code).toBe(2);
    expect(scheme.stderr).toContain('--limiter "redsi://127.0.0.1:6379" must be memory or a redis://');
    expect(scheme.stderr).toContain('Did you mean "redis://127.0.0.1:6379"?');
    const kind = await runCli(['run', GRADIENT, '-p', RECEIPT, '--limiter', 'memroy'], { cwd: work });
    expect(kind.code).toBe(2);
    expect(kind.stderr).toMatch(/--limiter "memroy" .*Did you mean "memory"\?/);
    // The same check for a limiter from the config file.
    await writeFile(path.join(work, 'visionpipe.config.yaml'), 'limiter: redsi://cache:6379\n');
    const config = await runCli(['run', GRADIENT, '-p', RECEIPT], { cwd: work });
    expect(config.code).toBe(2);
    expect(config.stderr).toMatch(/limiter \(.*visionpipe\.config\.yaml\) "redsi:\/\/cache:6379"/);
    expect(config.stderr).toContain('Did you mean "redis://cache:6379"?');
  });
});

describe('resume and --cache memory say what is kept', () => {
  it('the Resuming line and the summary give the same earlier count, and the summary how many were kept', async () => {
    const work = await tempDir('visionpipe-work-');
    const first = await runSim(['run', GRADIENT, NOISE, '-p', RECEIPT], work);
    expect(first.code, first.stderr).toBe(0);
    // One of the two inputs this time: 2 results on file, 1 kept.
    const one = await runSim(['run', GRADIENT, '-p', RECEIPT], work);
    expect(one.stderr).toContain('Resuming: 2 results of an earlier run');
    expect(one.stdout).toContain(
      '1 kept from an earlier run (of 2 on file; 1 for inputs not given this time',
    );
    const json = JSON.parse((await runSim(['run', GRADIENT, NOISE, '-p', RECEIPT, '--json'], work)).stdout);
    expect(json as Summary).toMatchObject({ earlier_results: 2, resumed: 2 });
    const both = await runSim(['run', GRADIENT, NOISE, '-p', RECEIPT], work);
    expect(both.stderr).toContain('Resuming: 2 results');
    expect(both.stdout).toMatch(/2 kept from an earlier run with/);
  });

  it('--cache memory says once on stderr that nothing is kept between runs', async () => {
    const work = await tempDir('visionpipe-work-');
    const run = await runSim(
      ['run', GRADIENT, '-p', RECEIPT, '--cache', 'memory', '--limiter', 'memory'],
      work,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr.match(/nothing is kept between runs/g)).toHaveLength(1);
    const sqlite = await runSim(['run', GRADIENT, '-p', RECEIPT, '--fresh'], work);
    expect(sqlite.stderr).not.toContain('nothing is kept between runs');
  });
});

describe('wording', () => {
  it('--max-input-bytes takes and shows sizes, in its help, its errors and INPUT_TOO_LARGE', async () => {
    const work = await tempDir('visionpipe-work-');
    const help = await runCli(['run', '--help']);
    expect(help.stdout.replace(/\s+/g, ' ')).toMatch(
      /--max-input-bytes <size> refuse larger inputs \(a size: 20MB, 500kB, 50MiB; a bare number is bytes\) \(default: 50MiB\)/,
    );
    const bad = await runSim(['run', GRADIENT, '-p', RECEIPT, '--max-input-bytes', '20XB'], work);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('expected a size: 20MB, 500kB, 50MiB; a bare number is bytes, got "20XB"');
    const small = await runSim(['run', NOISE, '-p', RECEIPT, '--max-input-bytes', '1kB', '--json'], work);
    const [record] = await readRecords(path.join(work, 'results.jsonl'));
    expect(record?.error?.code, small.stderr).toBe('INPUT_TOO_LARGE');
    expect(record?.error?.message).toMatch(/noise-001\.jpg: [\d.]+ kB exceeds the 1kB input limit$/);
  });

  it('a run that made no provider call says so instead of p50 0 ms', async () => {
    const work = await tempDir('visionpipe-work-');
    const first = await runSim(['run', GRADIENT, '-p', RECEIPT], work);
    expect(first.stdout).toMatch(/latency p50 \d/);
    const cached = await runSim(['run', GRADIENT, '-p', RECEIPT, '--fresh'], work);
    expect(cached.stdout).toContain('latency: no provider call in this run (1 cached)');
    expect(cached.stdout).not.toContain('p50 0 ms');
  });

  it("a document no page of which is relevant names the first pages' reasons and counts the rest", () => {
    const records = Array.from({ length: 50 }, (_, i) => ({
      page: i + 1,
      record: { reason: `not it ${i + 1}` },
    }));
    const reason = firstReasons(records);
    expect(reason).toBe('page 1: not it 1; page 2: not it 2; page 3: not it 3 (and 47 more pages)');
    expect(firstReasons(records.slice(0, 3))).not.toContain('more');
  });
});
