/**
 * Re-queues work that PostgreSQL says is open but Redis no longer has: a Redis restarted
 * without persistence (or failed over, or flushed) loses its queue jobs, while the jobs
 * wait in the database as `queued` or `running`. Every serve and worker process checks,
 * every `intervalMs`, the open work not touched for `graceMs` (an ingest being queued
 * right now is left alone) and adds a queue job for each work key that has none. Adding
 * is idempotent (the work key is the queue job id), so any number of processes may do
 * it at once; only work queued under the process's own prefix (jobs.queue_prefix; null
 * before 0006, taken as the default prefix) is taken: re-queued here, another prefix's
 * work would be run and paid by workers it was never sent to. The re-run finds a stored
 * result or the shared cache before it pays. The queue job asks for what the first one asked (jobs.work: provider setting, document
 * reading), since the work key depends on it.
 */
import { sql } from 'kysely';
import type { Store } from '../store/index.js';
import type { JobWork } from '../store/schema.js';
import { documentSetting } from './document-setting.js';
import { type IngestJobData, type IngestQueue, QUEUE_DEFAULTS } from './ingest-queue.js';
import { providerSetting } from './provider-setting.js';

export interface ReconcilerSettings {
  /** How often to look, ms (default 30 000). */
  intervalMs: number;
  /** Open work younger than this is left alone, ms (default 60 000). */
  graceMs: number;
  /** Work keys looked at per pass (default 500). */
  batch: number;
}

export const RECONCILER_DEFAULTS: ReconcilerSettings = { intervalMs: 30_000, graceMs: 60_000, batch: 500 };

/** A run --queue job names its input in extras.input: records name it the same after a re-queue. */
function labelOf(extras: Record<string, unknown> | null): string | undefined {
  const input = extras?.input;
  return typeof input === 'string' && input.length > 0 ? input : undefined;
}

/** The provider setting and document reading a job's queue job asked for (checked as the queue checks them). */
function workOf(work: JobWork | null): Pick<IngestJobData, 'provider' | 'documents'> {
  const provider = providerSetting.safeParse(work?.provider);
  const documents = documentSetting.safeParse(work?.documents);
  return {
    ...(work?.provider && provider.success ? { provider: provider.data } : {}),
    ...(work?.documents && documents.success ? { documents: documents.data } : {}),
  };
}

/** One pass: returns the work keys re-queued. */
export async function requeueLostWork(
  store: Store,
  queue: IngestQueue,
  settings: Pick<ReconcilerSettings, 'graceMs' | 'batch'> = RECONCILER_DEFAULTS,
): Promise<string[]> {
  const open = await store.db
    .selectFrom('jobs')
    .select([
      'id',
      'work_key',
      'pattern_id',
      'pattern_version',
      'pattern_fingerprint',
      'image_sha256',
      'work',
      'extras',
    ])
    .distinctOn('work_key')
    .where('status', 'in', ['queued', 'running'])
    // Only this prefix's work: a job queued under another prefix waits for that prefix's workers.
    .where((eb) =>
      queue.prefix === QUEUE_DEFAULTS.prefix
        ? eb.or([eb('queue_prefix', '=', queue.prefix), eb('queue_prefix', 'is', null)])
        : eb('queue_prefix', '=', queue.prefix),
    )
    .where('updated_at', '<', sql<Date>`now() - make_interval(secs => ${settings.graceMs / 1000})`)
    .orderBy('work_key')
    .orderBy('created_at')
    .limit(settings.batch)
    .execute();
  const requeued: string[] = [];
  for (const job of open) {
    if (await queue.queue.getJob(job.work_key)) continue;
    await queue.add({
      workKey: job.work_key,
      leaderJobId: job.id,
      patternId: job.pattern_id,
      patternVersion: job.pattern_version,
      ...(job.pattern_fingerprint ? { patternFingerprint: job.pattern_fingerprint } : {}),
      imageSha256: job.image_sha256,
      label: labelOf(job.extras) ?? `upload:${job.image_sha256}`,
      // A run --queue job's provider and document reading, a pattern's model profile: the
      // work key depends on them, so the re-run must ask for the same.
      ...workOf(job.work),
    });
    requeued.push(job.work_key);
  }
  return requeued;
}

/** Runs a pass every `intervalMs` until closed; failures (Redis or the database away) wait for the next pass. */
export function startReconciler(
  store: Store,
  queue: IngestQueue,
  options: Partial<ReconcilerSettings>,
  log: (line: string) => void,
): { close(): Promise<void> } {
  const settings = { ...RECONCILER_DEFAULTS, ...options };
  let pass: Promise<unknown> | undefined;
  const timer = setInterval(() => {
    // A pass held up by an outage is not joined by another.
    if (pass) return;
    pass = requeueLostWork(store, queue, settings)
      .then(
        (keys) => {
          if (keys.length > 0) log(`re-queued ${keys.length} job(s) that Redis had lost`);
        },
        () => {},
      )
      .finally(() => {
        pass = undefined;
      });
  }, settings.intervalMs);
  timer.unref();
  return {
    async close() {
      clearInterval(timer);
      await pass;
    },
  };
}
