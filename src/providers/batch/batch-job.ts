/**
 * runBatchJob(): a resumable batch job over any BatchBackend. Requests stream in and
 * are split into batches within the API's limits; each batch id is written to the state
 * file the moment the provider accepts it, so a process killed between submit and fetch
 * picks up the very same batches when the command runs again and never submits (or pays
 * for) them twice. Batches are then polled with backoff until they end, and their results
 * — successes and typed per-request errors — are yielded as they arrive.
 *
 * What "the same job" is belongs to the caller: `jobKey` (e.g. a hash of the run
 * signature). The caller also skips inputs its cache already answers before building
 * requests, which is what makes a run after a completed job submit nothing.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { toVisionpipeError, VisionpipeError } from '../../errors.js';
import type { BatchBackend, BatchCounts, BatchItem, BatchRequest, BatchState, BatchStatus } from './spec.js';
import { isTerminal } from './spec.js';
import {
  type BatchEntry,
  type BatchJobState,
  newBatchJobState,
  readBatchJobState,
  requestEntry,
  requestInfos,
  writeBatchJobState,
} from './state.js';

/** What both APIs accept as a custom id (Anthropic's rule, the stricter one). */
const CUSTOM_ID = /^[a-zA-Z0-9_-]{1,64}$/;
/** A batch may take up to 24 h; an hour more covers queueing and finalizing. */
const DEFAULT_MAX_WAIT_MS = 25 * 60 * 60 * 1000;
const DEFAULT_POLL_INTERVAL_MS = 30_000;
/** Attempts at downloading one batch's results before giving up (the job stays resumable). */
const FETCH_ATTEMPTS = 5;
/** Polls of one batch failing in a row before giving up: about an hour at the default pace. */
const MAX_POLL_FAILURES = 20;

export type BatchJobEvent =
  /** The state file named unfinished batches of this job: they are polled, not submitted again. */
  | { type: 'resumed'; batchIds: string[]; requests: number }
  | { type: 'submitted'; batchId: string; requests: number }
  | { type: 'status'; batchId: string; state: BatchState; counts?: BatchCounts }
  /** A poll or download failed transiently; it is tried again. */
  | { type: 'retrying'; batchId: string; error: VisionpipeError }
  | { type: 'fetched'; batchId: string; results: number; errors: number };

export interface BatchJobOptions {
  backend: BatchBackend;
  /** Identifies the job across runs: a state file naming this key is resumed. */
  jobKey: string;
  /** The requests still to answer (cached inputs already skipped); ids must be stable across runs. */
  requests: AsyncIterable<BatchRequest> | Iterable<BatchRequest>;
  /** JSON file in the state directory (see batchStateFile()); written atomically. */
  stateFile: string;
  /** First wait between polls, ms (default 30 000, minimum 1); grows ×1.5 while nothing changes. */
  pollIntervalMs?: number;
  /** Longest wait between polls, ms (default 10 × pollIntervalMs). */
  maxPollIntervalMs?: number;
  /** Give up waiting after this long, ms (default 25 h): PROVIDER_TIMEOUT, and the job stays resumable. */
  maxWaitMs?: number;
  signal?: AbortSignal;
  onStatus?: (event: BatchJobEvent) => void;
}

export interface BatchJobSummary {
  /** Every batch of the job, earlier runs' included. */
  batchIds: string[];
  /** Requests submitted by this run. */
  submitted: number;
  /** Requests found already submitted by an earlier run (not submitted again). */
  resumed: number;
  results: number;
  errors: number;
}

function positive(option: string, value: number | undefined, fallback: number, min: number): number {
  const resolved = value ?? fallback;
  if (!Number.isFinite(resolved) || resolved < min) {
    throw new VisionpipeError(
      'INVALID_OPTION',
      `runBatchJob: ${option} must be a number ≥ ${min} (got ${JSON.stringify(value)})`,
      { option },
    );
  }
  return resolved;
}

async function pause(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, { signal });
  } catch (error) {
    throw new VisionpipeError('ABORTED', 'batch job aborted while waiting for the provider', {
      cause: error,
    });
  }
}

function sameCounts(a: BatchCounts | undefined, b: BatchCounts | undefined): boolean {
  return a?.total === b?.total && a?.completed === b?.completed && a?.failed === b?.failed;
}

