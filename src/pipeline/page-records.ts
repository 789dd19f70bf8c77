/**
 * The records and names of a document's pages: a page's label (`input (page N)`) and error
 * messages that name the input and the page, the page counts a document record carries,
 * skipped records (blank pages, nothing relevant), an earlier record reused for the same
 * rendered content, and the content key of pages read together.
 */
import { sha256 } from '../image/fingerprint.js';
import type { DocumentContext } from './document-stage.js';
import { EMPTY_USAGE, errorRecord, NO_RATE_LIMITS, type RunRecord } from './record.js';
import type { LoadedInput } from './stages.js';

/** A rendered page of a document: its 1-based number, its image, and its pixel size. */
export interface Page {
  page: number;
  loaded: LoadedInput;
  width: number;
  height: number;
}

/** `input (page N)`: how a page of `label` is named in its record and messages. */
export function pageLabel(label: string, page: number): string {
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
export function namingPageError(record: RunRecord, label: string, page: number): RunRecord {
  if (!record.error) return record;
  return { ...record, error: { ...record.error, message: namingPage(record.error.message, label, page) } };
}

/** A document record's page counts: pages in the file, pages sent, blank pages set aside. */
export function documentFields(pageCount: number, sent: number, blank: number[]) {
  return { pages: pageCount, pages_sent: sent, blank_pages: blank };
}

/**
 * An earlier record of the same rendered page content, as this version's page `page`:
 * nothing paid (no call made, no tokens), marked as a reused answer (`cache: 'hit'`).
 */
export function reusedPage(earlier: RunRecord, page: number, pageCount: number, started: number): RunRecord {
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

/** The content key of pages read together: their rendered contents, in order. */
export function documentKey(pages: readonly Page[]): string {
  return pagesTogetherKey(pages.map((p) => p.loaded.sha256));
}

/** The content key of pages (their rendered contents' sha256, in order) read together in one request. */
export function pagesTogetherKey(pageShas: readonly string[]): string {
  return sha256(Buffer.from(`document:${pageShas.join(',')}`));
}

/** A record with nothing read and nothing wrong: blank or irrelevant pages. */
export function skippedRecord(
  label: string,
  context: Pick<DocumentContext, 'base' | 'profile'>,
  fields: Partial<RunRecord>,
): RunRecord {
  return {
    ...errorRecord({ input: label, ...context.base }, { code: 'INTERNAL', message: '' }),
    profile: context.profile,
    ...fields,
    status: 'skipped',
    error: null,
  };
}

/** A rendered page as a loaded image, labelled `input (page N)`, keyed by its content. */
export function pageInput(label: string, page: number, data: Buffer): LoadedInput {
  return { label: pageLabel(label, page), bytes: data, sha256: sha256(data), forwardUrl: undefined };
}

/** A blank page's record: skipped, saying how little ink it has. */
export function blankRecord(
  label: string,
  context: Pick<DocumentContext, 'base' | 'profile'>,
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
