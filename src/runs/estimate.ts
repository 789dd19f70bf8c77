/**
 * `estimate`: a dry run that calls no provider. Each input is read and fingerprinted,
 * checked against the duplicates seen so far and the result cache, measured from its
 * header (no decode), and priced by the provider's own formula at the size it would be
 * sent — side by side with the naive plan: every image at full resolution, no
 * deduplication, no cache, no triage. Streams; holds one hash per distinct image.
 */

import { selectPages } from '../documents/page-range.js';
import type { PagesMode } from '../documents/pages-mode.js';
import { toVisionpipeError } from '../errors.js';
import { sha256 } from '../image/fingerprint.js';
import { describeImage } from '../image/preprocess.js';
import { loadSource, type SourceLimits } from '../image/source.js';
import type { Pattern } from '../patterns/types.js';
import type { Pipeline } from '../pipeline/create-pipeline.js';
import { sourceOfItem } from '../pipeline/input-source.js';
import { costUsd, type PriceTable } from '../providers/pricing.js';
import type { TokenEstimate } from '../providers/spec.js';
import type { EstimateVerdict } from './estimate-cascade.js';
import { documentPlan, priceDocument } from './estimate-pages.js';
import type { InputItem } from './inputs.js';
import type { PageSelection } from './optimize-pages.js';

/**
 * `send`: would be sent; `duplicate`: the same content came earlier; `cached`: the result
 * cache holds its answer; `skip`: a document whose every selected page is blank (run writes
 * a `skipped` record and calls nothing); `triaged`: local triage (--triage local) found it
 * not relevant, so run would skip it; `error`: unreadable, with its typed error.
 */
export type EstimateStatus = 'send' | 'duplicate' | 'cached' | 'skip' | 'triaged' | 'error';

export interface EstimatedImage {
  input: string;
  status: EstimateStatus;
  /** Size it would be sent at (null when it would not be sent or could not be read). */
  width: number | null;
  height: number | null;
  image_tokens: number;
  input_tokens: number;
  output_tokens: number;
  /** input + output. */
  tokens: number;
  cost_usd: number | null;
  original: { width: number; height: number; image_tokens: number; tokens: number } | null;
  error: { code: string; message: string } | null;
  /**
   * Documents only (PDF, multi-page TIFF, HEIC): pages the document has and pages priced
   * (selected by --page-range and --max-pages, rendered as `run` renders them, blank and
   * cached pages left out), in one request or one each as run would send them (--pages);
   * `width`/`height` are the first priced page's.
   */
  pages?: number;
  pages_priced?: number;
  /** Documents only: selected pages found blank, never sent (as `run`'s `blank_pages`). */
  blank_pages?: number[];
  /** Documents only: selected pages whose answer the result cache already holds. */
  cached_pages?: number[];
  /** Documents only: `cost_usd` ÷ `pages_priced`. */
  cost_per_page_usd?: number | null;
  /** With --triage local: the local engine's verdict on an image it would otherwise send. */
  triage?: EstimateVerdict;
  /** With --escalate-to: what sending it again to the stronger model would add. */
  escalation?: { tokens: number; cost_usd: number | null };
}

export interface Plan {
  /** input + output. */
  tokens: number;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number | null;
}

export interface EstimateTotals {
  images: number;
  to_send: number;
  duplicates: number;
  cached: number;
  /** Documents whose every selected page is blank: nothing sent, as in run. */
  skipped: number;
  /** Images local triage (--triage local) found not relevant: run skips them, not priced. */
  triaged_out: number;
  errors: number;
  /** Documents only: pages priced across all documents to send. */
  document_pages: number;
  naive: Plan;
  optimized: Plan;
  /** naive ÷ optimized tokens (how many times fewer). */
  ratio: number | null;
}

function total(tokens: TokenEstimate): number {
  return tokens.input_tokens + tokens.output_tokens;
}

export class EstimateTotaller {
  private readonly totals: EstimateTotals = {
    images: 0,
    to_send: 0,
    duplicates: 0,
    cached: 0,
    skipped: 0,
    triaged_out: 0,
    errors: 0,
    document_pages: 0,
    naive: { tokens: 0, input_tokens: 0, output_tokens: 0, cost_usd: 0 },
    optimized: { tokens: 0, input_tokens: 0, output_tokens: 0, cost_usd: 0 },
    ratio: null,
  };

  add(image: EstimatedImage, naiveCost: number | null, naive: TokenEstimate | undefined): void {
    const t = this.totals;
    t.images++;
    if (image.status === 'send') t.to_send++;
    else if (image.status === 'duplicate') t.duplicates++;
    else if (image.status === 'cached') t.cached++;
    else if (image.status === 'skip') t.skipped++;
    else if (image.status === 'triaged') t.triaged_out++;
    else t.errors++;
    if (naive) {
      t.naive.input_tokens += naive.input_tokens;
      t.naive.output_tokens += naive.output_tokens;
    }
    if (image.original) {
      t.naive.tokens += image.original.tokens;
      t.naive.cost_usd =
        t.naive.cost_usd === null || naiveCost === null ? null : t.naive.cost_usd + naiveCost;
    }
    if (image.status === 'send') {
      t.document_pages += image.pages_priced ?? 0;
      t.optimized.tokens += image.tokens;
      t.optimized.input_tokens += image.input_tokens;
      t.optimized.output_tokens += image.output_tokens;
      t.optimized.cost_usd =
        t.optimized.cost_usd === null || image.cost_usd === null
          ? null
          : t.optimized.cost_usd + image.cost_usd;
    }
  }

