/**
 * Page selection (`--page-range 1-3,7`, `pageRange` in the library), parsed once and
 * applied before anything is rendered or paid for. Pages are 1-based; `5-` runs to the
 * last page. Selected pages come out sorted and without repeats.
 */
import { VisionpipeError } from '../errors.js';

/** One inclusive span of 1-based pages; `to` is undefined for "to the last page". */
export interface PageSpan {
  from: number;
  to: number | undefined;
}

const SPAN = /^(\d+)(?:\s*-\s*(\d*))?$/;

function invalid(text: string, why: string): VisionpipeError {
  return new VisionpipeError('INVALID_OPTION', `--page-range "${text}": ${why}`, { option: 'pageRange' });
}

/**
 * Parses `1-3,7`, `2`, `4-` into spans. INVALID_OPTION (option `pageRange`) for an empty
 * list, page 0, a reversed span (`5-2`) or anything that is not a number or a span.
 */
export function parsePageRange(text: string): PageSpan[] {
  const parts = text.split(',').map((part) => part.trim());
  if (text.trim() === '' || parts.some((part) => part === '')) throw invalid(text, 'an empty entry');
  return parts.map((part) => {
    const match = SPAN.exec(part);
    if (!match) throw invalid(text, `"${part}" is not a page number or a span like 1-3`);
    const from = Number(match[1]);
    const to = match[2] === undefined ? from : match[2] === '' ? undefined : Number(match[2]);
    if (from < 1 || (to !== undefined && to < 1)) throw invalid(text, 'pages are numbered from 1');
    if (to !== undefined && to < from) throw invalid(text, `"${part}" runs backwards`);
    return { from, to };
  });
}

/**
 * The 1-based pages of a `pageCount`-page document that `spans` select (all pages when
 * `spans` is undefined), sorted, each once. PAGE_OUT_OF_RANGE naming the input when a
 * span starts past the last page or ends past it.
 */
export function selectPages(
  spans: readonly PageSpan[] | undefined,
  pageCount: number,
  label: string,
): number[] {
  if (spans === undefined) return Array.from({ length: pageCount }, (_, i) => i + 1);
  const chosen = new Set<number>();
  for (const span of spans) {
    const last = span.to ?? pageCount;
    if (span.from > pageCount || last > pageCount) {
      throw new VisionpipeError(
        'PAGE_OUT_OF_RANGE',
        `${label}: --page-range ${formatSpans(spans)} asks for page ${Math.max(span.from, last)} but the document has ${pageCount} page${pageCount === 1 ? '' : 's'}`,
        { input: label },
      );
    }
    for (let page = span.from; page <= last; page++) chosen.add(page);
  }
  return [...chosen].sort((a, b) => a - b);
}

/** `1-3,7` back from a list of pages (for messages and records). */
export function formatPages(pages: readonly number[]): string {
  const out: string[] = [];
  for (let i = 0; i < pages.length; ) {
    let j = i;
    while (j + 1 < pages.length && pages[j + 1] === pages[j]! + 1) j++;
    out.push(j === i ? `${pages[i]}` : `${pages[i]}-${pages[j]}`);
    i = j + 1;
  }
  return out.join(',');
}

/** Spans back as written: `1-3,7,9-`. */
export function formatSpans(spans: readonly PageSpan[]): string {
  return spans.map((s) => (s.to === s.from ? `${s.from}` : `${s.from}-${s.to ?? ''}`)).join(',');
}
