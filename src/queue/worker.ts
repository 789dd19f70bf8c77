/**
 * The ingest worker: takes queue jobs and runs them through the library pipeline.
 *
 * Never paying twice, across machines:
 * - the work's stored result (PostgreSQL) is looked up first;
 * - the pipeline's own cache (Redis, shared by every worker) is looked up next, so a
 *   job re-run after its worker died (a stalled job, moved back to waiting by BullMQ
 *   once the dead worker's lock expires) finds the answer the first run paid for;
 * - the result is written to the cache (by the pipeline, as soon as the provider
 *   answers) and to the database (with every open job of the work) before the queue job
 *   is acknowledged.
 * - every provider answer is journaled in that shared store before the pipeline even
 *   validates it (answer-journal.ts), so a worker killed between the provider's answer
 *   and the cache write leaves the answer behind: the re-run calls nobody. Before each
 *   call an in-flight claim is written; a re-run that finds a claim without an answer
 *   (the worker died during the call or before the answer's journal write) calls again
 *   and records the job as `possibly_paid` (docs/service.md says exactly what is left).
 *
 * close() stops taking jobs, lets running ones finish, then closes its connections.
 */
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { ERROR_CODES, type ErrorCode, isVisionpipeError } from '../errors.js';
import type { Pattern } from '../patterns/types.js';
import type { RunRecord } from '../pipeline/record.js';
import { redactDeep } from '../secrets.js';
import type { Store } from '../store/index.js';
import type { EnginePipelines } from './engine.js';
import { INGEST_QUEUE, type IngestJobData, ingestJobData, QUEUE_DEFAULTS } from './ingest-queue.js';
import { withPaidWatch } from './possibly-paid.js';

export interface IngestWorkerOptions {
  connection: Redis;
  /** BullMQ key prefix: the same as the API's queue. */
  prefix?: string;
  store: Store;
  pipelines: EnginePipelines;
  /** Jobs this worker runs at once (default 4). */
  concurrency?: number;
  /**
   * How long a job stays locked to its worker without a renewal, ms (default 30 000).
   * A killed worker's jobs are re-run elsewhere after this (plus `stalledIntervalMs`).
   */
  lockDurationMs?: number;
  /** How often workers look for jobs whose worker died, ms (default 30 000). */
  stalledIntervalMs?: number;
  /** Times a job may be re-run after its worker died before it fails (default 2). */
  maxStalledCount?: number;
  /** Shown in BullMQ's worker list and job records. */
  name?: string;
  /** One line per notable event (job finished, retried, failed). */
  log?: (line: string) => void;
}

export interface IngestWorker {
  readonly worker: Worker<IngestJobData>;
  /** Stops taking jobs, waits for running ones, closes connections. */
  close(): Promise<void>;
}

export const WORKER_DEFAULTS = {
  concurrency: 4,
  lockDurationMs: 30_000,
  stalledIntervalMs: 30_000,
  maxStalledCount: 2,
} as const;

/** A failure worth another try later (the provider overloaded, the breaker open): the queue retries it. */
class RetryLater extends Error {
  override readonly name = 'RetryLater';
}

function retryable(record: RunRecord): boolean {
  const code = record.error?.code;
  return record.status === 'error' && code !== undefined && code in ERROR_CODES
    ? ERROR_CODES[code as ErrorCode].retryable
    : false;
}

/** Compiled pattern snapshots kept per worker: a snapshot never changes once written. */
const SNAPSHOTS_KEPT = 100;

/**
 * The one record of a job: the image's, the document's, or (a `run --queue` job in `each`
 * mode, whose page range is its one page) that page's.
 */
async function readOne(
  pipeline: Awaited<ReturnType<EnginePipelines['for']>>,
  bytes: Buffer,
  data: IngestJobData,
): Promise<RunRecord> {
  if (!data.documents) return pipeline.process(bytes, { label: data.label });
  const records = await pipeline.processAll(bytes, { label: data.label });
  // An error opening the document is the one record; a page job gives exactly its page.
  return records.find((r) => r.status === 'error') ?? records[0]!;
}

