/**
 * Provider batch APIs (half price, answers within 24 h): an image goes as far as the
 * provider call with defer(), which returns the request to put in a batch (or the finished
 * record when no call is needed: cache hit, duplicate, triage skip, bad input); deliver()
 * hands the batch's answer to that request and settles its record. Custom ids derive from
 * the content key, so a resumed run finds the same requests in the same batch.
 */
import { createHash } from 'node:crypto';
import type { CacheSetup } from '../cache/open-cache.js';
import type { SingleFlight } from '../cache/single-flight.js';
import { toVisionpipeError, VisionpipeError } from '../errors.js';
import { schemaMismatch, validateOutput } from '../patterns/index.js';
import type { Pattern } from '../patterns/types.js';
import type { BatchRequest } from '../providers/batch/spec.js';
import { billedOf } from '../providers/billed.js';
import type { PriceTable } from '../providers/pricing.js';
import type { ExtractResult, Provider, Usage } from '../providers/spec.js';
import type { InputItem } from '../runs/inputs.js';
import type { ResultCacheStage } from './cache-stage.js';
import { callCost } from './call-pricing.js';
import type { CascadeConfig, ModelChoice, TriageVerdict } from './cascade-config.js';
import type { EarlierPages, StartedDocument, StartedRead } from './document-stage.js';
import type { IdentifyStage } from './identify-stage.js';
import { sourceOfItem } from './input-source.js';
import type { NearDuplicateStage } from './near-duplicate-stage.js';
import { cachedResult, fieldPaths, type Outcome } from './outcome.js';
import { addCost } from './paid-calls.js';
import { imageInfo, preparedPages, sizedFor } from './prepared-images.js';
import { preparedWithinLimits } from './provider-limits.js';
import { EMPTY_USAGE, NO_CASCADE, type RunRecord } from './record.js';
import type { RecordAssembler } from './record-assembly.js';
import type { Deferred, EarlierRecord } from './spec.js';
import { addUsage, type LoadedInput, providerImage } from './stages.js';
import { runTriage } from './triage.js';

export interface BatchStageOptions {
  pattern: Pattern;
  provider: Provider;
  model: string;
  primary: ModelChoice;
  cache: CacheSetup;
  results: ResultCacheStage;
  records: RecordAssembler;
  identify: IdentifyStage;
  flights: SingleFlight<Outcome>;
  near: NearDuplicateStage | undefined;
  cascadeConfig: (signal: AbortSignal | undefined) => CascadeConfig;
  priceTable: PriceTable | undefined;
  runId: string;
  /** The result-cache key of a content hash (a page's) under this pipeline. */
  keyFor: (sha256: string) => string;
  /**
   * A document's pages rendered and each handed to `start` (document-stage, in the run's
   * pages mode); undefined when the bytes are an image.
   */
  startDocument: (
    loaded: LoadedInput,
    label: string,
    start: (page: LoadedInput, pageLabel: string) => Promise<StartedRead>,
    earlierPages: EarlierPages | undefined,
  ) => Promise<StartedDocument | undefined>;
}

/** A request waiting for its batch result. */
interface Waiting {
  resolve: (outcome: Outcome) => void;
  loaded: LoadedInput;
  key: string;
  image: NonNullable<RunRecord['image']>;
  profile: string;
  triage: TriageVerdict | null;
  usage: Usage;
  cost: number | null;
  attempts: number;
}

/** A batch custom id (`^[a-zA-Z0-9_-]{1,64}$`) that is the same in every run for the same content and settings. */
const customIdOf = (key: string) => `vp-${createHash('sha256').update(key).digest('hex').slice(0, 48)}`;

/** The cascade info of a result made without escalation or repair: batch answers. */
const triageOnly = (verdict: TriageVerdict | null) => ({ ...NO_CASCADE, triage: verdict });

export class BatchStage {
  /** Requests waiting for their batch result, by custom id. */
  private readonly waiting = new Map<string, Waiting>();

  constructor(private readonly options: BatchStageOptions) {}

