/**
 * A SIGTERM while images wait on a provider's rate limit (a Retry-After of a minute at a
 * low rpm): the run stops promptly, within its grace period, instead of waiting out every
 * pause (352 s measured at 2 rpm before); the summary is printed and the images still in
 * flight are ABORTED records, which the next run of the command redoes.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import { runOpenAiCompatible } from '../support/cli.js';
import { stopWorkFolder } from '../support/stop-work.js';

let simulator: Simulator;
let work: string;
const NAMES = ['invoice1.jpg', 'invoice2.jpg', 'invoice3.jpg', 'invoice4.jpg', 'car-plate1.jpg'];

beforeAll(async () => {
  // One call a minute: every image after the first waits on a 429's Retry-After.
  simulator = await startSimulator({
    latency: { minMs: 10, maxMs: 30 },
    rpm: 1,
    answer: () => ({ total: 3 }),
  });
  work = await stopWorkFolder('visionpipe-stop-grace-', NAMES);
});

afterAll(async () => {
  await simulator?.close();
});

describe('run stopped by SIGTERM while rate limited', () => {
  it('exits within the grace period with its summary; waiting images are ABORTED, redone next time', async () => {
    let stderr = '';
    let signalled = false;
    const result = await runOpenAiCompatible('inputs', {
      pattern: 'pattern.json',
      baseUrl: simulator.baseUrls.openai,
      extra: ['--cache', 'off', '--no-progress', '--json'],
      cwd: work,
      env: { OPENAI_API_KEY: 'sk-sim-grace' },
      onSpawn: (child) => {
        child.stderr?.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
          if (!signalled && /waiting .*rate limited/.test(stderr)) {
            signalled = true;
            child.kill('SIGTERM');
          }
        });
      },
    });
    // Without the grace period the process outlives the test's timeout (minutes of pauses).
    expect(signalled, stderr).toBe(true);
    expect(result.code, result.stderr).toBe(130); // stopped before every input was done
    const summary = JSON.parse(result.stdout.trim().split('\n')[0] ?? '') as { total: number };
    const records = (await readFile(path.join(work, 'results.jsonl'), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { status: string; error: { code: string } | null });
    expect(records.length).toBe(summary.total);
    expect(records.some((r) => r.error?.code === 'ABORTED')).toBe(true);
    expect(stderr).toMatch(/aborted \(ABORTED; the next run redoes them\)/);
  }, 90_000);
});
