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
  /**
   * The image on 1-based `page` (form XObjects included) with the most pixels, as its
   * dictionary declares them (nothing is decoded), or undefined when it has none.
   */
  largestImage(page: number): PageSize | undefined;
  /** Renders 1-based `page` to exactly `width`×`height` pixels on white. */
  render(page: number, width: number, height: number): Promise<Bitmap>;
  /** Frees the document inside the wasm instance. Safe to call twice. */
  close(): void;
}

let library: Promise<PDFiumLibrary> | undefined;

/** The raw PDFium calls the page-object walk needs (the wrapper keeps them on `module`). */
interface RawPdfium {
  _FPDFPage_CountObjects(page: number): number;
  _FPDFPage_GetObject(page: number, index: number): number;
  _FPDFPageObj_GetType(object: number): number;
  _FPDFFormObj_CountObjects(form: number): number;
  _FPDFFormObj_GetObject(form: number, index: number): number;
  _FPDFImageObj_GetImagePixelSize(image: number, width: number, height: number): number;
  wasmExports: { malloc(size: number): number; free(pointer: number): void };
  HEAPU32: Uint32Array;
}
const PAGEOBJ_IMAGE = 3;
const PAGEOBJ_FORM = 5;
/** Objects looked at per page before the walk stops (a form XObject used many times nests). */
const MAX_OBJECTS_WALKED = 200_000;
const MAX_FORM_DEPTH = 16;

/** Walks a loaded page's objects, forms included, for the image with the most declared pixels. */
function largestImageOn(raw: RawPdfium, page: number): PageSize | undefined {
  const size = raw.wasmExports.malloc(8);
  let largest: PageSize | undefined;
  let walked = 0;
  const stack: Array<{ form: number | undefined; depth: number }> = [{ form: undefined, depth: 0 }];
  try {
    while (stack.length > 0 && walked < MAX_OBJECTS_WALKED) {
      const { form, depth } = stack.pop() as { form: number | undefined; depth: number };
      const count =
        form === undefined ? raw._FPDFPage_CountObjects(page) : raw._FPDFFormObj_CountObjects(form);
      for (let i = 0; i < count && walked < MAX_OBJECTS_WALKED; i++, walked++) {
        const object =
          form === undefined ? raw._FPDFPage_GetObject(page, i) : raw._FPDFFormObj_GetObject(form, i);
        const type = raw._FPDFPageObj_GetType(object);
        if (type === PAGEOBJ_FORM && depth < MAX_FORM_DEPTH) stack.push({ form: object, depth: depth + 1 });
        if (type !== PAGEOBJ_IMAGE || !raw._FPDFImageObj_GetImagePixelSize(object, size, size + 4)) continue;
        const width = raw.HEAPU32[size >>> 2] as number;
        const height = raw.HEAPU32[(size >>> 2) + 1] as number;
        if (!largest || width * height > largest.width * largest.height) largest = { width, height };
      }
    }
  } finally {
    raw.wasmExports.free(size);
  }
  return largest;
}

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
    largestImage(page) {
      // The wrapper keeps PDFium's module and the page handle as private fields.
      const loaded = loadPage(page) as unknown as { module: RawPdfium; pageIdx: number };
      return largestImageOn(loaded.module, loaded.pageIdx);
    },
    async render(page, width, height) {
      try {
        const rendered = await loadPage(page).render({ width, height, render: 'bitmap' });
        return { data: rendered.data, width: rendered.width, height: rendered.height };
      } catch (error) {
        if (error instanceof VisionpipeError) throw error;
        // E.g. "Failed to allocate memory for bitmap": PDFium's wasm memory stops at 2 GiB.
        throw new VisionpipeError(
          'IMAGE_DECODE',
          `${label}: page ${page} cannot be rendered at ${width}×${height} (${(error as Error).message})`,
          { input: label, cause: error },
        );
      }
    },
    close() {
      if (!open) return;
      open = false;
      document.destroy();
    },
  };
}
