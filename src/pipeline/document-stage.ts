/**
 * Documents in the pipeline: a PDF, multi-page TIFF or HEIC becomes page images (at the
 * size the provider keeps, see documents/), blank pages are set aside before any call,
 * and the pages are read one of two ways:
 *
 * - `document` (default): one record for the document. The pages go to the provider
 *   together, several images in one request, when they fit its per-request image count
 *   and byte limits; past them each page is read on its own and the outputs are merged
 *   (merge-pages.ts) with conflicts reported.
 * - `each`: one record per page, `input` plus `page`; triage runs per page.
 *
 * Every page read goes through the same flow as an image (content key → result cache →
 * single flight → cascade), keyed by the page's rendered content: a page already read
 * costs nothing again, in any document, in any run sharing the cache. No selected page is
 * dropped in silence: it is read, or listed in `blank_pages`, or its error is the record's.
 */
import { openDocument } from '../documents/document.js';
import type { DocumentKind } from '../documents/kinds.js';
import { type PageSpan, selectPages } from '../documents/page-range.js';
import { PAGES_MODES, type PagesMode } from '../documents/pages-mode.js';
import { toVisionpipeError, VisionpipeError } from '../errors.js';
import type { Slots } from '../flow/slots.js';
import { sha256 } from '../image/fingerprint.js';
import type { SizeLimits } from '../image/profiles.js';
import { schemaMismatch, validateOutput } from '../patterns/index.js';
import type { Pattern } from '../patterns/types.js';
import type { ProviderLimits } from '../providers/spec.js';
import { mergePageOutputs } from './merge-pages.js';
import { runPageWorkers } from './page-workers.js';
import { addCost } from './paid-calls.js';
import { addImageInfo } from './prepared-images.js';
import { PROMPT_ALLOWANCE_BYTES } from './provider-limits.js';
import { EMPTY_USAGE, errorRecord, NO_RATE_LIMITS, type RunRecord } from './record.js';
import { addUsage, type LoadedInput } from './stages.js';

export { PAGES_MODES, type PagesMode };

/** How documents are read (`--pages`, `--page-range`, `--max-pages`). */
export interface DocumentSettings {
  pages: PagesMode;
  pageRange: readonly PageSpan[] | undefined;
  maxPages: number;
}

/** What the document stage needs from the pipeline it runs in. */
export interface DocumentContext {
  pattern: Pattern;
  base: { pattern: string; provider: string; model: string };
  profile: string;
  /** Size limits pages are rendered for (the primary model's, within the API's hard limits). */
  limits: SizeLimits;
  quality: number;
  limitInputPixels: number;
  providerLimits: ProviderLimits | undefined;
  /**
   * Starts one loaded image (a page, or the first page carrying the others) through the
   * image flow. It resolves once the image is under way, with its record to come: a direct
   * call reads it before resolving (pages are read one at a time), a provider batch API
   * resolves as soon as the request is queued (the record follows the batch's answer).
   */
  start(loaded: LoadedInput, label: string): Promise<StartedRead>;
  /**
   * The run's pool of slots (`--concurrency`), when pages may be read side by side: the
   * document's own input holds one, and its pages take more while any are free.
   */
  slots?: Slots;
  /** Told of each page record of `each` mode the moment it is finished (streamed out). */
  onRecord?: (record: RunRecord) => void;
  /** Estimated tokens (input + expected output) of one request carrying pages of these sizes. */
  requestTokens?: (pages: ReadonlyArray<{ width: number; height: number }>) => number;
  /**
   * Most tokens one request may cost (the run's `--tpm`): pages together over it are read
   * page by page and merged, since such a request would never be admitted.
   */
  maxRequestTokens?: number;
}

/** An image handed to the flow: its record, settled when it was read. */
export interface StartedRead {
  record: Promise<RunRecord>;
}

