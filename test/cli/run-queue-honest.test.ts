/**
 * `visionpipe run … --queue` tells the truth about money and stops (issue 15's trial):
 * --max-cost-usd is refused before anything is sent; a coordinator SIGKILLed and run again
 * writes, for the jobs the first one sent and the workers paid, their own outcome (miss,
 * attempts, cost), not a free hit; an image answered from the answer journal (same pixels,
 * other trailing bytes) is a hit with nothing paid; Ctrl-C says what was left and exits 130.
 * Real CLI, two real worker processes, the simulator counting what it bills.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { distinctJpeg } from '../support/api-client.js';
import { readRecords, runCli } from '../support/cli.js';
import { tempDir } from '../support/images.js';
import { type Running, startCli } from '../support/processes.js';
import { type QueueRig, queueRunArgs, startQueueRig } from '../support/queue-run.js';

let rig: QueueRig;
let env: Record<string, string>;
let patternFile: string;
const billed = () => rig.billed();

async function folderOf(seeds: number[]): Promise<string> {
  const dir = await tempDir('queue-honest-images');
  for (const seed of seeds) await writeFile(path.join(dir, `img-${seed}.jpg`), await distinctJpeg(seed));
  return dir;
}

const runArgs = (inputs: string[], out: string, state: string) =>
  queueRunArgs(inputs, { pattern: patternFile, out, state });

async function linesIn(out: string): Promise<number> {
  return readFile(out, 'utf8').then(
    (t) => t.split('\n').filter(Boolean).length,
    () => 0,
  );
}

async function untilLines(out: string, count: number, running: Running): Promise<void> {
  const deadline = Date.now() + 60_000;
  while ((await linesIn(out)) < count) {
    if (Date.now() > deadline) throw new Error(`no records: ${running.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

beforeAll(async () => {
  rig = await startQueueRig('runqueuehonest', 'vprqh', { latencyMs: 500, workers: 2, concurrency: 2 });
  ({ env, pattern: patternFile } = rig.testbed);
});

afterAll(async () => {
  await rig?.close();
});

describe('run --queue: money and stops told as they are', () => {
  it('refuses --max-cost-usd before anything is sent (exit 2, naming the flag)', async () => {
    const dir = await folderOf([301, 302]);
    const state = await tempDir('rqh-budget');
    const out = path.join(state, 'results.jsonl');
    const mark = billed();
    const result = await runCli([...runArgs([dir], out, state), '--max-cost-usd', '0.0005'], { env });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--max-cost-usd cannot be combined with --queue');
    expect(billed() - mark).toBe(0);
    expect(await linesIn(out)).toBe(0);
  });

  it('a coordinator SIGKILLed and run again: the jobs the first sent carry their own paid outcome', {
    timeout: 180_000,
  }, async () => {
    const seeds = [311, 312, 313, 314, 315, 316, 317, 318];
    const dir = await folderOf(seeds);
    const state = await tempDir('rqh-crash');
    const out = path.join(state, 'results.jsonl');
    const mark = billed();
    const first = startCli([...runArgs([dir], out, state), '--concurrency', '8'], env);
    await untilLines(out, 1, first);
    expect(await first.stop('SIGKILL')).toBe('SIGKILL');
    const again = await runCli([...runArgs([dir], out, state), '--json'], { env, timeoutMs: 120_000 });
    expect(again.code, again.stderr).toBe(0);
    const lines = await readRecords(out);
    expect(lines).toHaveLength(seeds.length);
    expect(billed() - mark).toBe(seeds.length);
    // Every image was paid once, for this run: no line may say it was free.
    for (const line of lines) {
      expect(line.cache, String(line.input)).toBe('miss');
      expect(Number(line.attempts)).toBeGreaterThan(0);
      expect(Number(line.cost_usd)).toBeGreaterThan(0);
    }
    const summary = JSON.parse(again.stdout) as { cost_usd: number; earlier_results: number };
    const written = lines.reduce((sum, l) => sum + Number(l.cost_usd), 0);
    const kept = (await readRecords(out)).slice(0, summary.earlier_results);
    const keptCost = kept.reduce((sum, l) => sum + Number(l.cost_usd), 0);
    expect(summary.cost_usd).toBeCloseTo(written - keptCost, 6);
    expect(summary.cost_usd).toBeGreaterThan(0);
  });

  it('an image whose pixels the journal already answered (4 trailing bytes differ) is a hit, nothing paid', {
    timeout: 120_000,
  }, async () => {
    const dir = await tempDir('rqh-journal');
    const bytes = await distinctJpeg(321);
    await writeFile(path.join(dir, 'a.jpg'), bytes);
    const state = await tempDir('rqh-journal-state');
    const first = await runCli(runArgs([path.join(dir, 'a.jpg')], path.join(state, 'a.jsonl'), state), {
      env,
      timeoutMs: 60_000,
    });
    expect(first.code, first.stderr).toBe(0);
    await writeFile(path.join(dir, 'b.jpg'), Buffer.concat([bytes, Buffer.from([1, 2, 3, 4])]));
    const mark = billed();
    const second = await runCli(runArgs([path.join(dir, 'b.jpg')], path.join(state, 'b.jsonl'), state), {
      env,
      timeoutMs: 60_000,
    });
    expect(second.code, second.stderr).toBe(0);
    expect(billed() - mark).toBe(0);
    const [line] = await readRecords(path.join(state, 'b.jsonl'));
    expect(line).toMatchObject({ status: 'ok', cache: 'hit', cost_usd: 0, attempts: 0 });
  });

  it('Ctrl-C: the inputs never sent are named, the lines written are the records, exit 130 as a local stop', {
    timeout: 120_000,
  }, async () => {
    const seeds = [331, 332, 333, 334, 335, 336];
    const dir = await folderOf(seeds);
    const state = await tempDir('rqh-stop');
    const out = path.join(state, 'results.jsonl');
    const run = startCli([...runArgs([dir], out, state), '--concurrency', '1', '--json'], env);
    await untilLines(out, 1, run);
    const code = await run.stop('SIGINT');
    expect(code, run.stderr).toBe(130);
    const summary = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as Record<string, number | string>;
    const lines = await readRecords(out);
    expect(summary.stopped).toBe('signal');
    expect(summary.total).toBe(lines.length);
    expect(Number(summary.not_processed)).toBe(seeds.length - lines.length);
    expect(Number(summary.not_processed)).toBeGreaterThan(0);
  });
});
