/**
 * `visionpipe run … --queue`: a worker killed after the provider answered and before the
 * answer was journaled (VISIONPIPE_CRASH_POINT=before-journal, the window docs/service.md
 * names) makes the re-run call again; the coordinator's record and summary say
 * `possibly_paid` instead of claiming one call. Real CLI, real worker processes, the
 * simulator counting what it bills.
 */

import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { distinctJpeg } from '../support/api-client.js';
import { readRecords } from '../support/cli.js';
import { tempDir } from '../support/images.js';
import { type Running, startCli } from '../support/processes.js';
import { type QueueRig, queueRunArgs, startQueueRig, startQueueWorker } from '../support/queue-run.js';

let rig: QueueRig;
const started: Running[] = [];
/** Short locks, so the dead worker's job runs again soon. */
const QUICK_STALL = ['--lock-duration', '2s', '--stalled-interval', '1s'];

beforeAll(async () => {
  rig = await startQueueRig('runqueuepaid', 'vprqp', { latencyMs: 300, workers: 0, concurrency: 1 });
});

afterAll(async () => {
  for (const worker of started) await worker.stop('SIGTERM');
  await rig?.close();
});

describe('run --queue: a call possibly paid twice is said so', () => {
  it('a worker killed before journaling its answer: the record and the summary say possibly_paid', {
    timeout: 120_000,
  }, async () => {
    const dir = await tempDir('rqp-images');
    await writeFile(path.join(dir, 'img-401.jpg'), await distinctJpeg(401));
    await writeFile(path.join(dir, 'img-402.jpg'), await distinctJpeg(402));
    const state = await tempDir('rqp-state');
    const out = path.join(state, 'results.jsonl');
    const { env, pattern } = rig.testbed;
    const crashing = await startQueueWorker(rig.testbed, rig.sim.baseUrls.openai, 1, {
      args: QUICK_STALL,
      env: { VISIONPIPE_CRASH_POINT: 'before-journal' },
    });
    const run = startCli([...queueRunArgs([dir], { pattern, out, state }), '--json'], env);
    expect(await crashing.exited).toBe('SIGKILL');
    expect(rig.billed()).toBe(1);
    started.push(await startQueueWorker(rig.testbed, rig.sim.baseUrls.openai, 2, { args: QUICK_STALL }));
    expect(await run.exited, run.stderr).toBe(0);
    const lines = await readRecords(out);
    expect(lines.map((l) => l.status)).toEqual(['ok', 'ok']);
    // Two images, three calls: the one the dead worker made may have been paid, and says so.
    expect(rig.billed()).toBe(3);
    const marked = lines.filter((l) => l.possibly_paid === true);
    expect(marked).toHaveLength(1);
    expect(lines.filter((l) => !('possibly_paid' in l))).toHaveLength(1);
    const summary = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as {
      possibly_paid?: number;
      warnings: string[];
    };
    expect(summary.possibly_paid).toBe(1);
    expect(summary.warnings.join('\n')).toContain('1 image possibly paid twice');
  });
});
