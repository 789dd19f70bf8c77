/**
 * `estimate` on a document (PDF, multi-page TIFF, HEIC): pages are counted and measured
 * from the document's structure (a PDF page's box, a TIFF page's header), never rendered,
 * and each selected page is priced as its own request by the provider's formula. Blank
 * pages are only found by rendering, so they are priced too: the figure is an upper bound.
 */
import { openDocument } from '../documents/document.js';
import { documentKind } from '../documents/kinds.js';
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
  /** One plan per selected page, page order. */
  plans: ImagePlan[];
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
 * TIFF with one page). Throws the document's typed errors naming `label`
 * (DOCUMENT_ENCRYPTED, DOCUMENT_DAMAGED, TOO_MANY_PAGES, PAGE_OUT_OF_RANGE).
 */
export async function documentPlan(
  bytes: Buffer,
  label: string,
  pipeline: Pick<Pipeline, 'plan'>,
  selection: PageSelection | undefined,
): Promise<DocumentPlan | undefined> {
  const kind = documentKind(bytes);
  if (kind === undefined) return undefined;
  const doc = await openDocument(
    bytes,
    label,
    {
      // Nothing is rendered here: the limits only matter to render().
      limits: { maxLongEdge: Number.MAX_SAFE_INTEGER },
      ...(selection?.pageRange ? { pageRange: selection.pageRange } : {}),
      ...(selection?.maxPages === undefined ? {} : { maxPages: selection.maxPages }),
    },
    kind,
  );
  try {
    if (kind === 'tiff' && doc.pageCount === 1) return undefined;
    const plans: ImagePlan[] = [];
    let first = { width: 0, height: 0 };
    for (const page of doc.pages) {
      const size = await doc.pageSize(page);
      if (plans.length === 0) first = size;
      plans.push(pipeline.plan(size.width, size.height));
    }
    return { pageCount: doc.pageCount, plans, first };
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
  const naive = document.plans.reduce((sum, plan) => add(sum, plan.naive), NONE);
  const price = (tokens: TokenEstimate) =>
    costUsd(pipeline.provider.id, pipeline.model, { ...tokens, estimated: true }, prices);
  const cost = price(sent);
  const pagesPriced = document.plans.length;
  const first = document.plans[0];
  const sending = !duplicate && first !== undefined;
  return {
    image: {
      input,
      status: duplicate ? 'duplicate' : 'send',
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
      pages_priced: pagesPriced,
      cost_per_page_usd:
        cost === null || pagesPriced === 0 ? null : Math.round((cost / pagesPriced) * 1e6) / 1e6,
    },
    naiveCost: price(naive),
    naive,
  };
}