/** The error of a request a terminal batch reported nothing for, by how the batch ended. */
function missingResult(provider: string, batchId: string, status: BatchStatus): VisionpipeError {
  switch (status.state) {
    case 'failed':
      return new VisionpipeError(
        'BAD_REQUEST',
        `${provider}: batch ${batchId} failed${status.message ? `: ${status.message}` : ''}`,
      );
    case 'expired':
      return new VisionpipeError(
        'PROVIDER_UNAVAILABLE',
        `${provider}: batch ${batchId} expired before this request ran (the 24 h window ended)`,
      );
    case 'cancelled':
      return new VisionpipeError(
        'ABORTED',
        `${provider}: batch ${batchId} was cancelled before this request ran`,
      );
    default:
      return new VisionpipeError(
        'BAD_RESPONSE',
        `${provider}: batch ${batchId} ${status.state} without a readable result for this request`,
      );
  }
}

export async function* runBatchJob(options: BatchJobOptions): AsyncGenerator<BatchItem, BatchJobSummary> {
  const { backend, stateFile, jobKey } = options;
  if (typeof jobKey !== 'string' || jobKey === '') {
    throw new VisionpipeError('INVALID_OPTION', 'runBatchJob: jobKey must be a non-empty string', {
      option: 'jobKey',
    });
  }
  const pollIntervalMs = positive('pollIntervalMs', options.pollIntervalMs, DEFAULT_POLL_INTERVAL_MS, 1);
  const maxPollIntervalMs = Math.max(
    pollIntervalMs,
    positive('maxPollIntervalMs', options.maxPollIntervalMs, pollIntervalMs * 10, 1),
  );
  const maxWaitMs = positive('maxWaitMs', options.maxWaitMs, DEFAULT_MAX_WAIT_MS, 1);
  const signal = options.signal ?? new AbortController().signal;
  const emit = (event: BatchJobEvent) => options.onStatus?.(event);
  const summary: BatchJobSummary = { batchIds: [], submitted: 0, resumed: 0, results: 0, errors: 0 };

  const state = await startingState(stateFile, jobKey, backend.id);
  if (state.batches.length > 0) {
    emit({
      type: 'resumed',
      batchIds: state.batches.filter((b) => !b.fetched).map((b) => b.id),
      requests: state.batches.reduce((n, b) => n + b.requests.length, 0),
    });
  }

  // 1. Submit what no earlier run submitted, split to the API's limits.
  const submitted = new Set(state.batches.flatMap((b) => b.requests.map(([id]) => id)));
  const seen = new Set<string>();
  const limits = backend.limits;
  let chunk: BatchRequest[] = [];
  let chunkBytes = 0;
  const submitChunk = async () => {
    const { batchId } = await backend.submit(chunk, signal);
    state.batches.push({
      id: batchId,
      submittedAt: new Date().toISOString(),
      state: 'validating',
      fetched: false,
      requests: chunk.map(requestEntry),
    });
    // Before anything else can happen to this process: the batch is paid for from here on.
    await writeBatchJobState(stateFile, state);
    summary.submitted += chunk.length;
    emit({ type: 'submitted', batchId, requests: chunk.length });
    chunk = [];
    chunkBytes = 0;
  };
  for await (const request of options.requests) {
    if (signal.aborted) throw new VisionpipeError('ABORTED', 'batch job aborted while submitting');
    const id = request.customId;
    if (typeof id !== 'string' || !CUSTOM_ID.test(id)) {
      throw new VisionpipeError(
        'INVALID_OPTION',
        `runBatchJob: customId must match ^[a-zA-Z0-9_-]{1,64}$ (got ${JSON.stringify(id)})`,
        { option: 'customId' },
      );
    }
    if (seen.has(id)) {
      throw new VisionpipeError('INVALID_OPTION', `runBatchJob: customId ${id} appears twice in one job`, {
        option: 'customId',
      });
    }
    seen.add(id);
    if (submitted.has(id)) {
      summary.resumed++;
      continue;
    }
    const bytes = backend.requestBytes(request);
    if (bytes > limits.maxBytes) {
      summary.errors++;
      yield {
        customId: id,
        error: new VisionpipeError(
          'BAD_REQUEST',
          `${backend.id}: the request is ${bytes} bytes, more than a whole batch may hold (${limits.maxBytes})`,
        ),
      };
      continue;
    }
    if (chunk.length >= limits.maxRequests || chunkBytes + bytes > limits.maxBytes) await submitChunk();
    chunk.push(request);
    chunkBytes += bytes;
  }
  if (chunk.length > 0) await submitChunk();
  summary.batchIds = state.batches.map((b) => b.id);
  if (state.batches.length === 0) return summary;

  // 2. Poll every open batch; fetch each as soon as it ends.
  const deadline = Date.now() + maxWaitMs;
  const seenStatus = new Map<string, BatchStatus>();
  const pollFailures = new Map<string, number>();
  let interval = pollIntervalMs;
  for (;;) {
    const open = state.batches.filter((b) => !b.fetched);
    if (open.length === 0) break;
    let wait = interval;
    let changed = false;
    for (const batch of open) {
      let status: BatchStatus;
      try {
        status = await backend.status(batch.id, signal);
      } catch (caught) {
        const error = toVisionpipeError(caught);
        // Polling is not work: a transient failure waits and polls again, for a while.
        const failures = (pollFailures.get(batch.id) ?? 0) + 1;
        pollFailures.set(batch.id, failures);
        if (!error.retryable || signal.aborted || failures >= MAX_POLL_FAILURES) throw error;
        emit({ type: 'retrying', batchId: batch.id, error });
        wait = Math.max(wait, error.retryAfterMs ?? 0);
        continue;
      }
      pollFailures.delete(batch.id);
      const previous = seenStatus.get(batch.id);
      if (previous?.state !== status.state || !sameCounts(previous?.counts, status.counts)) changed = true;
      seenStatus.set(batch.id, status);
      batch.state = status.state;
      emit({
        type: 'status',
        batchId: batch.id,
        state: status.state,
        ...(status.counts ? { counts: status.counts } : {}),
      });
      if (!isTerminal(status.state)) continue;
      const fetched = { results: 0, errors: 0 };
      for await (const item of fetchBatch(backend, batch, status, {
        signal,
        emit,
        retryMs: pollIntervalMs,
      })) {
        if (item.error) fetched.errors++;
        else fetched.results++;
        yield item;
      }
      // Marked only once the caller has taken every result: a crash mid-way fetches again.
      batch.fetched = true;
      await writeBatchJobState(stateFile, state);
      summary.results += fetched.results;
      summary.errors += fetched.errors;
      emit({ type: 'fetched', batchId: batch.id, ...fetched });
    }
    if (state.batches.every((b) => b.fetched)) break;
    if (Date.now() + wait > deadline) {
      const waiting = state.batches.filter((b) => !b.fetched).map((b) => b.id);
      throw new VisionpipeError(
        'PROVIDER_TIMEOUT',
        `${backend.id}: batches ${waiting.join(', ')} still running after ${maxWaitMs} ms; run again to pick them up`,
      );
    }
    await pause(wait, signal);
    interval = changed ? pollIntervalMs : Math.min(interval * 1.5, maxPollIntervalMs);
  }
  state.fetched = true;
  await writeBatchJobState(stateFile, state);
  return summary;
}