/** A document whose pages were all rendered and handed to the flow: its records to come. */
export interface StartedDocument {
  records: Promise<RunRecord[]>;
}

interface Page {
  page: number;
  loaded: LoadedInput;
  width: number;
  height: number;
}

/** Whether `count` pages of `bytes` raw bytes in all fit one request of the provider. */
export function fitsOneRequest(count: number, bytes: number, limits: ProviderLimits | undefined): boolean {
  if (count > (limits?.maxImagesPerRequest ?? 1)) return false;
  if (limits?.maxRequestBytes === undefined) return true;
  // Images travel as base64 inside the request body.
  return Math.ceil(bytes / 3) * 4 + PROMPT_ALLOWANCE_BYTES <= limits.maxRequestBytes;
}

/**
 * Why a document's pages cannot go in one request, or undefined when they can: more
 * images or bytes than the provider takes in one request, or more estimated tokens than
 * the run's tokens-per-minute budget (`--tpm`: such a request could never be admitted).
 */
function splitReason(pages: readonly Page[], context: DocumentContext): string | undefined {
  const bytes = pages.reduce((sum, page) => sum + page.loaded.bytes.length, 0);
  const limits = context.providerLimits;
  if (pages.length > (limits?.maxImagesPerRequest ?? 1))
    return pages.length > 1 && (limits?.maxImagesPerRequest ?? 1) <= 1
      ? 'the provider reads one image per request'
      : `${pages.length} pages are over the provider's ${limits?.maxImagesPerRequest ?? 1} images per request`;
  if (!fitsOneRequest(pages.length, bytes, limits))
    return `${pages.length} pages (${bytes} bytes) are over the provider's ${limits?.maxRequestBytes} bytes per request`;
  const budget = context.maxRequestTokens;
  if (budget !== undefined && context.requestTokens && pages.length > 1) {
    const tokens = context.requestTokens(pages);
    if (tokens > budget)
      return `${pages.length} pages together are about ${tokens} tokens, over --tpm ${budget}`;
  }
  return undefined;
}

function pageLabel(label: string, page: number): string {
  return `${label} (page ${page})`;
}

/**
 * An error message of one page that names the input and the 1-based page: as it is when
 * it does, else prefixed `input (page N): ` (a provider's own message names neither).
 */
export function namingPage(message: string, label: string, page: number): string {
  const pageRe = new RegExp(`\\bpage ${page}\\b`);
  if (message.includes(label) && pageRe.test(message)) return message;
  return `${pageLabel(label, page)}: ${message}`;
}

/** A page's record whose error message names the input and the page (others as they are). */
function namingPageError(record: RunRecord, label: string, page: number): RunRecord {
  if (!record.error) return record;
  return { ...record, error: { ...record.error, message: namingPage(record.error.message, label, page) } };
}

function documentFields(pageCount: number, sent: number, blank: number[]) {
  return { pages: pageCount, pages_sent: sent, blank_pages: blank };
}

/**
 * The records of one document: one (document mode) or one per selected page (each mode),
 * in two steps: resolves once every selected page is rendered (and the document closed)
 * and handed to `context.start`, with the records to come. A direct read has read every
 * page by then; a provider batch API has only queued their requests.
 * Resolves to undefined for a single-page TIFF, which is read as the plain image it is.
 * Errors opening the document (encrypted, damaged, empty, too many pages) become one
 * error record naming the input.
 */
