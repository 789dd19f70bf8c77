/**
 * Jobs (one per accepted ingest, as ImgGo's clients see them) and results (one per work
 * key: image content + pattern version). Every job with the same work key shares one
 * queue job and one result; only the first of them pays, the others are `dedup`.
 *
 * Ingest and completion serialise on the work key (a transaction-scoped advisory lock),
 * so a job is either written before the result (and the completion updates it) or
 * after (and sees the result and finishes at once): none can wait forever for a queue
 * job that already ended.
 *
 * Every transaction that finishes jobs also writes their webhook events to the outbox
 * (store/webhooks.ts): a finished job always has its events, whatever dies next.
 */
import { type Kysely, sql, type Transaction } from 'kysely';
import type { RunRecord } from '../pipeline/record.js';
import { newestFirst, type PageQuery } from './paging.js';
import type { Database, JobDocument, JobRow, JobStatus, JobUsage, JobWork } from './schema.js';
import { ACTIVE_ENDPOINTS_JSON, type ActiveEndpoint, type FinishedJob, Webhooks } from './webhooks.js';

export interface NewIngest {
  id: string;
  patternId: string;
  patternVersion: number;
  /** The fingerprint of the pattern content accepted: the job runs that content, whatever edits follow. */
  patternFingerprint: string;
  workKey: string;
  imageSha256: string;
  imageUrl: string;
  idempotencyKey: string | null;
  /** The API key that asked; null for a `visionpipe run --queue` coordinator. */
  requestedBy: string | null;
  extras: Record<string, unknown> | null;
  webhookUrl: string | null;
  /** What the queue job asks beyond image and pattern (provider setting, document reading, model profile). */
  work?: JobWork | null;
  /** The queue prefix its queue job goes under: only processes on that prefix re-queue it. */
  queuePrefix?: string | null;
}

export type IngestOutcome =
  /** A new job waiting for its queue job. */
  | { kind: 'queued'; job: JobRow }
  /** A new job finished at once from the stored result of the same work. */
  | { kind: 'done'; job: JobRow }
  /** The idempotency key was seen before with the same image and pattern: that job. */
  | { kind: 'replay'; job: JobRow }
  /** The idempotency key was seen before with another image or pattern. */
  | { kind: 'key-reused'; job: JobRow };

/** Who a finished record is reported to: the job that paid, jobs that shared it, or a later reuse. */
type Role = 'leader' | 'follower' | 'hit';

const NO_USAGE: JobUsage = { input_tokens: 0, output_tokens: 0, image_tokens: 0, estimated: false };

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The job columns a finished record sets. */
function outcomeOf(record: RunRecord, role: Role) {
  const leader = role === 'leader';
  let status: JobStatus = 'succeeded';
  let error: string | null = null;
  let errorCode: string | null = null;
  if (record.status === 'skipped') {
    status = 'failed';
    errorCode = 'NOT_RELEVANT';
    error = `the image is not relevant to this pattern: ${record.reason ?? 'triage said no'}`;
  } else if (record.status === 'error' || !isPlainObject(record.output)) {
    status = 'failed';
    errorCode = record.error?.code ?? 'BAD_RESPONSE';
    error = record.error?.message ?? 'the pipeline produced no output';
  }
  return {
    status,
    manifest: status === 'succeeded' ? JSON.stringify(record.output) : null,
    error,
    error_code: errorCode,
    cache: role === 'hit' ? 'hit' : leader ? (record.cache ?? 'miss') : 'dedup',
    usage: JSON.stringify(leader ? record.usage : NO_USAGE),
    cost_usd: leader ? record.cost_usd : 0,
    attempts: leader ? record.attempts : 0,
    provider: record.provider,
    model: record.model,
    document: documentOf(record),
  };
}

/** The page facts of a document's record (JSON), null for an image's. */
function documentOf(record: RunRecord): string | null {
  if (record.pages === undefined) return null;
  const document: JobDocument = {
    pages: record.pages,
    pages_sent: record.pages_sent ?? 0,
    blank_pages: record.blank_pages ?? [],
    conflicts: record.conflicts ?? [],
  };
  return JSON.stringify(document);
}

