/**
 * Workers as separate processes, as on several machines (test/support/worker-fleet.ts):
 * `visionpipe serve --workers 0` (the API) and `visionpipe worker` processes sharing
 * PostgreSQL and Redis, the provider being the simulator, which counts what it bills.
 *
 * - duplicates ingested at once are one queue job: one provider call across processes;
 * - a worker SIGKILLed after the provider answered (held at the database write by an
 *   advisory lock this test takes, then killed) loses nothing: another worker re-runs the
 *   stalled job and finds the answer in the shared cache — no second call;
 * - a worker SIGKILLed during the provider call: the job still completes elsewhere;
 * - SIGTERM drains: running jobs finish, none starts, the process exits 0.
 *
 * Workers that kill themselves at a crash point are in worker-crash-points.test.ts.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { distinctJpeg, type JobData, waitForJob } from '../support/api-client.js';
import { tempDir } from '../support/images.js';
import { startCli } from '../support/processes.js';
import { FLEET_ANSWER, until, useWorkerFleet } from '../support/worker-fleet.js';

const fleet = useWorkerFleet('workers');

describe('worker processes', () => {
  it('20 concurrent ingests of one image across two worker processes: one provider call', async () => {
    const [a, b] = [await fleet.startWorker(), await fleet.startWorker()];
    const mark = fleet.billed();
    const image = await distinctJpeg(1);
    const ids = await Promise.all(Array.from({ length: 20 }, () => fleet.ingest(image)));
    const jobs = await Promise.all(ids.map((id) => waitForJob(fleet.base, fleet.key, id)));
    expect(jobs.every((j) => j.status === 'succeeded')).toBe(true);
    expect(fleet.billed() - mark).toBe(1);
    await Promise.all([a.stop('SIGTERM'), b.stop('SIGTERM')]);
  });

  it('a worker SIGKILLed after the provider answered: the job completes on another, with no second call', async () => {
    const first = await fleet.startWorker();
    const mark = fleet.billed();
    const id = await fleet.ingest(await distinctJpeg(2));
    const { work_key: workKey } = await until('the job to run', async () => {
      const row = await fleet.jobRow(id);
      return row?.status === 'running' && row;
    });
    // Hold the work's lock: the worker can call the provider and cache the answer, not finish the job.
    const holder = new pg.Client({ connectionString: fleet.database.url });
    await holder.connect();
    await holder.query('select pg_advisory_lock(hashtextextended($1, 0))', [workKey]);
    await until('the provider to answer', async () => fleet.billed() - mark === 1);
    await until('the worker to wait at its database write', async () => {
      const { rows } = await holder.query<{ n: string }>(
        "select count(*) as n from pg_locks where locktype = 'advisory' and not granted",
      );
      return Number(rows[0]!.n) > 0;
    });
    expect(await first.stop('SIGKILL')).toBe('SIGKILL');
    await holder.query('select pg_advisory_unlock(hashtextextended($1, 0))', [workKey]);
    await holder.end();

    const second = await fleet.startWorker();
    const job: JobData = await waitForJob(fleet.base, fleet.key, id, 60_000);
    expect(job).toMatchObject({
      status: 'succeeded',
      cache: 'hit',
      manifest: FLEET_ANSWER,
    });
    expect(fleet.billed() - mark).toBe(1);
    await second.waitFor(/stopped answering; running it again/);
    await second.stop('SIGTERM');
  });

  it('a worker SIGKILLed during the provider call: the job still completes on another', async () => {
    const first = await fleet.startWorker();
    const requests = fleet.sim.requests.length;
    const id = await fleet.ingest(await distinctJpeg(3));
    await until('the provider call to start', async () => fleet.sim.requests.length > requests);
    expect(await first.stop('SIGKILL')).toBe('SIGKILL');
    const second = await fleet.startWorker();
    const job = await waitForJob(fleet.base, fleet.key, id, 60_000);
    expect(job).toMatchObject({ status: 'succeeded', manifest: FLEET_ANSWER });
    await second.stop('SIGTERM');
  });

  it('SIGTERM drains: running jobs finish, no new one starts, exit 0', async () => {
    const worker = await fleet.startWorker();
    const mark = fleet.billed();
    const running = await Promise.all([4, 5, 6].map(async (seed) => fleet.ingest(await distinctJpeg(seed))));
    await until('three jobs to run', async () => {
      const rows = await Promise.all(running.map(fleet.jobRow));
      return rows.every((r) => r?.status === 'running');
    });
    const exited = worker.stop('SIGTERM');
    await worker.waitFor(/SIGTERM: draining/);
    const late = await fleet.ingest(await distinctJpeg(7));
    expect(await exited).toBe(0);
    expect(worker.stdout).toContain('drained');
    const jobs = await Promise.all(running.map((id) => waitForJob(fleet.base, fleet.key, id, 5_000)));
    expect(jobs.map((j) => j.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    expect(fleet.billed() - mark).toBe(3);
    expect((await fleet.jobRow(late))?.status).toBe('queued');

    // The queued job waits for the next worker, then completes.
    const next = await fleet.startWorker();
    expect((await waitForJob(fleet.base, fleet.key, late, 60_000)).status).toBe('succeeded');
    await next.stop('SIGTERM');
  });

  it('serve --workers 1 drains the same way: its running job finishes, exit 0', async () => {
    const serve = startCli(
      [
        'serve',
        '--port',
        '0',
        '--workers',
        '1',
        '--provider',
        'openai',
        '--base-url',
        fleet.sim.baseUrls.openai,
        '--concurrency',
        '2',
        '--state-dir',
        await tempDir('serve-state'),
      ],
      fleet.env,
    );
    fleet.track(serve);
    await serve.waitFor(/visionpipe serve: http/);
    const mark = fleet.billed();
    const id = await fleet.ingest(await distinctJpeg(11));
    await until('the job to run', async () => (await fleet.jobRow(id))?.status === 'running');
    const exited = serve.stop('SIGTERM');
    await serve.waitFor(/SIGTERM: draining/);
    expect(await exited).toBe(0);
    expect((await fleet.jobRow(id))?.status).toBe('succeeded');
    expect(fleet.billed() - mark).toBe(1);
  });
});
