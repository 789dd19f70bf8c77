/**
 * `optimize` on a document (PDF, multi-page TIFF, HEIC): one file per selected page,
 * `name.p001.jpg` …, each rendered at the profile's size (documents/document.ts), so no
 * page is dropped in silence. A single-page TIFF is an image like any other (undefined).
 */
import path from 'node:path';
import sharp from 'sharp';
import { openDocument } from '../documents/document.js';
import { documentKind } from '../documents/kinds.js';
import type { PageSpan } from '../documents/page-range.js';
import type { ResolvedPreprocessOptions } from '../image/options.js';
import type { OptimizeFileResult } from './optimize.js';
import { extensionFor, type OutputWriter } from './output-paths.js';

/** Which pages `optimize` writes: all by default, at most `maxPages` (default 50). */
export interface PageSelection {
  pageRange?: readonly PageSpan[];
  maxPages?: number;
}

/** The suffix of page `page`'s file before the extension: `.p001` (3 digits, more past 999). */
export function pageSuffix(page: number): string {
  return `.p${String(page).padStart(3, '0')}`;
}

async function pageCount(bytes: Buffer): Promise<number> {
  return sharp(bytes, { limitInputPixels: false })
    .metadata()
    .then((m) => m.pages ?? 1)
    .catch(() => 1);
}

/**
 * Writes every selected page of a document and returns one result per page (`page`,
 * `pages`; the document's size and bytes are the first result's `before`, so totals count
 * the input once). Undefined when `bytes` is not a document (or a TIFF with one page).
 * Throws the document's typed errors (DOCUMENT_ENCRYPTED, TOO_MANY_PAGES, …) naming `label`.
 */
export async function optimizeDocument(
  bytes: Buffer,
  input: { label: string; rel: string; path?: string },
  options: {
    writer: OutputWriter;
    preprocess: ResolvedPreprocessOptions;
    selection?: PageSelection;
  },
): Promise<OptimizeFileResult[] | undefined> {
  const kind = documentKind(bytes);
  if (kind === undefined || (kind === 'tiff' && (await pageCount(bytes)) === 1)) return undefined;
  const { preprocess, writer } = options;
  const doc = await openDocument(
    bytes,
    input.label,
    {
      limits: preprocess.limits,
      quality: preprocess.quality,
      limitInputPixels: preprocess.limitInputPixels,
      ...(options.selection?.pageRange ? { pageRange: options.selection.pageRange } : {}),
      ...(options.selection?.maxPages === undefined ? {} : { maxPages: options.selection.maxPages }),
    },
    kind,
  );
  const results: OptimizeFileResult[] = [];
  // One stem for every page of a document: when the first page had to take another name
  // (`x-1.p001.jpg`: a same-named document from another folder has `x.p001.jpg`), the
  // others follow it, so one document's pages never mix with another's.
  let target = input;
  try {
    for await (const page of doc) {
      const data =
        preprocess.format === 'jpeg'
          ? page.data
          : await sharp(page.data).toFormat(preprocess.format, { quality: preprocess.quality }).toBuffer();
      const suffix = `${pageSuffix(page.page)}${extensionFor(preprocess.format)}`;
      const output = await writer.write(target, suffix, data);
      if (target === input && path.basename(output).endsWith(suffix)) {
        const stem = path.basename(output).slice(0, -suffix.length);
        const parsed = path.parse(input.rel);
        target = { ...input, rel: path.join(parsed.dir, `${stem}${parsed.ext}`) };
      }
      const first = results.length === 0;
      results.push({
        input: input.label,
        output,
        status: 'ok',
        error: null,
        // The document's bytes once (on its first page written), so totals count it once.
        before: first ? { bytes: bytes.length, width: page.width, height: page.height, format: kind } : null,
        after: { bytes: data.length, width: page.width, height: page.height, format: preprocess.format },
        page: page.page,
        pages: doc.pageCount,
        blank: page.blank,
      });
    }
  } finally {
    doc.close();
  }
  return results;
}
