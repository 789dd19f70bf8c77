/**
 * `estimate` on a document (PDF, multi-page TIFF, HEIC): the selected pages (--page-range,
 * --max-pages) are rendered exactly as `run` renders them (the pipeline's pageRendering),
 * so the same blank pages are set aside before any price is put on them, and a page whose
 * rendered content the result cache already holds (a page's cache key is its rendered
 * content's) is not priced either. Each page left is priced as its own request by the
 * provider's formula, at its rendered size: what `run --pages each` pays. The naive plan
 * is every selected page at its own size (a PDF page at 300 DPI), blank or not.
 */
import { openDocument } from '../documents/document.js';
import { documentKind } from '../documents/kinds.js';
import { sha256 } from '../image/fingerprint.js';
import type { Pipeline } from '../pipeline/create-pipeline.js';
import type { ImagePlan } from '../pipeline/spec.js';
import { costUsd, type PriceTable } from '../providers/pricing.js';
import type { TokenEstimate } from '../providers/spec.js';
import type { EstimatedImage } from './estimate.js';
import type { PageSelection } from './optimize-pages.js';

/** A document's pages as the pipeline would send them. */
export interface DocumentPlan {
  /** Pages the document has. */
  pageCount: number;
  /** One plan per page that would be sent (selected, not blank, not cached), page order. */
  plans: ImagePlan[];
  /** One plan per selected page at its own size, blank and cached ones included: the naive plan. */
  naive: ImagePlan[];
  /** Selected pages found blank (never sent, never priced). */
  blank: number[];
  /** Selected pages whose answer the result cache holds (not priced). */
  cached: number[];
  /** Page 1's own size (at 300 DPI for a PDF). */
  first: { width: number; height: number };
}

function add(a: TokenEstimate, b: TokenEstimate): TokenEstimate {
  return {
    input_tokens: a.input_tokens + b.input_tokens,
    output_tokens: a.output_tokens + b.output_tokens,
    image_tokens: a.image_tokens + b.image_tokens,
  };
}

const NONE: TokenEstimate = { input_tokens: 0, output_tokens: 0, image_tokens: 0 };

/**
 * The plan of every selected page, or undefined when `bytes` is not a document (or is a
 * TIFF with one page). Pages are rendered one at a time, as `run` renders them. Throws
 * the document's typed errors naming `label` (DOCUMENT_ENCRYPTED, DOCUMENT_DAMAGED,
 * TOO_MANY_PAGES, PAGE_OUT_OF_RANGE).
 */
export async function documentPlan(
  bytes: Buffer,
  label: string,
  pipeline: Pick<Pipeline, 'plan' | 'pageRendering' | 'cache' | 'cacheKey'>,
  selection: PageSelection | undefined,
): Promise<DocumentPlan | undefined> {
  const kind = documentKind(bytes);
  if (kind === undefined) return undefined;
  const doc = await openDocument(
    bytes,
    label,
    {
      ...pipeline.pageRendering,
      ...(selection?.pageRange ? { pageRange: selection.pageRange } : {}),
      ...(selection?.maxPages === undefined ? {} : { maxPages: selection.maxPages }),
    },
    kind,
  );
  try {
    if (kind === 'tiff' && doc.pageCount === 1) return undefined;
    const plan: DocumentPlan = {
      pageCount: doc.pageCount,
      plans: [],
      naive: [],
      blank: [],
      cached: [],
      first: { width: 0, height: 0 },
    };
    for (const page of doc.pages) {
      const size = await doc.pageSize(page);
      if (plan.naive.length === 0) plan.first = size;
      plan.naive.push(pipeline.plan(size.width, size.height));
      const rendered = await doc.render(page);
      if (rendered.blank) {
        plan.blank.push(page);
        continue;
      }
      const key = pipeline.cacheKey(sha256(rendered.data));
      if (await pipeline.cache.results.get(key).catch(() => undefined)) {
        plan.cached.push(page);
        continue;
      }
      plan.plans.push(pipeline.plan(rendered.width, rendered.height));
    }
    return plan;
  } finally {
    doc.close();
  }
}

/** Prices a document's pages, one request each; `duplicate` when the same file came earlier. */
export function priceDocument(
  input: string,
  document: DocumentPlan,
  context: {
    pipeline: Pick<Pipeline, 'provider' | 'model'>;
    prices: { table?: PriceTable };
    duplicate: boolean;
  },
): { image: EstimatedImage; naiveCost: number | null; naive: TokenEstimate } {
  const { pipeline, prices, duplicate } = context;
  const sent = document.plans.reduce((sum, plan) => add(sum, plan.tokens), NONE);
  const naive = document.naive.reduce((sum, plan) => add(sum, plan.naive), NONE);
  const price = (tokens: TokenEstimate) =>
    costUsd(pipeline.provider.id, pipeline.model, { ...tokens, estimated: true }, prices);
  const cost = price(sent);
  const pagesPriced = document.plans.length;
  const first = document.plans[0];
  const sending = !duplicate && first !== undefined;
  // Nothing left to price: every selected page is blank or already cached.
  const status = duplicate
    ? 'duplicate'
    : first === undefined && document.cached.length > 0
      ? 'cached'
      : 'send';
  return {
    image: {
      input,
      status,
      width: sending ? first.width : null,
      height: sending ? first.height : null,
      image_tokens: sending ? sent.image_tokens : 0,
      input_tokens: sending ? sent.input_tokens : 0,
      output_tokens: sending ? sent.output_tokens : 0,
      tokens: sending ? sent.input_tokens + sent.output_tokens : 0,
      cost_usd: sending ? cost : 0,
      original: {
        ...document.first,
        image_tokens: naive.image_tokens,
        tokens: naive.input_tokens + naive.output_tokens,
      },
      error: null,
      pages: document.pageCount,
      pages_priced: sending ? pagesPriced : 0,
      blank_pages: document.blank,
      cached_pages: document.cached,
      cost_per_page_usd:
        cost === null || pagesPriced === 0 ? null : Math.round((cost / pagesPriced) * 1e6) / 1e6,
    },
    naiveCost: price(naive),
    naive,
  };
}