  toJSON(): EstimateTotals {
    const t = this.totals;
    const round = (usd: number | null) => (usd === null ? null : Math.round(usd * 1e6) / 1e6);
    return {
      ...t,
      naive: { ...t.naive, cost_usd: round(t.naive.cost_usd) },
      optimized: { ...t.optimized, cost_usd: round(t.optimized.cost_usd) },
      ratio: t.optimized.tokens > 0 ? Math.round((t.naive.tokens / t.optimized.tokens) * 100) / 100 : null,
    };
  }
}

function usageOf(tokens: TokenEstimate) {
  return { ...tokens, estimated: true };
}

/** Estimates one input; the caller keeps `seen` (content hashes so far) across the run. */
export async function estimateItem(
  item: InputItem,
  pipeline: Pipeline,
  seen: Set<string>,
  options: {
    sourceLimits?: SourceLimits;
    priceTable?: PriceTable;
    pages?: PageSelection;
    /** How run would read documents (`--pages`): default document, as in run. */
    pagesMode?: PagesMode;
    /**
     * Priced as run --batch-api would pay: the provider's batch discount (pricing.json
     * `batchDiscount`, 0.5 for OpenAI and Anthropic) on what is sent; the naive plan stays at
     * standard prices.
     */
    batch?: boolean;
    /** --triage local: the verdict on an image it would send; not relevant → `triaged`, unpriced. */
    triage?: (bytes: Buffer, label: string, sha256: string, pattern: Pattern) => Promise<EstimateVerdict>;
  },
): Promise<{ image: EstimatedImage; naiveCost: number | null; naive: TokenEstimate | undefined }> {
  const empty = {
    width: null,
    height: null,
    image_tokens: 0,
    input_tokens: 0,
    output_tokens: 0,
    tokens: 0,
    cost_usd: 0,
    original: null,
    error: null,
  };
  const failed = (error: { code: string; message: string }) => ({
    image: { input: item.label, status: 'error' as const, ...empty, error },
    naiveCost: 0,
    naive: undefined,
  });
  if (item.kind === 'error') return failed(item.error.toJSON());
  try {
    const loaded = await loadSource(sourceOfItem(item), options.sourceLimits);
    const hash = sha256(loaded.bytes);
    const prices = options.priceTable ? { table: options.priceTable } : {};
    const document = await documentPlan(
      loaded.bytes,
      item.label,
      pipeline,
      options.pages,
      options.pagesMode ?? 'document',
    );
    if (document) {
      // The same file twice is paid once; each page's cache key is its rendered content's.
      const seenKey = `${pipeline.pattern.fingerprint}:${hash}`;
      const duplicate = seen.has(seenKey);
      seen.add(seenKey);
      return priceDocument(item.label, document, {
        pipeline,
        prices,
        duplicate,
        ...(options.batch ? { batch: true } : {}),
      });
    }
    // An image is a one-page document: a range past page 1 is PAGE_OUT_OF_RANGE, as in run.
    if (options.pages?.pageRange) selectPages(options.pages.pageRange, 1, item.label);
    const { description } = await describeImage(loaded.bytes, item.label, { limitInputPixels: 100_000_000 });
    const plan = pipeline.plan(description.width, description.height);
    const naiveCost = costUsd(pipeline.provider.id, pipeline.model, usageOf(plan.naive), prices);
    const seenKey = `${pipeline.pattern.fingerprint}:${hash}`;
    let status: EstimateStatus = 'send';
    if (seen.has(seenKey)) status = 'duplicate';
    else {
      seen.add(seenKey);
      if (await pipeline.cache.results.get(pipeline.cacheKey(hash)).catch(() => undefined)) status = 'cached';
    }
    const verdict =
      status === 'send' && options.triage
        ? await options.triage(loaded.bytes, item.label, hash, pipeline.pattern)
        : undefined;
    if (verdict && !verdict.relevant) status = 'triaged';
    const sending = status === 'send';
    const sent = sending
      ? {
          width: plan.width,
          height: plan.height,
          image_tokens: plan.tokens.image_tokens,
          input_tokens: plan.tokens.input_tokens,
          output_tokens: plan.tokens.output_tokens,
          tokens: total(plan.tokens),
          cost_usd: costUsd(pipeline.provider.id, pipeline.model, usageOf(plan.tokens), {
            ...prices,
            batch: options.batch === true,
          }),
        }
      : { ...empty, original: undefined, error: undefined };
    return {
      image: {
        input: item.label,
        status,
        ...sent,
        original: {
          width: description.width,
          height: description.height,
          image_tokens: plan.naive.image_tokens,
          tokens: total(plan.naive),
        },
        error: null,
        ...(verdict ? { triage: verdict } : {}),
      },
      naiveCost,
      naive: plan.naive,
    };
  } catch (error) {
    return failed(toVisionpipeError(error, item.label).toJSON());
  }
}
