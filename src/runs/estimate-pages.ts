/**
 * `estimate` on a document (PDF, multi-page TIFF, HEIC): the selected pages (--page-range,
 * --max-pages) are rendered exactly as `run` renders them (the pipeline's pageRendering),
 * so the same blank pages are set aside before any price is put on them, and a page whose
 * rendered content the result cache already holds (a page's cache key is its rendered
 * content's, or the pages' together in `document` mode) is not priced either. The pages
 * left are priced by the provider's formula at their rendered size, grouped as run sends
 * them: one request with every page in `--pages document` (within the provider's limits:
 * the prompt and the answer once), one request each otherwise. The naive plan is every
 * selected page at its own size (a PDF page at 300 DPI), blank or not, one request each.
 */
import { openDocument } from '../documents/document.js';
import { documentKind } from '../documents/kinds.js';
import type { PagesMode } from '../documents/pages-mode.js';
import { sha256 } from '../image/fingerprint.js';
import type { Pipeline } from '../pipeline/create-pipeline.js';
import { pagesTogetherKey } from '../pipeline/page-records.js';
import { fitsOneRequest } from '../pipeline/page-requests.js';
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
  /** The pages go to the provider together, in one request (`--pages document` within its limits). */
  together: boolean;
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

/** Pages in one request: every page's image tokens, the prompt and the answer once. */
function oneRequest(plans: readonly ImagePlan[]): TokenEstimate {
  const first = plans[0];
  if (!first) return NONE;
  const images = plans.reduce((sum, plan) => sum + plan.tokens.image_tokens, 0);
  return {
    image_tokens: images,
    input_tokens: first.tokens.input_tokens - first.tokens.image_tokens + images,
    output_tokens: first.tokens.output_tokens,
  };
}

/** A selected page, rendered: what run would do with it. */
interface RenderedPage {
  page: number;
  blank: boolean;
  sha256: string;
  bytes: number;
  plan: ImagePlan;
}

/**
 * The plan of every selected page, or undefined when `bytes` is not a document (or is a
 * TIFF with one page). Pages are rendered one at a time, as `run` renders them, and
 * grouped as run sends them in `mode`: `each` (or `document` past the provider's
 * per-request limits) one request per page, each page's answer cached under its own
 * content; `document` within the limits, one request with every page that is not blank,
 * cached under the pages' contents together. Throws the document's typed errors naming
 * `label` (DOCUMENT_ENCRYPTED, DOCUMENT_DAMAGED, TOO_MANY_PAGES, PAGE_OUT_OF_RANGE).
 */
export async function documentPlan(
  bytes: Buffer,
  label: string,
  pipeline: Pick<Pipeline, 'plan' | 'pageRendering' | 'cache' | 'cacheKey' | 'provider'>,
  selection: PageSelection | undefined,
  mode: PagesMode = 'each',
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
  const plan: DocumentPlan = {
    pageCount: doc.pageCount,
    plans: [],
    naive: [],
    blank: [],
    cached: [],
    together: false,
    first: { width: 0, height: 0 },
  };
  const pages: RenderedPage[] = [];
  try {
    if (kind === 'tiff' && doc.pageCount === 1) return undefined;
    for (const page of doc.pages) {
      const size = await doc.pageSize(page);
      if (plan.naive.length === 0) plan.first = size;
      plan.naive.push(pipeline.plan(size.width, size.height));
      const rendered = await doc.render(page);
      pages.push({
        page,
        blank: rendered.blank,
        sha256: sha256(rendered.data),
        bytes: rendered.data.length,
        plan: pipeline.plan(rendered.width, rendered.height),
      });
    }
  } finally {
    doc.close();
  }
  const read = pages.filter((p) => !p.blank);
  plan.blank = pages.filter((p) => p.blank).map((p) => p.page);
  const cached = async (sha: string) =>
    (await pipeline.cache.results.get(pipeline.cacheKey(sha)).catch(() => undefined)) !== undefined;
  const bytesInAll = read.reduce((sum, p) => sum + p.bytes, 0);
  if (
    mode === 'document' &&
    read.length > 1 &&
    fitsOneRequest(read.length, bytesInAll, pipeline.provider.limits)
  ) {
    plan.together = true;
    if (await cached(pagesTogetherKey(read.map((p) => p.sha256)))) plan.cached = read.map((p) => p.page);
    else plan.plans = read.map((p) => p.plan);
    return plan;
  }
  for (const p of read) {
    if (await cached(p.sha256)) plan.cached.push(p.page);
    else plan.plans.push(p.plan);
  }
  return plan;
}

/** Prices a document's pages, one request each; `duplicate` when the same file came earlier. */
export function priceDocument(
  input: string,
  document: DocumentPlan,
  context: {
    pipeline: Pick<Pipeline, 'provider' | 'model'>;
    prices: { table?: PriceTable };
    /** Priced as a batch job (`--batch-api`): the provider's batch discount on what is sent, not on the naive plan. */
    batch?: boolean;
    duplicate: boolean;
  },
): { image: EstimatedImage; naiveCost: number | null; naive: TokenEstimate } {
  const { pipeline, prices, duplicate } = context;
  const sent = document.together
    ? oneRequest(document.plans)
    : document.plans.reduce((sum, plan) => add(sum, plan.tokens), NONE);
  const naive = document.naive.reduce((sum, plan) => add(sum, plan.naive), NONE);
  const price = (tokens: TokenEstimate, batch = false) =>
    costUsd(pipeline.provider.id, pipeline.model, { ...tokens, estimated: true }, { ...prices, batch });
  const cost = price(sent, context.batch === true);
  const pagesPriced = document.plans.length;
  const first = document.plans[0];
  const sending = !duplicate && first !== undefined;
  // Nothing left to price: every selected page is blank or already cached. Every page
  // blank is `skip`, as run writes a `skipped` record and calls nothing for it.
  const status = duplicate
    ? 'duplicate'
    : first !== undefined
      ? 'send'
      : document.cached.length > 0
        ? 'cached'
        : 'skip';
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
