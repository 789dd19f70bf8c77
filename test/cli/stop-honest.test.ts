/**
 * What a user stop (Ctrl-C) leaves and says (issue 13):
 * - images ABORTED in flight are not processed, not failures: they stay out of `processed`,
 *   the rates, `errors` and the success rate, and raise no success-rate alert; the summary
 *   says "stopped after X of N";
 * - a second Ctrl-C still writes the ABORTED records (the next run redoes them) and
 *   releases the run lock before exiting 130;
 * - a Ctrl-C so early that Node has not run visionpipe's code yet kills the process, but
 *   never leaves a lock or a results file behind.
 * The server answers the first call at once and holds every other one: the test waits for
 * states (calls received, the first record written, "Stopping"), never for a time.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Summary } from '../../src/runs/summary.js';
import { readRecords, runCli, runOpenAiCompatible } from '../support/cli.js';
import { tempDir } from '../support/images.js';
import { type CompatibleServer, startCompatibleServer } from '../support/openai-compatible.js';
import { stopWorkFolder } from '../support/stop-work.js';

const NAMES = ['invoice1.jpg', 'invoice2.jpg', 'invoice3.jpg', 'car-plate1.jpg'];
let server: CompatibleServer;
let work: string;

beforeAll(async () => {
  // The first call answers; the others are held (longer than any test) until the run aborts them.
  server = await startCompatibleServer((_call, n) =>
    n === 1 ? '{"total": 3}' : { content: '{"total": 4}', delayMs: 300_000 },
  );
  work = await stopWorkFolder('visionpipe-stop-honest-', NAMES);
});

afterAll(async () => {
  await server?.close();
});

/** Resolves once `check` holds, polling (bounded: 600 × 100 ms). */
async function until(check: () => boolean | Promise<boolean>): Promise<boolean> {
  for (let i = 0; i < 600; i++) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/** Ctrl-C once `ready` holds, and again once the run says "Stopping" (the second aborts calls in flight). */
function ctrlCTwice(ready: () => boolean): (child: ChildProcess) => void {
  return (child) => {
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    void (async () => {
      await until(ready);
      child.kill('SIGINT');
      await until(() => stderr.includes('Stopping'));
      child.kill('SIGINT');
    })();
  };
}

describe('Ctrl-C twice with images in flight', () => {
  it('writes ABORTED records, releases the lock, counts them neither processed nor failed', async () => {
    const out = path.join(work, 'results.jsonl');
    let stderr = '';
    let reached = false;
    const result = await runOpenAiCompatible('inputs', {
      pattern: 'pattern.json',
      baseUrl: server.baseUrl,
      out,
      extra: ['--cache', 'off', '--no-progress', '--json', '--concurrency', '4'],
      cwd: work,
      onSpawn: (child) => {
        child.stderr?.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
        });
        void (async () => {
          // Every image sent, the first one answered and written.
          reached = await until(
            async () =>
              server.calls.length >= NAMES.length &&
              existsSync(out) &&
              (await readFile(out, 'utf8')).includes('"status":"ok"'),
          );
          child.kill('SIGINT');
          await until(() => stderr.includes('Stopping'));
          child.kill('SIGINT');
        })();
      },
    });
    expect(reached, stderr).toBe(true);
    expect(result.code, result.stderr).toBe(130);
    expect(existsSync(`${out}.lock`)).toBe(false); // the lock is released
    const records = await readRecords(out);
    const aborted = records.filter((r) => r.error?.code === 'ABORTED');
    expect(records.filter((r) => r.status === 'ok')).toHaveLength(1);
    expect(aborted).toHaveLength(NAMES.length - 1); // the next run redoes them
    const summary = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '') as Summary & {
      stopped: string;
      not_processed: number;
    };
    expect(summary).toMatchObject({
      total: NAMES.length,
      inputs: NAMES.length, // a stopped run's --json counts its inputs too
      ok: 1,
      errors: 0,
      aborted: NAMES.length - 1,
      processed: 1,
      success_rate: 1,
      stopped: 'signal',
      not_processed: NAMES.length - 1,
    });
    expect(summary.errors_by_code.ABORTED).toBeUndefined();
    expect(summary.throughput.images).toBe(1);
    expect(summary.alerts.filter((a) => a.includes('success rate'))).toEqual([]);
  }, 120_000);

  it('the text summary says stopped after 1 of 4 and names the aborted apart', async () => {
    const out = path.join(work, 'text.jsonl');
    const calls = server.calls.length;
    const result = await runOpenAiCompatible('inputs', {
      pattern: 'pattern.json',
      baseUrl: server.baseUrl,
      out,
      extra: ['--cache', 'off', '--no-progress', '--concurrency', '4'],
      cwd: work,
      onSpawn: ctrlCTwice(() => server.calls.length >= calls + NAMES.length),
    });
    expect(result.code, result.stderr).toBe(130);
    // Every call of this run is held (the server answers only its first call ever).
    expect(result.stdout).toMatch(/^stopped \(Ctrl-C\/SIGTERM\) after 0 of 4 inputs, 4 not processed: /m);
    expect(result.stdout).toContain('aborted 4 (stopped in flight; the next run redoes them)');
    expect(result.stdout).toContain('errors 0 ·');
    expect(result.stdout).toContain('success – (nothing attempted)');
    expect(result.stdout).not.toContain('⚠ success rate');
    expect(result.stdout).not.toMatch(/\b0 images\/hour/);
    expect(existsSync(`${out}.lock`)).toBe(false);
  }, 120_000);
});

describe('Ctrl-C with inputs never started', () => {
  it('--json counts every input given (as the text "of N"), not only those with a record', async () => {
    const out = path.join(work, 'unstarted.jsonl');
    const calls = server.calls.length;
    const result = await runOpenAiCompatible('inputs', {
      pattern: 'pattern.json',
      baseUrl: server.baseUrl,
      out,
      extra: ['--cache', 'off', '--no-progress', '--json', '--concurrency', '1'],
      cwd: work,
      // One call in flight (held); the other inputs wait for its slot.
      onSpawn: ctrlCTwice(() => server.calls.length >= calls + 1),
    });
    expect(result.code, result.stderr).toBe(130);
    const records = await readRecords(out);
    expect(records.length).toBeLessThan(NAMES.length); // some inputs never got a record
    const summary = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '') as Summary & {
      not_processed: number;
    };
    const finished = records.filter((r) => r.error?.code !== 'ABORTED').length;
    expect(summary).toMatchObject({
      total: records.length,
      inputs: NAMES.length,
      not_processed: NAMES.length - finished,
      aborted: records.length - finished,
    });
  }, 120_000);
});

describe('Ctrl-C before visionpipe is running', () => {
  it('never leaves a lock or a results file, whether Node or visionpipe took the signal', async () => {
    const dir = await tempDir('visionpipe-stop-early-');
    const out = path.join(dir, 'results.jsonl');
    const result = await runCli(
      ['run', path.join(work, 'inputs'), '-p', path.join(work, 'pattern.json'), '--no-progress', '-o', out],
      { cwd: dir, onSpawn: (child) => child.kill('SIGINT') },
    );
    // Killed by Node's default action before any of our code ran, or stopped by our handler.
    if (result.signal === null) {
      expect(result.code).toBe(130);
      expect(result.stdout).toMatch(/^stopped \(Ctrl-C\/SIGTERM\) after 0 of 4 inputs/m);
    } else expect(result.signal).toBe('SIGINT');
    expect(existsSync(`${out}.lock`)).toBe(false);
  });
});