  /** Everything up to the provider call: the request to batch, or the record when none is needed. */
  async defer(item: InputItem, signal?: AbortSignal, earlier?: EarlierRecord): Promise<Deferred> {
    const { identify, records, keyFor, startDocument } = this.options;
    const started = performance.now();
    if (item.kind === 'error') return { kind: 'done', record: records.itemError(item) };
    const source = sourceOfItem(item);
    try {
      const known = await identify.identify(source, item.label, started, signal, earlier);
      if ('record' in known) return { kind: 'done', record: known.record };
      const { loaded, key } = known;
      // A document: its pages rendered and queued as the direct flow reads them (document-stage).
      const requests: BatchRequest[] = [];
      const document = await startDocument(
        loaded,
        item.label,
        async (page, pageLabel) => {
          const queued = await this.queue(
            page,
            keyFor(page.sha256),
            pageLabel,
            performance.now(),
            signal,
            true,
          );
          if (queued.request) requests.push(queued.request);
          return { record: queued.record };
        },
        known.earlierPages,
      );
      if (document) return { kind: 'document', requests, records: document.records };
      const queued = await this.queue(loaded, key, item.label, started, signal, false);
      if (queued.request) return { kind: 'request', request: queued.request, record: queued.record };
      return queued.known
        ? { kind: 'done', record: await queued.record }
        : { kind: 'waiting', record: queued.record };
    } catch (error) {
      return { kind: 'done', record: records.inputError(error, item.label, started) };
    }
  }

  /**
   * One loaded image (an image, a page, or a document's first page carrying the others) up
   * to the provider call. Resolves once that is known: with the request to put in a batch
   * (this call leads the image's single flight), or with none (`known`: the outcome needs no
   * call; else it follows another request in flight, a duplicate or a near-duplicate).
   * `lookup`: check the result cache first (pages; an input's own key was checked when it
   * was identified).
   */
  private async queue(
    loaded: LoadedInput,
    key: string,
    label: string,
    started: number,
    signal: AbortSignal | undefined,
    lookup: boolean,
  ): Promise<{ request?: BatchRequest; record: Promise<RunRecord>; known: boolean }> {
    const { flights, near: nearStage, cascadeConfig, results, records, runId } = this.options;
    const { primary, provider, model, pattern, cache } = this.options;
    if (lookup) {
      const hit = await results.lookup(key);
      if (hit) {
        const record = records.hit(label, started, hit, hit.run_id === runId ? 'dedup' : 'hit');
        return { record: Promise.resolve(record), known: true };
      }
    }
    // What the runner waits for: a request to submit, nothing (the outcome is known), or
    // 'follow' (a near-duplicate whose original is itself waiting for its batch result).
    let announce: (request: BatchRequest | undefined | 'follow') => void = () => {};
    const announced = new Promise<BatchRequest | undefined | 'follow'>((resolve) => {
      announce = resolve;
    });
    const { promise, leader } = flights.run(key, async (): Promise<Outcome> => {
      const config = cascadeConfig(signal);
      let usage: Usage = { ...EMPTY_USAGE };
      let cost: number | null = 0;
      let attempts = 0;
      let verdict: TriageVerdict | null = null;
      try {
        const near = await nearStage?.match(loaded, key);
        if (near?.cached) {
          announce(undefined);
          return { kind: 'near-dup', result: near.cached, distance: near.distance };
        }
        if (near?.pending) {
          // It cannot wait to see whether its original fails and then join a batch already
          // sent: it follows the original, failure included (errors are not cached, so the
          // next run of the command tries both again).
          announce('follow');
          const original = await near.pending;
          if (original.kind === 'failed') return { ...original, attempts: 0, paid: undefined };
          return { kind: 'near-dup', result: original.result, distance: near.distance };
        }
        if (config.triage) {
          const judged = await runTriage(loaded, config, config.triage);
          verdict = judged.verdict;
          usage = judged.usage;
          cost = judged.cost;
          attempts = judged.attempts;
          if (!verdict.relevant) {
            announce(undefined);
            const result = cachedResult(
              loaded,
              runId,
              {
                output: null,
                model,
                usage,
                cost_usd: cost,
                image: null,
                profile: config.triage.profileName,
                confidence: verdict.confidence,
              },
              triageOnly(verdict),
            );
            await results.save(key, result);
            return { kind: 'fresh', result, attempts, skipped: true, reason: verdict.reason };
          }
        }
        const { prepared, options } = await preparedWithinLimits(
          loaded,
          await sizedFor(loaded, primary, config.maxImageTokens),
          provider.limits,
          provider.id,
          cache.images,
          cache.ttlMs,
        );
        // A document's further pages go in the same request, prepared like the first.
        const { pages, image } = await preparedPages(
          loaded,
          imageInfo(prepared, primary),
          primary,
          config.maxImageTokens,
          cache,
        );
        const customId = customIdOf(key);
        const outcome = new Promise<Outcome>((resolve) => {
          this.waiting.set(customId, {
            resolve,
            loaded,
            key,
            image,
            profile: options.profileName,
            triage: verdict,
            usage,
            cost,
            attempts,
          });
        });
        announce({
          customId,
          image: providerImage(loaded, prepared),
          ...(pages.length > 0 ? { pages } : {}),
          pattern,
          model,
        });
        return await outcome;
      } catch (error) {
        announce(undefined);
        return {
          kind: 'failed',
          error: toVisionpipeError(error, loaded.label),
          image: null,
          attempts,
          paid: { usage, cost },
        };
      }
    });
    const record = promise.then((outcome) =>
      records.of(outcome, { label, started, sha256: loaded.sha256, leader }),
    );
    if (!leader) return { record, known: false };
    const request = await announced;
    if (request === 'follow') return { record, known: false };
    return request ? { request, record, known: false } : { record, known: true };
  }

