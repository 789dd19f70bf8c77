/**
 * `visionpipe run … --queue`: a coordinator process with no API server sends a folder's
 * images to two `visionpipe worker` processes (the simulator as their provider, which
 * counts what it bills) and writes the usual JSONL records and summary (a note in the
 * folder counted as skipped_files, as in a local run); a duplicate
 * image is paid once; a missing input is an error record; a coordinator SIGKILLed
 * mid-run and run again resumes: every image has one record and was paid once.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/simulator/index.js';
import type { Simulator } from '../../src/simulator/types.js';
import { distinctJpeg } from '../support/api-client.js';
import { readRecords, runCli } from '../support/cli.js';
import { tempDir } from '../support/images.js';
import { type Running, startCli } from '../support/processes.js';
import { type QueueTestbed, queueRunArgs, queueTestbed, startQueueWorker } from '../support/queue-run.js';

let sim: Simulator;
let testbed: QueueTestbed;
let env: Record<string, string>;
let patternFile: string;
let billed = 0;
const workers: Running[] = [];

const RECORD_KEYS = [
  'input',
  'sha256',
  'status',
  'output',
  'error',
  'cache',
  'provider',
  'model',
  'latency_ms',
  'attempts',
  'image',
  'usage',
  'cost_usd',
];

async function folderOf(seeds: number[], duplicate = false): Promise<string> {
  const dir = await tempDir('queue-run-images');
  for (const seed of seeds) await writeFile(path.join(dir, `img-${seed}.jpg`), await distinctJpeg(seed));
  if (duplicate) await writeFile(path.join(dir, 'copy.jpg'), await distinctJpeg(seeds[0]!));
  return dir;
}

function runArgs(inputs: string[], out: string, state: string): string[] {
  return queueRunArgs(inputs, { pattern: patternFile, out, state });
}

beforeAll(async () => {
  sim = await startSimulator({
    latency: { minMs: 600, maxMs: 600 },
    answer: () => ({ merchant: 'Blue Bottle', total: 8.99 }),
    onBilled: () => {
      billed++;
    },
  });
  testbed = await queueTestbed('runqueue', 'vprq', {
    name: 'Receipt',
    instructions: 'Read the receipt',
    schema: { merchant: 'string', total: 'number' },
  });
  ({ env, pattern: patternFile } = testbed);
  for (let i = 0; i < 2; i++) workers.push(await startQueueWorker(testbed, sim.baseUrls.openai, 2));
});

afterAll(async () => {
  for (const w of workers) await w.stop('SIGTERM');
  await sim?.close();
  await testbed?.close();
});

describe('run --queue', () => {
  it('writes the usual records and summary; a duplicate is paid once; a missing input is an error record', {
    timeout: 180_000,
  }, async () => {
    const dir = await folderOf([1, 2, 3, 4, 5], true);
    // A note in the folder is passed over and counted, as a local run counts it.
    await writeFile(path.join(dir, 'notes.txt'), 'scanned on Monday\n');
    const state = await tempDir('rq-state');
    const out = path.join(state, 'results.jsonl');
    const mark = billed;
    const result = await runCli([...runArgs([dir, path.join(dir, 'missing.jpg')], out, state), '--json'], {
      env,
      timeoutMs: 120_000,
    });
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(summary).toMatchObject({ total: 7, ok: 6, errors: 1, skipped_files: 1 });
    const lines = await readRecords(out);
    expect(lines).toHaveLength(7);
    for (const line of lines) expect(Object.keys(line)).toEqual(expect.arrayContaining(RECORD_KEYS));
    const ok = lines.filter((l) => l.status === 'ok');
    expect(ok).toHaveLength(6);
    for (const line of ok) {
      expect(line.output).toEqual({ merchant: 'Blue Bottle', total: 8.99 });
      expect(line.provider).toBe('openai');
      expect(String(line.input)).toMatch(/img-\d\.jpg|copy\.jpg/);
    }
    const missing = lines.find((l) => l.status === 'error');
    expect(missing).toMatchObject({ error: { code: 'NOT_FOUND' } });
    expect(billed - mark).toBe(5);
    const copies = ok.filter(
      (l) => l.sha256 === ok.find((o) => String(o.input).endsWith('copy.jpg'))?.sha256,
    );
    expect(copies).toHaveLength(2);
    expect(copies.filter((c) => c.cache === 'miss')).toHaveLength(1);
    expect(copies.find((c) => c.cache !== 'miss')?.cost_usd).toBe(0);
  });

  it('a coordinator SIGKILLed mid-run and run again: every image once in the results, each paid once', {
    timeout: 180_000,
  }, async () => {
    const seeds = [11, 12, 13, 14, 15, 16, 17, 18, 19, 20];
    const dir = await folderOf(seeds);
    const state = await tempDir('rq-crash');
    const out = path.join(state, 'results.jsonl');
    const mark = billed;
    const first = startCli([...runArgs([dir], out, state), '--concurrency', '10'], env);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const done = await readFile(out, 'utf8').then(
        (t) => t.split('\n').filter(Boolean).length,
        () => 0,
      );
      if (done >= 2) break;
      if (Date.now() > deadline) throw new Error(`no records: ${first.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(await first.stop('SIGKILL')).toBe('SIGKILL');
    const kept = (await readRecords(out)).length;
    expect(kept).toBeLessThan(seeds.length);

    const again = await runCli([...runArgs([dir], out, state), '--json'], { env, timeoutMs: 120_000 });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/Resuming: \d+ results? /);
    const lines = await readRecords(out);
    expect(lines.map((l) => path.basename(String(l.input))).sort()).toEqual(
      seeds.map((s) => `img-${s}.jpg`).sort(),
    );
    expect(lines.every((l) => l.status === 'ok')).toBe(true);
    // Sent before the crash and finished meanwhile: their records come back without a second call.
    expect(billed - mark).toBe(seeds.length);
  });

  it("carries the coordinator's --provider, --model and --base-url to the workers (their own key), per setting", {
    timeout: 180_000,
  }, async () => {
    let other = 0;
    const second = await startSimulator({
      latency: { minMs: 50, maxMs: 50 },
      answer: () => ({ merchant: 'Other Shop', total: 1.5 }),
      onBilled: () => {
        other++;
      },
    });
    try {
      const dir = await folderOf([40, 41]);
      const state = await tempDir('rq-state-provider');
      const out = path.join(state, 'results.jsonl');
      const mark = billed;
      const args = [...runArgs([dir], out, state), '--provider', 'openai', '--model', 'gpt-sim-x'];
      // The coordinator has no key: the workers use theirs.
      const coordinatorEnv = { ...env, OPENAI_API_KEY: '' };
      const result = await runCli([...args, '--base-url', second.baseUrls.openai, '--json'], {
        env: coordinatorEnv,
        timeoutMs: 120_000,
      });
      expect(result.code, result.stderr).toBe(0);
      const lines = await readRecords(out);
      expect(lines.map((l) => l.status)).toEqual(['ok', 'ok']);
      for (const line of lines) {
        expect(line.output).toEqual({ merchant: 'Other Shop', total: 1.5 });
        expect(line).toMatchObject({ provider: 'openai', model: 'gpt-sim-x' });
      }
      expect(other).toBe(2);
      expect(billed - mark).toBe(0);
      const auth = second.requests
        .filter((r) => r.route.includes('chat'))
        .map((r) => r.headers.authorization);
      expect(auth).toEqual(['Bearer sim', 'Bearer sim']);
      // The same images without the setting are other work: the workers' own provider reads them.
      const own = await runCli(runArgs([dir], path.join(state, 'own.jsonl'), state), {
        env,
        timeoutMs: 120_000,
      });
      expect(own.code, own.stderr).toBe(0);
      const ownLines = await readRecords(path.join(state, 'own.jsonl'));
      for (const line of ownLines) expect(line.output).toEqual({ merchant: 'Blue Bottle', total: 8.99 });
      expect(billed - mark).toBe(2);
      expect(other).toBe(2);
    } finally {
      await second.close();
    }
  });

  it('names a bad --base-url before anything is sent', async () => {
    const dir = await folderOf([42]);
    const bad = await runCli([...runArgs([dir], '/tmp/x.jsonl', dir), '--base-url', 'ftp://nope'], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--base-url');
  });

  it('refuses the local pipeline flags and names a missing database', async () => {
    const dir = await folderOf([30]);
    const triage = await runCli([...runArgs([dir], '/tmp/x.jsonl', dir), '--triage', 'local'], { env });
    expect(triage.code).toBe(2);
    expect(triage.stderr).toContain('--triage cannot be combined with --queue');
    const noDb = await runCli(runArgs([dir], '/tmp/x.jsonl', dir), { env: { ...env, DATABASE_URL: '' } });
    expect(noDb.code).toBe(2);
    expect(noDb.stderr).toContain('no database URL');
  });
});
