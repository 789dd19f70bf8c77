/**
 * `visionpipe run … --queue redis://…`: the run's images go to the service's workers
 * (`visionpipe worker`, any number, any machine) instead of a local pipeline, and their
 * records come back here, in input order of completion, as a local run's would.
 *
 * Documents (PDF, multi-page TIFF, HEIC) are opened here only to count and select their
 * pages (nothing rendered): in `document` mode the document is one job (one record, one
 * provider call when its pages fit one request); in `each` mode every selected page is a
 * job of its own (work key by document content + page), its record carrying `page`, so a
 * resumed coordinator sends only the pages it has no line for.
 *
 * Per input: the coordinator reads the bytes (the same source limits as a local run),
 * stores them by content in PostgreSQL, records a job for the run's pattern (kept in
 * the database under a name that carries its fingerprint, so every run of the same
 * pattern shares one pattern id and so one work key per image), and queues the work
 * unless the same work already waits or runs (then it joins it) or is done (then its
 * stored result comes back at once: `cache: "hit"`, nothing paid). It then waits for
 * the job in PostgreSQL (one poll for all inputs in flight), so a Redis restart or a
 * worker crash only delays it.
 *
 * Never paying twice: the work key, the stored results and the workers' shared cache
 * are the service's own guarantees; a coordinator killed and run again finds the
 * inputs it had finished in its results file (resume) and the work it had sent either
 * still queued (joined) or finished (stored result), so every image is paid once.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { DEFAULT_MAX_PAGES, openDocument } from '../documents/document.js';
import { documentKind } from '../documents/kinds.js';
import { parsePageRange } from '../documents/page-range.js';
import type { PagesMode } from '../documents/pages-mode.js';
import { VisionpipeError } from '../errors.js';
import { streamWindow } from '../flow/stream-window.js';
import { sha256 } from '../image/fingerprint.js';
import { sniffFormat } from '../image/sniff.js';
import { type ImageSource, loadSource, type SourceLimits } from '../image/source.js';
import type { Pattern } from '../patterns/types.js';
import { sourceOfItem } from '../pipeline/input-source.js';
import { errorRecord, type RunRecord } from '../pipeline/record.js';
import { isRecordList } from '../pipeline/spec.js';
import { type DocumentSetting, documentKey } from '../queue/document-setting.js';
import type { IngestQueue } from '../queue/ingest-queue.js';
import { type ProviderSetting, settingKey } from '../queue/provider-setting.js';
import { workKeyOf } from '../queue/work-key.js';
import type { JobRow, PatternFields, Store, StoredPattern } from '../store/index.js';
import { StoreConflictError } from '../store/index.js';
import type { InputItem } from './inputs.js';
import type { BatchResult, Reuse } from './run.js';

export interface QueueRunOptions {
  store: Store;
  queue: IngestQueue;
  pattern: Pattern;
  /** Inputs in flight at once (read, stored, queued, waited for). */
  concurrency: number;
  sourceLimits: SourceLimits;
  /** The earlier record for an item whose content is this, or a document's earlier page records (resume). */
  reuse?: Reuse;
  /** How documents are read (default: one record per document, every page, the workers' page limit). */
  documents?: QueueDocuments;
  /** First Ctrl-C: send nothing new. */
  stop?: AbortSignal;
  /** Second Ctrl-C: stop waiting (the work goes on in the workers; a new run finds it). */
  signal?: AbortSignal;
  /** The provider, model and base URL the workers read with (no key); absent: theirs. Part of the work key. */
  provider?: ProviderSetting;
  /** How often finished jobs are looked for, ms (default 200). */
  pollMs?: number;
  /**
   * The run's id (resume.ts: a resumed run keeps the crashed one's). Its jobs carry it, and a
   * job this run (or the run it resumes) already sent for the same input is collected, not
   * sent again: its record is that job's own outcome (miss, attempts, cost), not a hit.
   */
  runId?: string;
}

const DOCUMENT_MEDIA_TYPES = { pdf: 'application/pdf', tiff: 'image/tiff', heic: 'image/heic' } as const;