async function lockWork(tx: Transaction<Database>, workKey: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtextextended(${workKey}, 0))`.execute(tx);
}

const isUniqueViolation = (error: unknown) => (error as { code?: unknown })?.code === '23505';

/** A stored record is reused only when it holds an answer (errors are never stored). */
function reusable(record: RunRecord): boolean {
  return record.status === 'ok' || record.status === 'skipped';
}

/** What a worker starting work finds: the stored record, else the image (neither: the image is gone). */
export interface WorkStart {
  stored?: RunRecord;
  image?: { bytes: Buffer; mediaType: string };
}

/** The finished jobs of a statement that also returned the active endpoints. */
function jobsOf(rows: ReadonlyArray<FinishedJob & { endpoints: ActiveEndpoint[] }>): FinishedJob[] {
  return rows.map(({ endpoints: _endpoints, ...job }) => job);
}

export class Jobs {
  private readonly webhooks: Webhooks;

  constructor(private readonly db: Kysely<Database>) {
    this.webhooks = new Webhooks(db);
  }

  /** Records an accepted ingest (see IngestOutcome). */
  async ingest(input: NewIngest): Promise<IngestOutcome> {
    try {
      return await this.db.transaction().execute(async (tx) => {
        await lockWork(tx, input.workKey);
        const earlier = await this.byIdempotencyKey(tx, input);
        if (earlier) return earlier;
        const stored = await this.storedResult(tx, input.workKey);
        const values = {
          id: input.id,
          pattern_id: input.patternId,
          pattern_version: input.patternVersion,
          pattern_fingerprint: input.patternFingerprint,
          work_key: input.workKey,
          image_sha256: input.imageSha256,
          image_url: input.imageUrl,
          idempotency_key: input.idempotencyKey,
          requested_by: input.requestedBy,
          extras: input.extras === null ? null : JSON.stringify(input.extras),
          webhook_url: input.webhookUrl,
          work: input.work ? JSON.stringify(input.work) : null,
          queue_prefix: input.queuePrefix ?? null,
          status: 'queued' as const,
          error: null,
          error_code: null,
          latency_ms: null,
          cache: null,
          cost_usd: null,
          provider: null,
          model: null,
          started_at: null,
          completed_at: null,
        };
        if (!stored) {
          const job = await tx.insertInto('jobs').values(values).returningAll().executeTakeFirstOrThrow();
          return { kind: 'queued', job };
        }
        const now = new Date();
        const job = await tx
          .insertInto('jobs')
          .values({
            ...values,
            ...outcomeOf(stored, 'hit'),
            latency_ms: 0,
            started_at: now,
            completed_at: now,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        await this.webhooks.enqueue(tx, [job.id]);
        return { kind: 'done', job };
      });
    } catch (error) {
      // The same key raced in with another image (another work key, another lock).
      if (!isUniqueViolation(error) || input.idempotencyKey === null) throw error;
      const earlier = await this.byIdempotencyKey(this.db, input);
      if (!earlier) throw error;
      return earlier;
    }
  }

  async get(id: string): Promise<JobRow | undefined> {
    return this.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async list(query: PageQuery & { patternId?: string; status?: JobStatus }) {
    let base = this.db.selectFrom('jobs');
    if (query.patternId) base = base.where('pattern_id', '=', query.patternId);
    if (query.status) base = base.where('status', '=', query.status);
    return newestFirst(base, query);
  }

  /** Removes a job that was never queued (the queue was down), so the request can be retried. */
  async discard(id: string): Promise<void> {
    await this.db.deleteFrom('jobs').where('id', '=', id).where('status', '=', 'queued').execute();
  }

  /** A worker picked the work up: its queued jobs are running. */
  async markRunning(workKey: string): Promise<void> {
    await this.db
      .updateTable('jobs')
      .set({ status: 'running', started_at: sql`coalesce(started_at, now())`, updated_at: sql`now()` })
      .where('work_key', '=', workKey)
      .where('status', '=', 'queued')
      .execute();
  }

  /**
   * A worker picks the work up, in one statement: its queued jobs become running, and it
   * gets the work's stored record if there is one, else the image's bytes (undefined
   * when the image is gone). What `markRunning()`, `result()` and `Images.get()` do in three.
   */
  async start(workKey: string, imageSha256: string): Promise<WorkStart> {
    const { rows } = await sql<{ record: RunRecord | null; bytes: Buffer | null; media_type: string | null }>`
      with running as (
        update jobs
           set status = 'running', started_at = coalesce(started_at, now()), updated_at = now()
         where work_key = ${workKey} and status = 'queued')
      select r.record, i.bytes, i.media_type
        from (select 1) one
        left join results r on r.work_key = ${workKey}
        left join images i on r.work_key is null and i.sha256 = ${imageSha256}`.execute(this.db);
    const row = rows[0];
    if (row?.record) return { stored: row.record };
    if (row?.bytes && row.media_type !== null)
      return { image: { bytes: row.bytes, mediaType: row.media_type } };
    return {};
  }

  /** The stored record of finished work, if any. */
  async result(workKey: string): Promise<RunRecord | undefined> {
    return this.storedResult(this.db, workKey);
  }

  /**
   * Finishes every open job of the work: the result is stored (when it is an answer) and
   * the jobs updated in one transaction. `leaderJobId` is the job that paid; the others
   * shared its call (`dedup`). Without a leader nobody paid now: every job is a `hit`
   * (the record was stored earlier). `possiblyPaid`: an earlier worker of this work died
   * after starting a provider call and before journaling its answer, so that call may
   * have been paid too; the leader job records it. Returns the ids of the jobs finished.
   */
  async complete(
    workKey: string,
    record: RunRecord,
    leaderJobId?: string,
    possiblyPaid = false,
  ): Promise<string[]> {
    const leader = leaderJobId === undefined ? undefined : outcomeOf(record, 'leader');
    const other = outcomeOf(record, leaderJobId === undefined ? 'hit' : 'follower');
    /** The leader's value of a column, the others' for every other job. */
    const byRole = (column: keyof typeof other, type: string) => {
      const cast = sql.raw(type);
      return leader === undefined
        ? sql`${other[column]}::${cast}`
        : sql`case when id = ${leaderJobId}::uuid then ${leader[column]}::${cast} else ${other[column]}::${cast} end`;
    };
    // BEGIN, the work's lock, one statement (result, jobs, their patterns' URLs and the
    // active endpoints), the outbox rows, COMMIT.
    return this.db.transaction().execute(async (tx) => {
      await lockWork(tx, workKey);
      const { rows } = await sql<FinishedJob & { endpoints: ActiveEndpoint[] }>`
        with stored as (
          insert into results (work_key, record)
          select ${workKey}, ${JSON.stringify(record)}::json where ${reusable(record)}::boolean
          on conflict (work_key) do nothing),
        finished as (
          update jobs
             set status = ${other.status}::text,
                 manifest = ${other.manifest}::json,
                 error = ${other.error}::text,
                 error_code = ${other.error_code}::text,
                 cache = ${byRole('cache', 'text')},
                 usage = ${byRole('usage', 'jsonb')},
                 cost_usd = ${byRole('cost_usd', 'double precision')},
                 attempts = ${byRole('attempts', 'integer')},
                 provider = ${other.provider}::text,
                 model = ${other.model}::text,
                 document = ${other.document}::json,
                 possibly_paid = ${
                   possiblyPaid && leaderJobId !== undefined
                     ? sql`possibly_paid or id = ${leaderJobId}::uuid`
                     : sql`possibly_paid`
                 },
                 latency_ms = (extract(epoch from (now() - created_at)) * 1000)::integer,
                 started_at = coalesce(started_at, now()),
                 completed_at = now(),
                 updated_at = now()
           where work_key = ${workKey} and status in ('queued', 'running')
       returning *)
        select finished.*, p.webhook_url as pattern_webhook_url, ${ACTIVE_ENDPOINTS_JSON} as endpoints
          from finished join patterns p on p.id = finished.pattern_id
         order by (finished.id = ${leaderJobId ?? null}::uuid) desc nulls last, finished.id`.execute(tx);
      await this.webhooks.enqueueFinished(tx, jobsOf(rows), rows[0]?.endpoints ?? []);
      return rows.map((r) => r.id);
    });
  }

  /** Fails every open job of the work with an error that is not the pipeline's (a lost pattern or image). */
  async fail(workKey: string, code: string, message: string): Promise<string[]> {
    return this.db.transaction().execute(async (tx) => {
      const { rows } = await sql<FinishedJob & { endpoints: ActiveEndpoint[] }>`
        with finished as (
          update jobs
             set status = 'failed',
                 error = ${message}::text,
                 error_code = ${code}::text,
                 latency_ms = (extract(epoch from (now() - created_at)) * 1000)::integer,
                 completed_at = now(),
                 updated_at = now()
           where work_key = ${workKey} and status in ('queued', 'running')
       returning *)
        select finished.*, p.webhook_url as pattern_webhook_url, ${ACTIVE_ENDPOINTS_JSON} as endpoints
          from finished join patterns p on p.id = finished.pattern_id`.execute(tx);
      await this.webhooks.enqueueFinished(tx, jobsOf(rows), rows[0]?.endpoints ?? []);
      return rows.map((r) => r.id);
    });
  }

  private async storedResult(db: Kysely<Database>, workKey: string): Promise<RunRecord | undefined> {
    const row = await db
      .selectFrom('results')
      .select('record')
      .where('work_key', '=', workKey)
      .executeTakeFirst();
    return row ? (row.record as unknown as RunRecord) : undefined;
  }

  private async byIdempotencyKey(db: Kysely<Database>, input: NewIngest): Promise<IngestOutcome | undefined> {
    if (input.idempotencyKey === null || input.requestedBy === null) return undefined;
    const job = await db
      .selectFrom('jobs')
      .selectAll()
      .where('requested_by', '=', input.requestedBy)
      .where('idempotency_key', '=', input.idempotencyKey)
      .executeTakeFirst();
    if (!job) return undefined;
    const same = job.work_key === input.workKey;
    return { kind: same ? 'replay' : 'key-reused', job };
  }
}
