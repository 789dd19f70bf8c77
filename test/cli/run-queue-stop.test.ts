/**
 * Ctrl-C on `run --queue` says what happens to the jobs already queued, and it is true
 * (issue 13): the first Ctrl-C sends nothing new and says the queued images keep running on
 * the workers; a second one stops waiting and still prints the summary (exit 130), with
 * ABORTED records for the images left on the queue, which the workers go on to read and pay.
 * Real CLI, a real worker process (one call at a time, slow answers), Redis with a unique
 * prefix, a unique PostgreSQL database.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { distinctJpeg } from '../support/api-client.js';
import { readRecords } from '../support/cli.js';
import { tempDir } from '../support/images.js';
import { startCli } from '../support/processes.js';
import { type QueueRig, queueRunArgs, startQueueRig } from '../support/queue-run.js';

let rig: QueueRig;

beforeAll(async () => {
  rig = await startQueueRig('runqueuestop', 'vprqs', { latencyMs: 3000, workers: 1, concurrency: 1 });
}, 120_000);

afterAll(async () => {
  await rig?.close();
});

/** Resolves once `check` holds, polling (bounded: 600 × 100 ms). */
async function until(check: () => Promise<boolean>): Promise<boolean> {
  for (let i = 0; i < 600; i++) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

const lines = (file: string) =>
  readFile(file, 'utf8').then(
    (t) => t.split('\n').filter(Boolean).length,
    () => 0,
  );

describe('run --queue stopped by Ctrl-C twice', () => {
  it('says the queued images keep running on the workers, prints the summary, and they do', {
    timeout: 180_000,
  }, async () => {
    const dir = await tempDir('rqs-images');
    const seeds = [401, 402, 403, 404, 405];
    for (const seed of seeds) await writeFile(path.join(dir, `img-${seed}.jpg`), await distinctJpeg(seed));
    const state = await tempDir('rqs-state');
    const out = path.join(state, 'results.jsonl');
    const run = startCli(
      [...queueRunArgs([dir], { pattern: rig.testbed.pattern, out, state }), '--concurrency', '2'],
      rig.testbed.env,
    );
    // One image done: another is on the queue (the worker reads one at a time).
    expect(await until(async () => (await lines(out)) >= 1), run.stderr).toBe(true);
    run.child.kill('SIGINT');
    await run.waitFor(
      /Stopping: nothing new is sent; the images already on the queue keep running on the workers/,
    );
    const code = await run.stop('SIGINT');
    expect(code, run.stderr).toBe(130);

    const records = await readRecords(out);
    const aborted = records.filter((r) => r.error?.code === 'ABORTED');
    const done = records.filter((r) => r.status === 'ok');
    expect(aborted.length, run.stdout).toBeGreaterThan(0);
    expect(run.stdout).toMatch(
      new RegExp(
        `^stopped \\(Ctrl-C/SIGTERM\\) after ${done.length} of ${seeds.length} inputs, ${seeds.length - done.length} not processed`,
        'm',
      ),
    );
    expect(run.stdout).toContain(
      `${aborted.length} image${aborted.length === 1 ? '' : 's'} left on the queue when waiting stopped: the workers still read`,
    );
    // What the wording says is what happens: every image sent is read and paid by the worker.
    expect(await until(async () => rig.billed() >= done.length + aborted.length)).toBe(true);
  });
});