/**
 * The state to work from: the file's when it holds an unfinished job under this key,
 * else a new one (written at the first submit). An unfinished job under another key, or
 * for another backend, is refused: overwriting it would lose batches already paid for.
 */
async function startingState(
  file: string,
  jobKey: string,
  backend: BatchJobState['backend'],
): Promise<BatchJobState> {
  const earlier = await readBatchJobState(file);
  if (earlier === undefined || earlier.fetched) return newBatchJobState(jobKey, backend);
  if (earlier.jobKey !== jobKey || earlier.backend !== backend) {
    throw new VisionpipeError(
      'INVALID_OPTION',
      `batch state ${file} holds unfinished ${earlier.backend} batches of another job (${earlier.jobKey}); use one state file per job (batchStateFile())`,
      { option: 'stateFile' },
    );
  }
  return earlier;
}

/**
 * One terminal batch's results, each request exactly once: a download that fails
 * transiently is tried again (skipping what was already handed over), and a request
 * the provider reported nothing for becomes an error named after how the batch ended.
 */
async function* fetchBatch(
  backend: BatchBackend,
  batch: BatchEntry,
  status: BatchStatus,
  context: { signal: AbortSignal; emit: (event: BatchJobEvent) => void; retryMs: number },
): AsyncGenerator<BatchItem> {
  const { signal, emit } = context;
  const infos = requestInfos(batch);
  const delivered = new Set<string>();
  for (let attempt = 1; ; attempt++) {
    try {
      for await (const item of backend.results(batch.id, signal, infos)) {
        // Lines for requests this job never sent, or repeated lines, are not ours to report.
        if (!infos.has(item.customId) || delivered.has(item.customId)) continue;
        delivered.add(item.customId);
        yield item;
      }
      break;
    } catch (caught) {
      const error = toVisionpipeError(caught);
      if (!error.retryable || signal.aborted || attempt >= FETCH_ATTEMPTS) throw error;
      emit({ type: 'retrying', batchId: batch.id, error });
      await pause(Math.max(error.retryAfterMs ?? 0, context.retryMs * 2 ** (attempt - 1)), signal);
    }
  }
  for (const customId of infos.keys()) {
    if (!delivered.has(customId)) yield { customId, error: missingResult(backend.id, batch.id, status) };
  }
}
