/**
 * The ingest queue (BullMQ on Redis): one queue job per work key, its id the work key, so
 * ingests of the same image and pattern version on any API process join the job already
 * waiting or running instead of adding a second one. Finished queue jobs are removed at
 * once (the database keeps the outcome), so a later ingest of finished work can queue it
 * again; it then finds the stored result without calling the provider.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { documentSetting } from './document-setting.js';
import { providerSetting } from './provider-setting.js';

export const INGEST_QUEUE = 'ingest';

export const ingestJobData = z.object({
  workKey: z.string().min(1),
  /** The job that created this queue job: it pays; jobs that joined are `dedup`. */
  leaderJobId: z.string().uuid(),
  patternId: z.string().uuid(),
  patternVersion: z.number().int().positive(),
  /** The pattern content accepted (store.patterns.snapshotted); absent in jobs queued before it existed. */
  patternFingerprint: z.string().min(1).optional(),
  imageSha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** How the image is named in records (its URL, or `upload:<sha256>`). */
  label: z.string().min(1),
  /** `run --queue`: the coordinator's provider, model and base URL (no key); absent: the worker's own. */
  provider: providerSetting.optional(),
  /** `run --queue`: how a document is read (one record, or one page of it); absent: one record for the document. */
  documents: documentSetting.optional(),
});
export type IngestJobData = z.infer<typeof ingestJobData>;

export interface QueueSettings {
  /** BullMQ key prefix (default `visionpipe`): services sharing a Redis keep apart by prefix. */
  prefix: string;
  /** Tries per queue job when the pipeline fails retryably or the database write fails (default 3). */
  attempts?: number;
  /** First wait before a retry, ms; doubles each time (default 5000). */
  backoffMs?: number;
}

export const QUEUE_DEFAULTS = { prefix: 'visionpipe', attempts: 3, backoffMs: 5000 } as const;

export class IngestQueue {
  readonly queue: Queue<IngestJobData>;
  private readonly settings: Required<QueueSettings>;
  /** The Redis database number of this queue's connection (0 unless `REDIS_URL` names another). */
  private readonly db: number;

  constructor(connection: Redis, settings: QueueSettings) {
    this.settings = { ...QUEUE_DEFAULTS, ...settings };
    this.db = connection.options.db ?? 0;
    this.queue = new Queue<IngestJobData>(INGEST_QUEUE, { connection, prefix: this.settings.prefix });
  }

  /** Queues the work unless a queue job for it is already waiting or running (then it joins that one). */
  async add(data: IngestJobData): Promise<void> {
    await this.queue.add('ingest', ingestJobData.parse(data), {
      jobId: data.workKey,
      attempts: this.settings.attempts,
      backoff: { type: 'exponential', delay: this.settings.backoffMs },
      removeOnComplete: true,
      removeOnFail: true,
    });
  }

  /**
   * Workers that take this queue's jobs, on any machine: connections named for this
   * prefix and queue (BullMQ's `CLIENT LIST` names) in this Redis database. `CLIENT LIST`
   * spans every database of the server, so a worker on another database (same prefix,
   * other `REDIS_URL` db) shows there too and must not count: it never sees these jobs.
   */
  async workers(): Promise<number> {
    const clients = await this.queue.getWorkers();
    return clients.filter((client) => Number(client.db ?? 0) === this.db).length;
  }

  /** Jobs waiting, running and delayed (retries). */
  async depth(): Promise<{ waiting: number; active: number; delayed: number }> {
    const counts = await this.queue.getJobCounts('waiting', 'active', 'delayed');
    return { waiting: counts.waiting ?? 0, active: counts.active ?? 0, delayed: counts.delayed ?? 0 };
  }

  /** The BullMQ key prefix this queue's jobs go under. */
  get prefix(): string {
    return this.settings.prefix;
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}
