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
 * Beside it: each-page (`each` mode's page-by-page reads), page-records (page labels and
 * records), page-requests (whether pages fit one request), merge-pages (pages read one by
 * one, merged into the document's record).
 */
import { openDocument } from '../documents/document.js';
import type { DocumentKind } from '../documents/kinds.js';
import { type PageSpan, selectPages } from '../documents/page-range.js';
import type { PagesMode } from '../documents/pages-mode.js';
import { toVisionpipeError } from '../errors.js';
import type { Slots } from '../flow/slots.js';
import { sha256 } from '../image/fingerprint.js';
import type { SizeLimits } from '../image/profiles.js';
import type { Pattern } from '../patterns/types.js';
import type { ProviderLimits } from '../providers/spec.js';
import { startEachPage } from './each-page.js';
import { mergedRecord } from './merge-pages.js';
import {
  documentFields,
  documentKey,
  namingPage,
  type Page,
  pageInput,
  skippedRecord,
} from './page-records.js';
import { splitReason } from './page-requests.js';
import { errorRecord, type RunRecord } from './record.js';
import type { LoadedInput } from './stages.js';

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
        // A document refused whole says how large it was, as a refused image does.
        ...(extra.page === undefined ? { input_bytes: bytes.length } : {}),
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
      const each = await startEachPage({ doc, label, documentSha, finalize, failed }, context, earlier);
      return settled(each.records);
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
      input_bytes: bytes.length,
    });
    return { records: Promise.resolve([record]) };
  }
}
