/**
 * Workers that kill themselves at a crash point (VISIONPIPE_CRASH_POINT, test-only), as
 * separate processes sharing PostgreSQL and Redis (test/support/worker-fleet.ts):
 *
 * - killed (after-answer) the moment the provider answered, before validation and the
 *   cache write: the answer journal holds the paid answer, the re-run on another worker
 *   calls nobody;
 * - killed after the provider answered and before the journal write (before-journal, the
 *   window left): its in-flight claim makes the re-run's job `possibly_paid: true` (two
 *   calls, reported, not silent).
 *
 * Each re-run waits out the killed worker's cache claim, whose lease is the lock duration
 * (2 s here; claim-lease.test.ts): a file of its own, so it runs beside worker-processes.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { distinctJpeg, waitForJob } from '../support/api-client.js';
import { FLEET_ANSWER, useWorkerFleet } from '../support/worker-fleet.js';

const fleet = useWorkerFleet('worker_crash');

/**
 * Ingests a new image (seed) with only a worker that kills itself at `point` running:
 * asserts it died there after one provider call; resolves with the job id and the
 * billed count before the ingest.
 */
async function crashAt(point: 'after-answer' | 'before-journal', seed: number) {
  const mark = fleet.billed();
  const crashing = await fleet.startWorker([], { VISIONPIPE_CRASH_POINT: point });
  const id = await fleet.ingest(await distinctJpeg(seed));
  expect(await crashing.exited).toBe('SIGKILL');
  expect(crashing.stderr).toContain(`crash point ${point} reached`);
  expect(fleet.billed() - mark).toBe(1);
  return { id, mark };
}

describe('worker processes killed at a crash point', () => {
  it('a worker killed between the provider answer and the cache write: the re-run pays nothing', async () => {
    const { id, mark } = await crashAt('after-answer', 8);
    expect((await fleet.jobRow(id))?.status).toBe('running');

    const second = await fleet.startWorker();
    const job = await waitForJob(fleet.base, fleet.key, id, 60_000);
    expect(job).toMatchObject({ status: 'succeeded', manifest: FLEET_ANSWER });
    expect(fleet.billed() - mark).toBe(1);
    await second.stop('SIGTERM');
  });

  it('a worker killed after the provider answered and before the journal write: the re-run pays again and the job says possibly_paid', async () => {
    const { id, mark } = await crashAt('before-journal', 9);

    const second = await fleet.startWorker();
    const job = await waitForJob(fleet.base, fleet.key, id, 60_000);
    expect(job).toMatchObject({ status: 'succeeded', possibly_paid: true });
    // The remaining window, stated in docs/service.md: this call was paid twice, and the job says so.
    expect(fleet.billed() - mark).toBe(2);
    // A job run without a crash (on the same worker) is not marked.
    const plain = await waitForJob(fleet.base, fleet.key, await fleet.ingest(await distinctJpeg(10)), 60_000);
    expect(plain).toMatchObject({ status: 'succeeded', possibly_paid: false });
    await second.stop('SIGTERM');
  });
});