  /** Settles the record of the request `customId` with its batch answer (or per-request error). */
  async deliver(
    customId: string,
    answer: { result?: ExtractResult; error?: VisionpipeError },
  ): Promise<void> {
    const { provider, pattern, priceTable, results, runId, model: asked } = this.options;
    const entry = this.waiting.get(customId);
    if (!entry) return;
    this.waiting.delete(customId);
    const attempts = entry.attempts + 1;
    // Priced as asked unless the answer names a dated alias of it (call-pricing.ts).
    const batchPrice = (answered: string, usage: Usage) =>
      callCost(provider.id, asked, answered, usage, {
        batch: true,
        ...(priceTable ? { table: priceTable } : {}),
      });
    if (!answer.result) {
      const error =
        answer.error ??
        new VisionpipeError('BAD_RESPONSE', `${entry.loaded.label}: the batch returned nothing for it`);
      // A batch line with an unreadable answer was billed all the same.
      const billed = billedOf(answer.error);
      entry.resolve({
        kind: 'failed',
        error,
        image: entry.image,
        attempts,
        paid: billed
          ? {
              usage: addUsage(entry.usage, billed.usage),
              cost: addCost(entry.cost, batchPrice(billed.model, billed.usage)),
            }
          : { usage: entry.usage, cost: entry.cost },
      });
      return;
    }
    const result = answer.result;
    const usage = addUsage(entry.usage, result.usage);
    const cost = addCost(entry.cost, batchPrice(result.model, result.usage));
    const issues = validateOutput(pattern, result.output);
    if (issues.length > 0) {
      const error = schemaMismatch(pattern, issues, entry.loaded.label);
      // Marked not ok, with what came back: the parsed answer and the model's text.
      entry.resolve({
        kind: 'failed',
        error,
        image: entry.image,
        attempts,
        paid: { usage, cost, output: result.output, raw: result.raw },
      });
      return;
    }
    const cached = cachedResult(
      entry.loaded,
      runId,
      {
        output: result.output,
        model: result.model,
        usage,
        cost_usd: cost,
        image: entry.image,
        profile: entry.profile,
        confidence: result.confidence ?? null,
        field_confidence: fieldPaths(result.fieldConfidence),
      },
      triageOnly(entry.triage),
    );
    await results.save(entry.key, cached);
    entry.resolve({ kind: 'fresh', result: cached, attempts, skipped: false, reason: null });
  }
}
