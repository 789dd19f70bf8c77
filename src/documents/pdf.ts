/**
 * PDF pages through PDFium (compiled to WebAssembly, shipped in the npm package
 * @hyzyla/pdfium, MIT; PDFium itself BSD-3/Apache-2.0). Chosen over pdfjs-dist with
 * @napi-rs/canvas and over MuPDF.js (AGPL) after bench/pdf-renderers.ts: same output,
 * fastest of the three, and it renders straight to the pixel size asked for, so a page
 * bound for a 768-px profile is drawn at 768 px, never at 300 DPI and then shrunk.
 *
 * One wasm instance serves the process (created on first use). Documents are opened from
 * bytes; each page is loaded, rendered to an RGBA bitmap and released before the next, so
 * memory follows the page size, not the page count.
 */
import { type PDFiumDocument, PDFiumLibrary } from '@hyzyla/pdfium';
import { VisionpipeError } from '../errors.js';

/** A page's size in PDF points (1/72 inch), as displayed (after the page's /Rotate). */
export interface PageSize {
  width: number;
  height: number;
}

/** An RGBA bitmap, 4 bytes a pixel, rows top to bottom. */
export interface Bitmap {
  data: Uint8Array;
  width: number;
  height: number;
}

export interface PdfHandle {
  pageCount: number;
  /** Size of 1-based `page` in points. */
  pageSize(page: number): PageSize;
  /** Renders 1-based `page` to exactly `width`×`height` pixels on white. */
  render(page: number, width: number, height: number): Promise<Bitmap>;
  /** Frees the document inside the wasm instance. Safe to call twice. */
  close(): void;
}

let library: Promise<PDFiumLibrary> | undefined;

function pdfium(): Promise<PDFiumLibrary> {
  library ??= PDFiumLibrary.init();
  return library;
}

function openError(error: unknown, label: string): VisionpipeError {
  const detail = error instanceof Error ? error.message : String(error);
  if (/password|security/i.test(detail)) {
    return new VisionpipeError(
      'DOCUMENT_ENCRYPTED',
      `${label}: the PDF is encrypted and needs a password (${detail}); decrypt it first`,
      { input: label, cause: error },
    );
  }
  return new VisionpipeError('DOCUMENT_DAMAGED', `${label}: cannot open this PDF (${detail})`, {
    input: label,
    cause: error,
  });
}

/**
 * Opens a PDF. DOCUMENT_ENCRYPTED when it needs a password, DOCUMENT_DAMAGED when PDFium
 * cannot read it (PDFium rebuilds a broken cross-reference table itself, so only PDFs
 * that are beyond repair fail here), each naming `label`.
 */
export async function openPdf(bytes: Uint8Array, label: string): Promise<PdfHandle> {
  const lib = await pdfium();
  let document: PDFiumDocument;
  try {
    document = await lib.loadDocument(bytes);
  } catch (error) {
    throw openError(error, label);
  }
  let open = true;
  const pageCount = document.getPageCount();
  const loadPage = (page: number) => {
    if (!open) throw new VisionpipeError('INTERNAL', `${label}: the PDF was closed before page ${page}`);
    try {
      return document.getPage(page - 1);
    } catch (error) {
      throw new VisionpipeError(
        'DOCUMENT_DAMAGED',
        `${label}: page ${page} cannot be read (${(error as Error).message})`,
        { input: label, cause: error },
      );
    }
  };
  return {
    pageCount,
    pageSize(page) {
      const size = loadPage(page).getOriginalSize();
      return { width: size.originalWidth, height: size.originalHeight };
    },
    async render(page, width, height) {
      const rendered = await loadPage(page).render({ width, height, render: 'bitmap' });
      return { data: rendered.data, width: rendered.width, height: rendered.height };
    },
    close() {
      if (!open) return;
      open = false;
      document.destroy();
    },
  };
}
