/**
 * How `visionpipe run` ends when something goes wrong, as a user sees it (real CLI
 * processes on the simulator): a --report path that cannot be written is refused before
 * any paid call; a report that fails at the very end (its folder replaced by a file during
 * the run) still closes /metrics, the alert timer and the log, so the process exits by
 * itself with the error; a run stopped by --max-cost-usd exits 4 and says how many inputs
 * were left.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/pipeline/record.js';
import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/images.js';

let work: string;
let simulator: Simulator | undefined;

async function images(dir: string, count: number): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (let i = 0; i < count; i++) {
    const jpeg = await sharp({
      create: { width: 320, height: 240, channels: 3, background: { r: i * 9, g: 200 - i * 7, b: 90 } },
    })
      .jpeg()
      .toBuffer();
    await writeFile(path.join(dir, `img-${String(i).padStart(2, '0')}.jpg`), jpeg);
  }
}

beforeAll(async () => {
  work = await tempDir('visionpipe-exit-paths-');
  await writeFile(
    path.join(work, 'pattern.json'),
    JSON.stringify({ name: 'doc', format: 'json', instructions: 'Read.', json_schema: { title: 'string' } }),
  );
  await images(path.join(work, 'inputs'), 6);
});

afterEach(async () => {
  await simulator?.close();
  simulator = undefined;
});

const runArgs = (baseUrl: string, out: string) => [
  'run',
  'inputs',
  '-p',
  'pattern.json',
  '--provider',
  'openai',
  '--model',
  'gpt-4o',
  '--base-url',
  baseUrl,
  '--concurrency',
  '2',
  '--no-progress',
  '--out',
  out,
];
const env = { OPENAI_API_KEY: 'sk-sim-exit-paths' };

describe('run exit paths', () => {
  it('refuses a --report path it cannot write before any provider call', async () => {
    let calls = 0;
    simulator = await startSimulator({
      answer: () => {
        calls++;
        return { title: 'A' };
      },
    });
    await writeFile(path.join(work, 'a-file'), 'not a folder');
    for (const report of ['a-file/report.html', 'inputs']) {
      const run = await runCli(
        [...runArgs(simulator.baseUrls.openai, 'bad-report.jsonl'), '--report', report],
        {
          cwd: work,
          env,
          timeoutMs: 60_000,
        },
      );
      expect(run.signal, report).toBeNull();
      expect(run.code, report).toBe(2);
      expect(run.stderr, report).toMatch(
        new RegExp(`error \\[INVALID_OPTION\\]: --report ${report}: cannot write the report there`),
      );
    }
    expect(calls).toBe(0);
    await expect(readFile(path.join(work, 'bad-report.jsonl'))).rejects.toThrow(/ENOENT/);
  }, 120_000);

  it('exits by itself, with the error, when the report fails at the end (metrics, alerts and log closed)', async () => {
    const reportDir = path.join(work, 'reports');
    await mkdir(reportDir, { recursive: true });
    let swapped = false;
    simulator = await startSimulator({
      answer: () => {
        if (!swapped) {
          // The report's folder becomes a file while the run goes: writing it must fail.
          swapped = true;
          rmSync(reportDir, { recursive: true, force: true });
          writeFileSync(reportDir, 'in the way');
        }
        return { title: 'A' };
      },
    });
    const run = await runCli(
      [
        ...runArgs(simulator.baseUrls.openai, 'late.jsonl'),
        '--report',
        'reports/report.html',
        '--metrics-port',
        '0',
        '--log-file',
        'late.log',
        '--alert-webhook',
        'http://127.0.0.1:9/hooks',
      ],
      { cwd: work, env, timeoutMs: 90_000 },
    );
    expect(swapped).toBe(true);
    expect(run.signal, `killed after the bound: the process hung (${run.stderr})`).toBeNull();
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/error \[WRITE_FAILED\]: reports\/report\.html: cannot write the report/);
    const records = (await readFile(path.join(work, 'late.jsonl'), 'utf8')).split('\n').filter(Boolean);
    expect(records).toHaveLength(6); // the results are kept
  }, 120_000);

  it('exits 4 when --max-cost-usd stops the run, naming the inputs not processed', async () => {
    simulator = await startSimulator({ answer: () => ({ title: 'A' }) });
    const run = await runCli(
      [...runArgs(simulator.baseUrls.openai, 'budget.jsonl'), '--max-cost-usd', '0.002'],
      {
        cwd: work,
        env,
        timeoutMs: 90_000,
      },
    );
    expect(run.code, run.stderr).toBe(4);
    const records = (await readFile(path.join(work, 'budget.jsonl'), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as RunRecord);
    expect(records.length).toBeGreaterThan(0);
    expect(records.length).toBeLessThan(6);
    expect(run.stdout).toMatch(/stopped before exceeding the \$0\.002 budget/);
    expect(run.stdout).toContain(
      `stopped for the cost budget (--max-cost-usd): ${6 - records.length} input${6 - records.length === 1 ? '' : 's'} not processed`,
    );
    expect(run.stdout).toContain('(exit code 4)');
  }, 120_000);
});