export async function startDocument(
  bytes: Buffer,
  kind: DocumentKind,
  label: string,
  settings: DocumentSettings,
  context: DocumentContext,
  earlier: EarlierPages = new Map(),
): Promise<StartedDocument | undefined> {
  const documentSha = sha256(bytes);
  // Every record names the file it came from: resume compares it with the file's content.
  // Its original is the file: `image.original_bytes` is the file's size, not the rendered
  // pages' (a page record's too; the summary counts a document's file once). The same
  // record finalized twice (streamed, then in the list) is the same object.
  const finalized = new WeakMap<RunRecord, RunRecord>();
  const finalize = (record: RunRecord): RunRecord => {
    if (earlier.get(record.page ?? 0) === record) return record;
    let done = finalized.get(record);
    if (!done) {
      done = {
        ...record,
        document_sha256: documentSha,
        image: record.image && { ...record.image, original_bytes: bytes.length },
      };
      finalized.set(record, done);
    }
    return done;
  };
  const started = await startDocumentRecords(
    bytes,
    kind,
    label,
    settings,
    context,
    earlier,
    documentSha,
    finalize,
  );
  if (!started) return undefined;
  const records = started.records.then((all) => all.map(finalize));
  return { records };
}

/**
 * `--pages each`, resumed: the earlier run's page records of this input, by page number,
 * whatever version of the file they were made for. A page whose record was made for this
 * very file (same `document_sha256`) is handed back as it was, neither rendered nor paid
 * for again. Any other page is rendered, and a record made for that page's rendered
 * content (its `sha256`), at any page number of any earlier version, is reused unpaid
 * (see reusedPage): a page added to a PDF costs that page only.
 */
export type EarlierPages = ReadonlyMap<number, RunRecord>;

/**
 * An earlier record of the same rendered page content, as this version's page `page`:
 * nothing paid (no call made, no tokens), marked as a reused answer (`cache: 'hit'`).
 */
function reusedPage(earlier: RunRecord, page: number, pageCount: number, started: number): RunRecord {
  return {
    ...earlier,
    page,
    pages: pageCount,
    cache: 'hit',
    attempts: 0,
    usage: { ...EMPTY_USAGE },
    cost_usd: 0,
    rate_limited: { ...NO_RATE_LIMITS },
    latency_ms: Math.round(performance.now() - started),
  };
}

