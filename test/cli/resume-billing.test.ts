/**
 * "A killed run never pays twice", counted where it matters: at the provider. A real
 * CLI process is SIGKILLed in the middle of a run against the simulator, the same
 * command is run again, and the simulator's billing log must show every image paid
 * for exactly once.
 */

import type { ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Summary } from '../../src/runs/summary.js';
import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import { runCli } from '../support/cli.js';
import { seededBytes, tempDir } from '../support/images.js';

const COUNT = 8;
let folder: string;
let pattern: string;
let simulator: Simulator | undefined;

afterEach(async () => {
  await simulator?.close();
  simulator = undefined;
});

beforeAll(async () => {
  folder = await tempDir('visionpipe-billing-');
  for (let i = 0; i < COUNT; i++) {
    const image = await sharp(seededBytes(32 * 32 * 3, 100 + i), {
      raw: { width: 32, height: 32, channels: 3 },
    })
      .resize(256, 256)
      .jpeg()
      .toBuffer();
    await writeFile(path.join(folder, `scan-${i}.jpg`), image);
  }
  pattern = path.join(folder, '..', `pattern-${path.basename(folder)}.json`);
  await writeFile(
    pattern,
    JSON.stringify({
      name: 'receipt',
      format: 'json',
      instructions: 'Merchant and total.',
      json_schema: { merchant: 'string', total: 'number' },
    }),
  );
});

const never = new Promise<never>(() => {});

describe('a killed run, run again, against a paid API', () => {
  it('OpenAI wire format: every image billed exactly once across the kill and the resume', async () => {
    const billed = new Map<string, number>();
    let calls = 0;
    let child: ChildProcess | undefined;
    simulator = await startSimulator({
      latency: { minMs: 20, maxMs: 40 },
      onBilled: (event) => billed.set(event.sha256, (billed.get(event.sha256) ?? 0) + 1),
      answer: async () => {
        calls++;
        // The 4th call is in flight when the process dies: the provider never completes it.
        if (calls === 4 && child) {
          child.kill('SIGKILL');
          return never;
        }
        return { merchant: 'Test', total: 1 };
      },
    });
    const work = await tempDir('visionpipe-work-');
    const args = [
      'run',
      folder,
      '-p',
      pattern,
      '--provider',
      'openai',
      '--base-url',
      simulator.baseUrls.openai,
      '--concurrency',
      '1',
      '--json',
    ];
    const env = { OPENAI_API_KEY: 'sk-simulated' };
    const first = await runCli(args, { cwd: work, env, onSpawn: (spawned) => (child = spawned) });
    expect(first.signal).toBe('SIGKILL');
    expect([...billed.values()].reduce((a, b) => a + b, 0)).toBe(3);

    const second = await runCli(args, { cwd: work, env });
    expect(second.code).toBe(0);
    const summary = JSON.parse(second.stdout) as Summary;
    expect(summary).toMatchObject({ total: COUNT, ok: COUNT });
    expect(summary.resumed + summary.cache.hits).toBe(3);
    expect(billed.size).toBe(COUNT);
    expect([...billed.values()].every((n) => n === 1)).toBe(true);
  });

  it('ImgGo: even the job in flight at the kill is not created twice (idempotency key from the content)', async () => {
    let child: ChildProcess | undefined;
    simulator = await startSimulator({
      latency: { minMs: 50, maxMs: 80 },
      answer: () => ({ merchant: 'Test', total: 1 }),
    });
    const sim = simulator;
    const work = await tempDir('visionpipe-work-');
    const args = [
      'run',
      folder,
      '-p',
      pattern,
      '--provider',
      'imggo',
      '--imggo-pattern',
      'pat_receipts',
      '--base-url',
      sim.baseUrls.imggo,
      '--concurrency',
      '2',
      '--json',
    ];
    const env = { IMGGO_API_KEY: 'imggo_live_simulated' };
    const first = await runCli(args, {
      cwd: work,
      env,
      onSpawn: (spawned) => {
        child = spawned;
        const poll = setInterval(() => {
          if (sim.stats.jobsCreated >= 3) {
            clearInterval(poll);
            child?.kill('SIGKILL');
          }
        }, 5);
        spawned.once('exit', () => clearInterval(poll));
      },
    });
    expect(first.signal).toBe('SIGKILL');
    const createdBeforeResume = sim.stats.jobsCreated;
    expect(createdBeforeResume).toBeLessThan(COUNT);

    const second = await runCli(args, { cwd: work, env });
    expect(second.code).toBe(0);
    expect((JSON.parse(second.stdout) as Summary).ok).toBe(COUNT);
    expect(sim.stats.jobsCreated).toBe(COUNT);
  });
});