const MEDIA_TYPES: Record<string, string> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
  tiff: 'image/tiff',
  avif: 'image/avif',
};

/** The pattern the run's jobs use: one per pattern fingerprint, created by the first run. */
export async function runPattern(store: Store, pattern: Pattern): Promise<StoredPattern> {
  const name = `visionpipe run: ${pattern.name} (${pattern.fingerprint.slice(0, 12)})`;
  const find = async () => {
    const row = await store.db
      .selectFrom('patterns')
      .select('id')
      .where('name', '=', name)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    return row ? store.patterns.get(row.id) : undefined;
  };
  const existing = await find();
  if (existing) return existing;
  const fields: PatternFields = {
    name,
    format: pattern.format,
    instructions: pattern.instructions,
    json_schema: pattern.schema as unknown as Record<string, unknown>,
    yaml_schema: null,
    xml_schema: null,
    csv_schema: null,
    csv_delimiter: 'comma',
    plain_text_schema: null,
    model_profile: 'managed-default',
  };
  try {
    return await store.patterns.create(fields);
  } catch (error) {
    // Another coordinator created it at the same moment.
    if (!(error instanceof StoreConflictError)) throw error;
    const raced = await find();
    if (!raced) throw error;
    return raced;
  }
}

/** Waits for many jobs with one query per poll. */
class JobWatch {
  private readonly waiting = new Map<string, (job: JobRow) => void>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Store,
    private readonly pollMs: number,
  ) {}

  finished(id: string, signal?: AbortSignal): Promise<JobRow> {
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.waiting.delete(id);
        reject(new VisionpipeError('ABORTED', 'the run was aborted while this image was on the queue'));
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.set(id, (job) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(job);
      });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.timer || this.waiting.size === 0) return;
    this.timer = setTimeout(() => {
      this.poll().then(
        () => {
          this.timer = undefined;
          this.schedule();
        },
        () => {
          // The database is away for a moment: keep waiting.
          this.timer = undefined;
          this.schedule();
        },
      );
    }, this.pollMs);
  }

  private async poll(): Promise<void> {
    const ids = [...this.waiting.keys()];
    for (let i = 0; i < ids.length; i += 1000) {
      const done = await this.store.db
        .selectFrom('jobs')
        .selectAll()
        .where('id', 'in', ids.slice(i, i + 1000))
        .where('status', 'in', ['succeeded', 'failed'])
        .execute();
      for (const job of done) {
        const resolve = this.waiting.get(job.id);
        this.waiting.delete(job.id);
        resolve?.(job);
      }
    }
  }

  close(): void {
    clearTimeout(this.timer);
  }
}

/** The record of a finished job, named as the input and billed as this job was (a dedup or hit costs nothing). */
export async function recordOfJob(
  store: Store,
  job: JobRow,
  input: string,
  pattern: string,
): Promise<RunRecord> {
  const stored = await store.jobs.result(job.work_key);
  // A blank page skipped unread was neither looked up nor paid: no cache outcome, as in a local run.
  const skipped = stored?.status === 'skipped';
  const billed = {
    input,
    pattern,
    cache: skipped ? null : ((job.cache ?? 'miss') as RunRecord['cache']),
    attempts: job.attempts,
    latency_ms: job.latency_ms ?? 0,
    usage: job.usage ?? { input_tokens: 0, output_tokens: 0, image_tokens: 0, estimated: false },
    cost_usd: job.cost_usd,
    // A worker died during the call and it was made again: it may have been paid twice.
    ...(job.possibly_paid ? { possibly_paid: true as const } : {}),
  };
  if (stored && (job.status === 'succeeded' || job.error_code === 'NOT_RELEVANT'))
    return { ...stored, ...billed };
  return errorRecord(
    { input, pattern, provider: job.provider ?? '', model: job.model ?? '' },
    { code: job.error_code ?? 'INTERNAL', message: job.error ?? 'the job failed' },
    { ...billed, sha256: job.image_sha256 },
  );
}

/** How the run reads documents (`--pages`, `--page-range`, `--max-pages`). */
export interface QueueDocuments {
  pages: PagesMode;
  pageRange?: string;
  maxPages?: number;
}