async function startDocumentRecords(
  bytes: Buffer,
  kind: DocumentKind,
  label: string,
  settings: DocumentSettings,
  context: DocumentContext,
  earlier: EarlierPages,
  documentSha: string,
  finalize: (record: RunRecord) => RunRecord,
): Promise<StartedDocument | undefined> {
  /** The records, or the one error record when reading failed after the pages were started. */
  const settled = (records: Promise<RunRecord[]>): StartedDocument => ({
    records: records.catch((error: unknown) => [failed(error)]),
  });
  const started = performance.now();
  const failed = (error: unknown, extra: Partial<RunRecord> = {}, since = started) => {
    const json = toVisionpipeError(error, label).toJSON();
    return errorRecord(
      { input: label, ...context.base },
      extra.page === undefined ? json : { ...json, message: namingPage(json.message, label, extra.page) },
      {
        sha256: sha256(bytes),
        latency_ms: Math.round(performance.now() - since),
        profile: context.profile,
        ...extra,
      },
    );
  };
  let doc: Awaited<ReturnType<typeof openDocument>>;
  try {
    doc = await openDocument(
      bytes,
      label,
      {
        limits: context.limits,
        maxPages: settings.maxPages,
        ...(settings.pageRange ? { pageRange: settings.pageRange } : {}),
        quality: context.quality,
        limitInputPixels: context.limitInputPixels,
      },
      kind,
    );
  } catch (error) {
    return settled(Promise.resolve([failed(error)]));
  }
  try {
    if (kind === 'tiff' && doc.pageCount === 1) return undefined;
    const pageCount = doc.pageCount;
    if (settings.pages === 'each') {
      const records: RunRecord[] = [];
      const done = (record: RunRecord) => {
        records.push(record);
        context.onRecord?.(finalize(record));
      };
      // Earlier page records by the rendered content they were made for (sha256).
      const byContent = new Map<string, RunRecord>();
      for (const record of earlier.values()) if (record.sha256) byContent.set(record.sha256, record);
      const selected = [...doc.pages];
      /** The next page that needs a read, rendered; kept, blank and reused pages are done on the way. */
      const produce = async (): Promise<{ page: number; loaded: LoadedInput } | undefined> => {
        for (let page = selected.shift(); page !== undefined; page = selected.shift()) {
          const pageStarted = performance.now();
          const kept = earlier.get(page);
          if (kept && kept.document_sha256 === documentSha) {
            done(kept);
            continue;
          }
          let rendered: Awaited<ReturnType<typeof doc.render>>;
          try {
            rendered = await doc.render(page);
          } catch (error) {
            // One page that cannot be rendered is that page's error; the others are read.
            done(failed(error, { page, pages: pageCount, pages_sent: 0 }, pageStarted));
            continue;
          }
          const loaded = pageInput(label, rendered.page, rendered.data);
          if (rendered.blank) {
            done(blankRecord(label, context, loaded, rendered.page, pageCount, rendered.ink));
            continue;
          }
          const same = byContent.get(loaded.sha256);
          if (same) {
            done(reusedPage(same, rendered.page, pageCount, pageStarted));
            continue;
          }
          return { page: rendered.page, loaded };
        }
        return undefined;
      };
      const waiting: Array<Promise<void>> = [];
      await runPageWorkers(
        produce,
        async ({ page, loaded }) => {
          const pageStarted = performance.now();
          const facts = { page, pages: pageCount, pages_sent: 1 };
          let read: StartedRead;
          try {
            read = await context.start(loaded, pageLabel(label, page));
          } catch (error) {
            return done(failed(error, facts, pageStarted));
          }
          // A direct read is finished here; a provider batch API's record comes later.
          waiting.push(
            read.record.then(
              (record) => done(namingPageError({ ...record, input: label, ...facts }, label, page)),
              (error: unknown) => done(failed(error, facts, pageStarted)),
            ),
          );
        },
        context.slots,
      );
      return settled(Promise.all(waiting).then(() => records.sort((a, b) => (a.page ?? 0) - (b.page ?? 0))));
    }
    const pages: Page[] = [];
    const blank: number[] = [];
    for await (const rendered of doc) {
      if (rendered.blank) blank.push(rendered.page);
      else
        pages.push({
          page: rendered.page,
          loaded: pageInput(label, rendered.page, rendered.data),
          width: rendered.width,
          height: rendered.height,
        });
    }
    const fields = documentFields(pageCount, pages.length, blank);
    if (pages.length === 0) {
      return settled(
        Promise.resolve([
          skippedRecord(label, context, {
            sha256: sha256(bytes),
            reason: `every selected page is blank (${blank.length})`,
            latency_ms: Math.round(performance.now() - started),
            ...fields,
          }),
        ]),
      );
    }
    const split = splitReason(pages, context);
    if (split === undefined) {
      const [first, ...rest] = pages as [Page, ...Page[]];
      const together: LoadedInput =
        rest.length === 0
          ? first.loaded
          : {
              ...first.loaded,
              label,
              sha256: documentKey(pages),
              pages: rest.map((p) => p.loaded),
            };
      const read = await context.start(together, label);
      return settled(read.record.then((record) => [{ ...record, input: label, ...fields }]));
    }
    const merged = await mergedRecord(label, pages, { ...fields, pages_split: split }, context, started);
    return settled(merged.record.then((record) => [record]));
  } catch (error) {
    return settled(Promise.resolve([failed(error)]));
  } finally {
    // Every page is rendered by now (the records may still be on their way): the document is done with.
    doc.close();
  }
}

/** The content key of pages read together: their rendered contents, in order. */
function documentKey(pages: readonly Page[]): string {
  return pagesTogetherKey(pages.map((p) => p.loaded.sha256));
}

/** The content key of pages (their rendered contents' sha256, in order) read together in one request. */
export function pagesTogetherKey(pageShas: readonly string[]): string {
  return sha256(Buffer.from(`document:${pageShas.join(',')}`));
}

