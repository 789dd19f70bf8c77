/**
 * Documents at the ingest door: a PDF, a multi-page TIFF or a HEIC photo is accepted as
 * one job (the worker reads its pages and merges them, docs/documents.md). The page count
 * is checked here, before anything is stored or queued: a document over the service's
 * `--max-pages` is refused with ImgGo's error shape, as are encrypted, damaged and empty
 * ones. Nothing is rendered (opening a PDF reads its page tree only).
 */
import { DEFAULT_MAX_PAGES, openDocument } from '../documents/document.js';
import { documentKind } from '../documents/kinds.js';
import { isVisionpipeError } from '../errors.js';
import { ApiError } from './api-error.js';

const MEDIA_TYPES = { pdf: 'application/pdf', tiff: 'image/tiff', heic: 'image/heic' } as const;

/** What the API answers for a document it cannot take (status, ImgGo-style code). */
const DOCUMENT_ERRORS: Record<string, [number, string]> = {
  TOO_MANY_PAGES: [400, 'too_many_pages'],
  DOCUMENT_ENCRYPTED: [400, 'document_encrypted'],
  DOCUMENT_DAMAGED: [400, 'invalid_document'],
  DOCUMENT_EMPTY: [400, 'invalid_document'],
};

export interface AdmittedDocument {
  mediaType: string;
  /** Pages the document has. */
  pages: number;
}

/**
 * The document the bytes are, checked against `maxPages` (default 50), or undefined when
 * they are not a document (a single-page TIFF is an image). Throws ApiError 400
 * `too_many_pages` (details: `pages`, `max_pages`), `document_encrypted` or
 * `invalid_document`, each naming `label`.
 */
export async function admitDocument(
  bytes: Buffer,
  label: string,
  maxPages: number = DEFAULT_MAX_PAGES,
): Promise<AdmittedDocument | undefined> {
  const kind = documentKind(bytes);
  if (kind === undefined) return undefined;
  let pages: number;
  try {
    // Nothing is rendered here: the limits only matter to render(). maxPages is checked below.
    const doc = await openDocument(
      bytes,
      label,
      { limits: { maxLongEdge: Number.MAX_SAFE_INTEGER }, maxPages: Number.MAX_SAFE_INTEGER },
      kind,
    );
    pages = doc.pageCount;
    doc.close();
  } catch (error) {
    const mapped = isVisionpipeError(error) ? DOCUMENT_ERRORS[error.code] : undefined;
    if (!mapped || !isVisionpipeError(error)) throw error;
    throw new ApiError(mapped[0], mapped[1], error.message, { reason: error.code });
  }
  if (kind === 'tiff' && pages === 1) return undefined;
  if (pages > maxPages) {
    throw new ApiError(
      400,
      'too_many_pages',
      `${label}: ${pages} pages, over this service's limit of ${maxPages} pages per document`,
      { pages, max_pages: maxPages },
    );
  }
  return { mediaType: MEDIA_TYPES[kind], pages };
}