/** What one input is: an image (one job), or a document read as one job or one job per page. */
type Plan =
  | { kind: 'image'; mediaType: string }
  | { kind: 'document'; mediaType: string; pages: readonly number[] };

/**
 * The input's plan, from its bytes. A document is opened (its page tree only, nothing
 * rendered) to count and select its pages, so a bad range, too many pages, an encrypted
 * or damaged file fail here, before anything is stored or paid for.
 */
async function planOf(bytes: Buffer, label: string, documents: QueueDocuments): Promise<Plan> {
  const kind = documentKind(bytes);
  if (kind) {
    const doc = await openDocument(
      bytes,
      label,
      {
        limits: { maxLongEdge: Number.MAX_SAFE_INTEGER },
        maxPages: documents.maxPages ?? DEFAULT_MAX_PAGES,
        ...(documents.pageRange ? { pageRange: parsePageRange(documents.pageRange) } : {}),
      },
      kind,
    );
    const pages = doc.pages;
    const single = kind === 'tiff' && doc.pageCount === 1;
    doc.close();
    if (!single) return { kind: 'document', mediaType: DOCUMENT_MEDIA_TYPES[kind], pages };
  }
  const sniffed = sniffFormat(bytes);
  if (!sniffed.supported)
    throw new VisionpipeError('UNSUPPORTED_FORMAT', `${label}: ${sniffed.reason}`, { input: label });
  return { kind: 'image', mediaType: MEDIA_TYPES[sniffed.format] ?? 'application/octet-stream' };
}