/** A record with nothing read and nothing wrong: blank or irrelevant pages. */
function skippedRecord(label: string, context: DocumentContext, fields: Partial<RunRecord>): RunRecord {
  return {
    ...errorRecord({ input: label, ...context.base }, { code: 'INTERNAL', message: '' }),
    profile: context.profile,
    ...fields,
    status: 'skipped',
    error: null,
  };
}

function pageInput(label: string, page: number, data: Buffer): LoadedInput {
  return { label: pageLabel(label, page), bytes: data, sha256: sha256(data), forwardUrl: undefined };
}

function blankRecord(
  label: string,
  context: DocumentContext,
  loaded: LoadedInput,
  page: number,
  pageCount: number,
  ink: number,
): RunRecord {
  return skippedRecord(label, context, {
    sha256: loaded.sha256,
    reason: `blank page (ink on ${(ink * 100).toFixed(3)} % of it)`,
    page,
    pages: pageCount,
    pages_sent: 0,
  });
}

/**
 * Pages read one by one, then merged: one record, or the first page's error naming the
 * page. Resolves once every page is started, with the merged record to come.
 */
async function mergedRecord(
  label: string,
  pages: readonly Page[],
  fields: ReturnType<typeof documentFields> & { pages_split?: string },
  context: DocumentContext,
  started: number,
): Promise<StartedRead> {
  const reads: Array<Promise<{ page: number; record: RunRecord }>> = [];
  // Side by side within the run's slots, as `each` mode reads pages.
  const queue = [...pages];
  await runPageWorkers(
    async () => queue.shift(),
    async ({ page, loaded }) => {
      const read = await context.start(loaded, loaded.label);
      reads.push(read.record.then((record) => ({ page, record })));
    },
    context.slots,
  );
  return {
    // Pages finish in any order; they merge in page order (scalars from the first page).
    record: Promise.all(reads).then((records) =>
      mergeRecords(
        label,
        records.sort((a, b) => a.page - b.page),
        pages,
        fields,
        context,
        started,
      ),
    ),
  };
}

function mergeRecords(
  label: string,
  records: ReadonlyArray<{ page: number; record: RunRecord }>,
  pages: readonly Page[],
  fields: ReturnType<typeof documentFields> & { pages_split?: string },
  context: DocumentContext,
  started: number,
): RunRecord {
  let usage = { ...EMPTY_USAGE };
  let cost: number | null = 0;
  let attempts = 0;
  for (const { record } of records) {
    usage = addUsage(usage, record.usage);
    cost = addCost(cost, record.cost_usd);
    attempts += record.attempts;
  }
  const first = records[0]!.record;
  // The image as sent: the pages this run's calls sent (bytes and tokens summed, as for pages
  // sent together); every page's when all came from the cache. Not only the first page's.
  const sentPages = records.filter(({ record }) => record.attempts > 0 && record.image);
  const image = (sentPages.length > 0 ? sentPages : records)
    .map(({ record }) => record.image)
    .reduce<RunRecord['image']>((sum, one) => (sum && one ? addImageInfo(sum, one) : (sum ?? one)), null);
  const common: Partial<RunRecord> = {
    sha256: documentKey(pages),
    latency_ms: Math.round(performance.now() - started),
    attempts,
    usage,
    cost_usd: cost,
    profile: first.profile,
    cache: records.every(({ record }) => record.cache === 'hit' || record.cache === 'dedup') ? 'hit' : 'miss',
    image,
    ...fields,
  };
  const broken = records.find(({ record }) => record.status === 'error');
  if (broken) {
    const error = broken.record.error ?? { code: 'INTERNAL', message: 'page failed without an error' };
    // The document's record names the input and the page that failed.
    return errorRecord(
      { input: label, ...context.base },
      { code: error.code, message: namingPage(error.message, label, broken.page) },
      { ...common, failed_page: broken.page },
    );
  }
  const read = records.filter(({ record }) => record.status === 'ok');
  if (read.length === 0) {
    return skippedRecord(label, context, {
      ...common,
      reason: `no page is relevant: ${firstReasons(records)}`,
    });
  }
  const merged = mergePageOutputs(
    context.pattern.schema,
    read.map(({ page, record }) => ({ page, output: record.output })),
  );
  const issues = validateOutput(context.pattern, merged.output);
  if (issues.length > 0) {
    const error = schemaMismatch(context.pattern, issues, label);
    // Not ok, but what the pages answered, merged, is kept to show what came back.
    return errorRecord({ input: label, ...context.base }, error.toJSON(), {
      ...common,
      output: merged.output,
    });
  }
  const confidences = read.map(({ record }) => record.confidence).filter((c): c is number => c !== null);
  return {
    ...first,
    ...common,
    input: label,
    status: 'ok',
    output: merged.output,
    error: null,
    model: first.model,
    confidence: confidences.length > 0 ? Math.min(...confidences) : null,
    ...mergedFieldConfidence(read.map(({ record }) => record.field_confidence)),
    reason: null,
    duplicate_of: null,
    conflicts: merged.conflicts,
  };
}

