/**
 * `run --batch-api`: the same records as a normal run, half the price, for work that can
 * wait. Inputs are read, deduplicated, checked against the cache and triaged as usual;
 * what still needs the model becomes batch requests, submitted as they fill a batch.
 * Then the job is polled and each result is validated, cached and recorded. Batch ids are
 * in the state directory from the moment they exist: running the same command again after
 * a crash resumes the same batches and never submits them twice.
 */
import { mapWindow } from '../flow/window.js';
import type { Pipeline } from '../pipeline/create-pipeline.js';
import type { RunRecord } from '../pipeline/record.js';
import {
  type BatchBackend,
  type BatchJobEvent,
  type BatchRequest,
  batchStateFile,
  runBatchJob,
} from '../providers/batch/index.js';
import type { InputItem } from './inputs.js';
import { type BatchResult, earlierProbe, type Reuse } from './run.js';

export interface BatchApiRunOptions {
  backend: BatchBackend;
  pipelineFor: (item: InputItem) => Promise<Pipeline>;
  stateDir: string;
  /** Same key, same job: derived from the run's signature. */
  jobKey: string;
  /** Inputs prepared at once (reading, hashing, resizing). */
  concurrency: number;
  /** The earlier record for an item whose content (sha256) is this, when it can be reused. */
  reuse?: Reuse;
  pollIntervalMs?: number;
  stop?: AbortSignal;
  signal?: AbortSignal;
  onStatus?: (message: string) => void;
  /** Called once per input, in completion order. */
  onResult: (result: BatchResult) => void | Promise<void>;
}

export async function runWithBatchApi(
  items: AsyncIterable<InputItem>,
  options: BatchApiRunOptions,
): Promise<void> {
  const owners = new Map<string, Pipeline>();
  const later: Array<Promise<void>> = [];
  const report = async (item: InputItem, record: RunRecord, resumed = false) =>
    options.onResult({ item, record, resumed });

  async function* requests(): AsyncGenerator<BatchRequest> {
    const prepared = mapWindow(
      items,
      options.concurrency,
      async (item) => {
        const pipeline = await options.pipelineFor(item);
        const probe = earlierProbe(options.reuse, item);
        const deferred = await pipeline.defer(item, options.signal, probe?.check);
        const handedBack = (record: RunRecord) => probe?.handedBack(record) ?? false;
        if (deferred.kind === 'done' && handedBack(deferred.record))
          return { item, deferred: undefined, earlier: deferred.record, handedBack };
        if (deferred.kind === 'request') owners.set(deferred.request.customId, pipeline);
        if (deferred.kind === 'document')
          for (const request of deferred.requests) owners.set(request.customId, pipeline);
        return { item, deferred, earlier: undefined, handedBack };
      },
      options.stop ? { stop: options.stop } : {},
    );
    for await (const { item, deferred, earlier, handedBack } of prepared) {
      if (earlier) await report(item, earlier, true);
      else if (deferred?.kind === 'done') await report(item, deferred.record);
      else if (deferred?.kind === 'document') {
        // Its records (one, or one per page) follow its pages' batch results; pages resumed
        // from an earlier run are handed back as they were.
        later.push(
          deferred.records.then(async (records) => {
            for (const record of records) await report(item, record, handedBack(record));
          }),
        );
        yield* deferred.requests;
      } else if (deferred) {
        // Settled when the batch result is delivered; duplicates follow their original.
        later.push(deferred.record.then((record) => report(item, record)));
        if (deferred.kind === 'request') yield deferred.request;
      }
    }
  }

  const job = runBatchJob({
    backend: options.backend,
    jobKey: options.jobKey,
    requests: requests(),
    stateFile: batchStateFile(options.stateDir, options.jobKey),
    ...(options.pollIntervalMs === undefined ? {} : { pollIntervalMs: options.pollIntervalMs }),
    ...(options.signal ? { signal: options.signal } : {}),
    onStatus: (event) => options.onStatus?.(describe(event)),
  });
  for await (const answer of job) {
    const pipeline = owners.get(answer.customId);
    // A result for a request of an earlier run whose input is already recorded: nothing waits for it.
    if (!pipeline) continue;
    await pipeline.deliver(answer.customId, {
      ...(answer.result ? { result: answer.result } : {}),
      ...(answer.error ? { error: answer.error } : {}),
    });
  }
  await Promise.all(later);
}

function describe(event: BatchJobEvent): string {
  switch (event.type) {
    case 'submitted':
      return `batch ${event.batchId} submitted (${event.requests} requests)`;
    case 'resumed':
      return `resuming ${event.batchIds.join(', ')} (${event.requests} requests already submitted: not sent again)`;
    case 'status':
      return `batch ${event.batchId}: ${event.state}${event.counts ? ` (${event.counts.completed}/${event.counts.total})` : ''}`;
    case 'retrying':
      return `batch ${event.batchId}: ${event.error.message}; trying again`;
    case 'fetched':
      return `batch ${event.batchId}: ${event.results} results, ${event.errors} errors`;
  }
}