/** Runs the items on the queue; yields one result per record (a document in `each` mode: one per page) as it finishes. */
export async function* runOnQueue(
  items: AsyncIterable<InputItem>,
  options: QueueRunOptions,
): AsyncGenerator<BatchResult> {
  const { store, queue, pattern } = options;
  const documents: QueueDocuments = options.documents ?? { pages: 'document' };
  const stored = await runPattern(store, pattern);
  const watch = new JobWatch(store, options.pollMs ?? 200);
  const base = { pattern: pattern.name, provider: 'queue', model: '' };

  /**
   * The job this run (or the crashed run it resumes) sent for this input (and page) and this
   * work, unless it failed (a failed input is tried again, as on resume).
   */
  async function sentBefore(
    workKey: string,
    runId: string,
    input: string,
    page: number | undefined,
  ): Promise<JobRow | undefined> {
    const rows = await store.db
      .selectFrom('jobs')
      .selectAll()
      .where('work_key', '=', workKey)
      .where('status', '!=', 'failed')
      .where(sql<boolean>`extras->>'run' = ${runId} and extras->>'input' = ${input}`)
      .where(sql<boolean>`coalesce(extras->>'page', '') = ${page === undefined ? '' : String(page)}`)
      .orderBy('created_at', 'desc')
      .limit(1)
      .execute();
    return rows[0];
  }

  /** Sends one job (or joins the work already sent) and waits for its record. */
  async function sendAndWait(
    item: InputItem,
    sha: string,
    setting: DocumentSetting | undefined,
  ): Promise<RunRecord> {
    const workKey = workKeyOf(
      sha,
      stored.id,
      stored.fingerprint,
      options.provider ? settingKey(options.provider) : undefined,
      setting ? documentKey(setting) : undefined,
    );
    const page = setting?.pages === 'each' ? Number(setting.pageRange) : undefined;
    const own = options.runId ? await sentBefore(workKey, options.runId, item.label, page) : undefined;
    if (own) {
      const job = own.status === 'succeeded' ? own : await watch.finished(own.id, options.signal);
      return recordOfJob(store, job, item.label, pattern.name);
    }
    const outcome = await store.jobs.ingest({
      id: randomUUID(),
      patternId: stored.id,
      patternVersion: stored.version,
      patternFingerprint: stored.fingerprint,
      workKey,
      imageSha256: sha,
      imageUrl: item.kind === 'url' ? item.url : `upload:${sha}`,
      idempotencyKey: null,
      requestedBy: null,
      extras: {
        input: item.label,
        ...(page === undefined ? {} : { page }),
        ...(options.runId ? { run: options.runId } : {}),
      },
      webhookUrl: null,
      queuePrefix: queue.prefix,
      // Kept so work Redis lost is queued again as it was (reconciler.ts).
      ...(options.provider || setting
        ? {
            work: {
              ...(options.provider ? { provider: options.provider } : {}),
              ...(setting ? { documents: setting } : {}),
            },
          }
        : {}),
    });
    if (outcome.kind === 'queued') {
      await queue.add({
        workKey,
        leaderJobId: outcome.job.id,
        patternId: stored.id,
        patternVersion: stored.version,
        patternFingerprint: stored.fingerprint,
        imageSha256: sha,
        label: item.label,
        ...(options.provider ? { provider: options.provider } : {}),
        ...(setting ? { documents: setting } : {}),
      });
    }
    const job =
      outcome.job.status === 'succeeded' || outcome.job.status === 'failed'
        ? outcome.job
        : await watch.finished(outcome.job.id, options.signal);
    return recordOfJob(store, job, item.label, pattern.name);
  }

  const fail = (item: InputItem, error: unknown, started: number, page?: number): BatchResult => {
    const e =
      error instanceof VisionpipeError
        ? error
        : new VisionpipeError('INTERNAL', error instanceof Error ? error.message : String(error));
    return {
      item,
      record: errorRecord({ ...base, input: item.label }, e.toJSON(), {
        latency_ms: Math.round(performance.now() - started),
        ...(page === undefined ? {} : { page }),
      }),
      resumed: false,
    };
  };

  /** Reads one input, sends its job(s) and emits each record as it finishes. */
  async function runItem(item: InputItem, emit: (result: BatchResult) => void): Promise<void> {
    const started = performance.now();
    if (item.kind === 'error') return emit(fail(item, item.error, started));
    try {
      const source: ImageSource = sourceOfItem(item);
      const loaded = await loadSource(source, {
        ...options.sourceLimits,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      const sha = sha256(loaded.bytes);
      const earlier = options.reuse?.(item, sha);
      if (earlier && !isRecordList(earlier)) return emit({ item, record: earlier, resumed: true });
      const plan = await planOf(loaded.bytes, item.label, documents);
      await store.images.put(sha, loaded.bytes, plan.mediaType);
      const limits = {
        ...(documents.maxPages === undefined ? {} : { maxPages: documents.maxPages }),
      };
      if (plan.kind === 'image')
        return emit({ item, record: await sendAndWait(item, sha, undefined), resumed: false });
      if (documents.pages === 'document') {
        const setting: DocumentSetting = {
          pages: 'document',
          ...(documents.pageRange ? { pageRange: documents.pageRange } : {}),
          ...limits,
        };
        return emit({ item, record: await sendAndWait(item, sha, setting), resumed: false });
      }
      // Each mode: one job per selected page; pages an earlier run wrote are kept, not sent.
      // Only the page records of this very file: the coordinator renders no page, so a page of
      // another version of it is not known to be the same (the worker's cache may still know it).
      const kept = new Map(
        (earlier && isRecordList(earlier) ? earlier : [])
          .filter((record) => (record.document_sha256 ?? record.sha256) === sha)
          .map((record) => [record.page, record]),
      );
      await Promise.all(
        plan.pages.map(async (page) => {
          const before = kept.get(page);
          if (before) return emit({ item, record: before, resumed: true });
          try {
            const record = await sendAndWait(item, sha, { pages: 'each', pageRange: String(page) });
            emit({ item, record, resumed: false });
          } catch (error) {
            emit(fail(item, error, started, page));
          }
        }),
      );
    } catch (error) {
      emit(fail(item, error, started));
    }
  }

  // Results leave as each record finishes: in `each` mode a document's pages stream one by
  // one, so a coordinator killed mid-document has written the pages that were done.
  try {
    yield* streamWindow(items, options.concurrency, runItem, options.stop ? { stop: options.stop } : {});
  } finally {
    watch.close();
  }
}