/**
 * The per-field confidence of a document read page by page: for each field, the best
 * page's (the merge keeps a field's value from a page that found it); nothing when no
 * page carried one.
 */
function mergedFieldConfidence(pages: ReadonlyArray<Record<string, number> | undefined>): {
  field_confidence?: Record<string, number>;
} {
  const out: Record<string, number> = {};
  let any = false;
  for (const page of pages) {
    if (!page) continue;
    any = true;
    for (const [field, value] of Object.entries(page)) out[field] = Math.max(out[field] ?? 0, value);
  }
  return any ? { field_confidence: out } : {};
}

/** INVALID_OPTION naming `pages` for anything but document or each. */
export function parsePagesMode(value: string): PagesMode {
  if ((PAGES_MODES as readonly string[]).includes(value)) return value as PagesMode;
  throw new VisionpipeError('INVALID_OPTION', `--pages must be document or each (got "${value}")`, {
    option: 'pages',
  });
}

/** How many pages' reasons a skipped document's `reason` names; the rest are counted. */
export const NAMED_PAGE_REASONS = 3;

/** `page 1: …; page 2: …; page 3: … (and 47 more pages)`: a long document's reason stays readable. */
export function firstReasons(
  records: ReadonlyArray<{ page: number; record: { reason: string | null } }>,
): string {
  const named = records
    .slice(0, NAMED_PAGE_REASONS)
    .map(({ page, record }) => `page ${page}: ${record.reason}`)
    .join('; ');
  const rest = records.length - NAMED_PAGE_REASONS;
  return rest > 0 ? `${named} (and ${rest} more ${rest === 1 ? 'page' : 'pages'})` : named;
}

/**
 * `--page-range` on a single-page input (a JPEG, PNG, WebP, single-page TIFF…): the image
 * is a one-page document. A range that selects only page 1 (`1`, `1-`, `1-1`) reads it
 * (undefined: the image flow goes on as without a range); a range asking for any page past
 * 1 is the PAGE_OUT_OF_RANGE record a one-page PDF gets, naming the input and the range.
 */
export function singlePageRange(
  bytes: Buffer,
  label: string,
  settings: DocumentSettings,
  context: Pick<DocumentContext, 'base' | 'profile'>,
): StartedDocument | undefined {
  if (settings.pageRange === undefined) return undefined;
  try {
    selectPages(settings.pageRange, 1, label);
    return undefined;
  } catch (error) {
    const record = errorRecord({ input: label, ...context.base }, toVisionpipeError(error, label).toJSON(), {
      sha256: sha256(bytes),
      latency_ms: 0,
      profile: context.profile,
      pages: 1,
    });
    return { records: Promise.resolve([record]) };
  }
}
