import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/pipeline/record.js';
import type { Summary } from '../../src/runs/summary.js';
import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import { type CliOptions, openAiFlags, ROOT, runCli } from '../support/cli.js';
import { tempDir, textImage } from '../support/images.js';

const PATTERN = path.join(ROOT, 'samples/patterns/receipt.yaml');
/**
 * Killed after 3 records, so 2 are left to resume: each call waits 1 s in the simulator
 * (resuming is the subject, not what is read: no local OCR, which cost ~2.5 s of CPU a run).
 */
const COUNT = 5;
let folder: string;
let sim: Simulator;

/** `visionpipe run …args` against the simulator, with a test key. */
function run(args: string[], cwd: string, onSpawn?: CliOptions['onSpawn']) {
  return runCli([...args, ...openAiFlags(sim.baseUrls.openai)], {
    cwd,
    env: { OPENAI_API_KEY: 'sk-test-resume' },
    ...(onSpawn ? { onSpawn } : {}),
  });
}

async function records(file: string): Promise<RunRecord[]> {
  const text = await readFile(file, 'utf8');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as RunRecord);
}

/** Runs the CLI and SIGKILLs it as soon as `out` holds `after` complete records. */
function runAndKill(args: string[], cwd: string, out: string, after: number) {
  return run(args, cwd, (child) => {
    const poll = setInterval(async () => {
      const text = await readFile(out, 'utf8').catch(() => '');
      if (text.split('\n').filter((l) => l !== '').length >= after) {
        clearInterval(poll);
        child.kill('SIGKILL');
      }
    }, 20);
    child.once('exit', () => clearInterval(poll));
  });
}

beforeAll(async () => {
  sim = await startSimulator({
    latency: { minMs: 1000, maxMs: 1000 },
    answer: () => ({ merchant_name: 'Shop', date: '2024-07-01', total_amount: 1.5, category: 'other' }),
  });
  folder = await tempDir('visionpipe-resume-');
  for (let i = 0; i < COUNT; i++) {
    const image = await textImage(
      [{ text: `SHOP NUMBER ${i}`, size: 40 }, '2024-07-0' + (i + 1), `TOTAL  ${i + 1}.50`],
      {
        width: 800,
      },
    );
    await writeFile(path.join(folder, `r${i}.png`), image);
  }
});

afterAll(async () => {
  await sim?.close();
});

describe('resume after a killed run', () => {
  for (const cache of ['sqlite', 'off']) {
    it(`SIGKILL mid-run, same command again: nothing finished is redone, one record per input (--cache ${cache})`, async () => {
      const work = await tempDir('visionpipe-work-');
      const out = path.join(work, 'results.jsonl');
      const args = [
        'run',
        folder,
        '-p',
        PATTERN,
        '--out',
        out,
        '--concurrency',
        '1',
        '--cache',
        cache,
        '--json',
      ];
      const killed = await runAndKill(args, work, out, 3);
      expect(killed.signal).toBe('SIGKILL');
      const before = await records(out);
      expect(before.length).toBeGreaterThanOrEqual(3);
      expect(before.length).toBeLessThan(COUNT);

      const resumed = await run(args, work);
      expect(resumed.code).toBe(0);
      const summary = JSON.parse(resumed.stdout) as Summary;
      expect(summary).toMatchObject({ total: COUNT, ok: COUNT, resumed: before.length });
      const after = await records(out);
      expect(after.map((r) => path.basename(r.input)).sort()).toEqual(
        Array.from({ length: COUNT }, (_, i) => `r${i}.png`).sort(),
      );
      // Every record written before the kill stands as it was: no second provider call for it.
      for (const earlier of before) {
        expect(after.find((r) => r.input === earlier.input)).toEqual(earlier);
      }
      // Provider calls over both runs: exactly one per input.
      const paid = after.reduce((sum, r) => sum + r.attempts, 0);
      expect(paid).toBe(COUNT);
      expect(resumed.stderr).toContain(`Resuming: ${before.length} results`);
    });
  }

  it('retries inputs that failed, keeps the ones that succeeded', async () => {
    const work = await tempDir('visionpipe-work-');
    const input = path.join(work, 'late.png');
    await writeFile(input, Buffer.alloc(0)); // empty: fails with EMPTY_INPUT
    const out = path.join(work, 'results.jsonl');
    const args = ['run', path.join(folder, 'r0.png'), input, '-p', PATTERN, '--out', out, '--json'];
    const first = JSON.parse((await run(args, work)).stdout) as Summary;
    expect(first).toMatchObject({ ok: 1, errors: 1 });
    await writeFile(input, await readFile(path.join(folder, 'r1.png'))); // fixed
    const second = JSON.parse((await run(args, work)).stdout) as Summary;
    expect(second).toMatchObject({ total: 2, ok: 2, errors: 0, resumed: 1 });
    expect((await records(out)).map((r) => r.status)).toEqual(['ok', 'ok']);
  });

  it('refuses a changed pattern on the same results file (exit 2, naming --fresh); --fresh starts over', async () => {
    const work = await tempDir('visionpipe-work-');
    const out = path.join(work, 'results.jsonl');
    const one = path.join(folder, 'r2.png');
    await run(['run', one, '-p', PATTERN, '--out', out], work);
    const changed = path.join(work, 'receipt-v2.yaml');
    await writeFile(
      changed,
      `${await readFile(PATTERN, 'utf8')}\nversion: 2\n`.replace(/^version:.*\n/m, ''),
    );
    const before = await readFile(out, 'utf8');
    const other = await run(['run', one, '-p', changed, '--out', out, '--json'], work);
    expect(other.code).toBe(2);
    expect(other.stderr).toContain('different pattern');
    expect(other.stderr).toContain('--fresh');
    expect(await readFile(out, 'utf8')).toBe(before); // the records paid for are untouched
    const fresh = await run(['run', one, '-p', changed, '--out', out, '--json', '--fresh'], work);
    expect((JSON.parse(fresh.stdout) as Summary).resumed).toBe(0);
    expect(await records(out)).toHaveLength(1);
    expect((await stat(out)).size).toBeGreaterThan(0);
  });
});