export function startIngestWorker(options: IngestWorkerOptions): IngestWorker {
  const { store, pipelines } = options;
  const log = options.log ?? (() => {});
  // Every job of a pattern would otherwise read and compile the same snapshot again (a
  // PostgreSQL round trip and a schema compile per job, measured by bench/service.ts).
  const snapshots = new LRUCache<string, Pattern>({ max: SNAPSHOTS_KEPT });
  async function snapshotted(patternId: string, fingerprint: string): Promise<Pattern | undefined> {
    const key = `${patternId}:${fingerprint}`;
    const kept = snapshots.get(key);
    if (kept) return kept;
    const pattern = await store.patterns.snapshotted(patternId, fingerprint);
    if (pattern) snapshots.set(key, pattern);
    return pattern;
  }

  async function process(job: Job<IngestJobData>): Promise<string> {
    const data = ingestJobData.parse(job.data);
    const { workKey } = data;
    // One statement: the jobs are running, and the stored record (else the image) comes back.
    const { stored, image } = await store.jobs.start(workKey, data.imageSha256);
    if (stored) {
      await store.jobs.complete(workKey, stored);
      return 'stored';
    }
    // The content accepted at ingest, not the version row an in-place edit may have rewritten since.
    const pattern = data.patternFingerprint
      ? await snapshotted(data.patternId, data.patternFingerprint)
      : await store.patterns.compiled(data.patternId, data.patternVersion);
    if (!pattern) {
      await store.jobs.fail(
        workKey,
        'PATTERN_NOT_FOUND',
        `pattern ${data.patternId} v${data.patternVersion} is gone`,
      );
      throw new UnrecoverableError(`pattern ${data.patternId} v${data.patternVersion} is gone`);
    }
    if (!image) {
      await store.jobs.fail(workKey, 'IMAGE_NOT_FOUND', `image ${data.imageSha256} is gone`);
      throw new UnrecoverableError(`image ${data.imageSha256} is gone`);
    }
    let pipeline: Awaited<ReturnType<EnginePipelines['for']>>;
    try {
      pipeline = await pipelines.for(pattern, data.provider, data.documents);
    } catch (error) {
      // A provider setting this worker cannot build (run --queue's --provider/--base-url): no retry helps.
      if (!isVisionpipeError(error)) throw error;
      await store.jobs.fail(workKey, error.code, error.message);
      throw new UnrecoverableError(error.message);
    }
    const watched = await withPaidWatch(() => readOne(pipeline, image.bytes, data));
    const { possiblyPaid } = watched;
    // Answered from the journal only (the same pixels under other bytes, paid by another job):
    // no call was made for this job, so it is a hit with nothing paid, as a local run's cache.
    const record: RunRecord =
      watched.onlyReplayed && watched.result.cache === 'miss'
        ? {
            ...watched.result,
            cache: 'hit',
            attempts: 0,
            cost_usd: 0,
            usage: { input_tokens: 0, output_tokens: 0, image_tokens: 0, estimated: false },
          }
        : watched.result;
    if (possiblyPaid)
      log(`job ${job.id}: an earlier worker died during its provider call: it may have been paid`);
    const lastTry = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    if (retryable(record) && !lastTry) {
      // Jobs stay running in the database; the queue tries again after its backoff.
      throw new RetryLater(`${record.error?.code}: ${record.error?.message}`);
    }
    await store.jobs.complete(workKey, redactDeep(record), data.leaderJobId, possiblyPaid);
    return record.status;
  }

  const worker = new Worker<IngestJobData>(INGEST_QUEUE, process, {
    connection: options.connection,
    prefix: options.prefix ?? QUEUE_DEFAULTS.prefix,
    concurrency: options.concurrency ?? WORKER_DEFAULTS.concurrency,
    lockDuration: options.lockDurationMs ?? WORKER_DEFAULTS.lockDurationMs,
    stalledInterval: options.stalledIntervalMs ?? WORKER_DEFAULTS.stalledIntervalMs,
    maxStalledCount: options.maxStalledCount ?? WORKER_DEFAULTS.maxStalledCount,
    ...(options.name ? { name: options.name } : {}),
  });

  worker.on('completed', (job, outcome) => log(`job ${job.id}: ${outcome}`));
  worker.on('stalled', (jobId) => log(`job ${jobId}: its worker stopped answering; running it again`));
  worker.on('failed', (job, error) => {
    if (!job) return;
    const final = error instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
    log(`job ${job.id}: ${final ? 'failed' : 'will retry'}: ${error.message}`);
    if (!final) return;
    // The database write itself may be what failed: best effort, the jobs say why.
    const data = ingestJobData.safeParse(job.data);
    if (data.success)
      store.jobs.fail(data.data.workKey, 'WORKER_FAILED', error.message).catch((e: unknown) => {
        log(`job ${job.id}: could not record the failure: ${e instanceof Error ? e.message : String(e)}`);
      });
  });
  // Connection trouble is retried by BullMQ; it must not crash the process.
  worker.on('error', (error) => log(`worker: ${error.message}`));

  return {
    worker,
    close: () => worker.close(),
  };
}
