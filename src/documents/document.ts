/**
 * Documents → page images at the size the provider's profile needs.
 *
 * `openDocument(bytes, label, options)` reads only what it must to count pages (PDF
 * cross-reference, TIFF directory, HEIC header), applies `--page-range` and
 * `--max-pages` before anything is rendered, and hands back a document whose pages are
 * rendered one at a time, on demand, each straight to its target size:
 *
 * - PDF: a page of W×H points is drawn at the size `targetSize()` gives for it at
 *   `maxDpi` (default 300), i.e. at most 300 DPI and never more than the profile keeps
 *   (a Letter page for a 768-px profile is drawn at 768×994, not 2550×3300);
 * - multi-page TIFF: page i decoded by libvips (`page: i`), oriented, fitted;
 * - HEIC: the primary image decoded by libheif (wasm), fitted.
 *
 * Every page comes out as a JPEG (quality `quality`, mozjpeg, flattened on white, sRGB)
 * plus its ink statistics (blank-page detection). Its bytes are deterministic, so their
 * sha256 is the page's content key for caches.
 *
 * Errors, each naming the input: DOCUMENT_ENCRYPTED, DOCUMENT_DAMAGED, DOCUMENT_EMPTY,
 * TOO_MANY_PAGES (pages selected > maxPages), PAGE_OUT_OF_RANGE, PIXEL_LIMIT (a TIFF or
 * HEIC page over limitInputPixels; a PDF page whose render size, or one of whose images as
 * declared, is over it, checked before PDFium allocates or decodes), IMAGE_DECODE (a TIFF
 * page libvips cannot decode, a PDF page PDFium cannot render).
 */

import sharp, { type Metadata, type OutputInfo, type Sharp } from 'sharp';
import { VisionpipeError } from '../errors.js';
import { requireMetadataWithin } from '../image/admit.js';
import { heifMetadataBytes, tiffMetadataBytes } from '../image/container-metadata.js';
import { type SizeLimits, targetSize } from '../image/profiles.js';
import { inkStatistics } from './blank.js';
import { decodeHeic } from './heic.js';
import { type DocumentKind, documentKind } from './kinds.js';
import { type PageSpan, selectPages } from './page-range.js';
import { type Bitmap, openPdf, type PdfHandle } from './pdf.js';

export const DEFAULT_MAX_PAGES = 50;
export const DEFAULT_MAX_DPI = 300;
/** Render size used when the profile sets no bound at all (`--profile none`): 300 DPI. */
const POINTS_PER_INCH = 72;

export interface DocumentOptions {
  /** The size limits the pages are bound for (the provider's profile, tightened to its hard limits). */
  limits: SizeLimits;
  /** Most pages one document may send, counted after `pageRange`. Default 50. */
  maxPages?: number;
  /** Pages to keep (1-based spans); all when undefined. */
  pageRange?: readonly PageSpan[];
  /** Highest PDF render resolution, dots per inch. Default 300. */
  maxDpi?: number;
  /** JPEG quality of page images, 1–100. Default 90. */
  quality?: number;
  /** Largest decoded TIFF/HEIC page, in pixels. Default 268 402 689 (libvips' own). */
  limitInputPixels?: number;
}

/** One rendered page. */
export interface DocumentPage {
  /** 1-based page number in the document. */
  page: number;
  /** JPEG bytes at `width`×`height`. */
  data: Buffer;
  width: number;
  height: number;
  /** Share of ink pixels, 0–1 (see blank.ts). */
  ink: number;
  /** True when the page is blank by cheap pixel statistics: never sent to a provider. */
  blank: boolean;
}

export interface OpenedDocument {
  kind: DocumentKind;
  label: string;
  /** Pages the document has. */
  pageCount: number;
  /** The selected pages, 1-based, sorted (after --page-range). */
  pages: readonly number[];
  /** Renders one page (1-based; need not be selected). */
  render(page: number): Promise<DocumentPage>;
  /**
   * A page's own size in pixels, without rendering it: at `maxDpi` for a PDF page, its
   * pixels for a TIFF or HEIC page (what `estimate` prices the naive plan at).
   */
  pageSize(page: number): Promise<{ width: number; height: number }>;
  /** Renders the selected pages one by one; only one page's pixels are alive at a time. */
  [Symbol.asyncIterator](): AsyncIterator<DocumentPage>;
  close(): void;
}

interface PageSource {
  pageCount: number;
  /** Native size of the page in pixels at `maxDpi` (PDF) or its own pixels (TIFF, HEIC). */
  nativeSize(page: number): Promise<{ width: number; height: number }>;
  /** The page as a sharp pipeline already at `width`×`height`. */
  pixels(page: number, width: number, height: number): Promise<Sharp>;
  close(): void;
}

function fromBitmap(bitmap: Bitmap): Sharp {
  return sharp(Buffer.from(bitmap.data.buffer, bitmap.data.byteOffset, bitmap.data.byteLength), {
    raw: { width: bitmap.width, height: bitmap.height, channels: 4 },
  });
}

function pdfSource(pdf: PdfHandle, maxDpi: number, label: string, limitInputPixels: number): PageSource {
  return {
    pageCount: pdf.pageCount,
    async nativeSize(page) {
      const size = pdf.pageSize(page);
      const scale = maxDpi / POINTS_PER_INCH;
      return {
        width: Math.max(1, Math.round(size.width * scale)),
        height: Math.max(1, Math.round(size.height * scale)),
      };
    },
    async pixels(page, width, height) {
      // Checked before PDFium allocates or decodes anything: a page drawn at a size no
      // profile bounds (200 000 pt square at 300 DPI), or an image XObject declaring more
      // pixels than an image file may have (a small Flate stream can inflate to gigabytes).
      if (width * height > limitInputPixels)
        throw pixelLimit(
          label,
          width,
          height,
          limitInputPixels,
          `page ${page} would render at ${width}×${height},`,
        );
      const image = pdf.largestImage(page);
      if (image && image.width * image.height > limitInputPixels)
        throw pixelLimit(
          label,
          image.width,
          image.height,
          limitInputPixels,
          `page ${page} holds a ${image.width}×${image.height} image,`,
        );
      return fromBitmap(await pdf.render(page, width, height));
    },
    close: () => pdf.close(),
  };
}

function pixelLimit(
  label: string,
  width: number,
  height: number,
  limit: number,
  subject = `a ${width}×${height} page is`,
): VisionpipeError {
  return new VisionpipeError(
    'PIXEL_LIMIT',
    `${label}: ${subject} over the limitInputPixels of ${(limit / 1e6).toFixed(1)} MP`,
    { input: label },
  );
}

async function tiffSource(bytes: Buffer, label: string, limitInputPixels: number): Promise<PageSource> {
  let metadata: Metadata;
  try {
    metadata = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw new VisionpipeError(
      'IMAGE_DECODE',
      `${label}: cannot read this TIFF (${(error as Error).message})`,
      {
        input: label,
        cause: error,
      },
    );
  }
  return {
    pageCount: metadata.pages ?? 1,
    // Page sizes differ in a TIFF: each is read from its own directory.
    async nativeSize(page) {
      let info: Metadata;
      try {
        info = await sharp(bytes, { page: page - 1, limitInputPixels: false }).metadata();
      } catch (error) {
        throw new VisionpipeError(
          'IMAGE_DECODE',
          `${label}: page ${page} of this TIFF cannot be read (${(error as Error).message})`,
          { input: label, cause: error },
        );
      }
      const swap = (info.orientation ?? 1) >= 5;
      const size = swap
        ? { width: info.height, height: info.width }
        : { width: info.width, height: info.height };
      if (size.width * size.height > limitInputPixels)
        throw pixelLimit(label, size.width, size.height, limitInputPixels);
      return size;
    },
    async pixels(page, width, height) {
      return sharp(bytes, { page: page - 1, limitInputPixels, autoOrient: true }).resize(width, height, {
        fit: 'fill',
      });
    },
    close() {},
  };
}

async function heicSource(bytes: Buffer, label: string, limitInputPixels: number): Promise<PageSource> {
  const bitmap = await decodeHeic(bytes, label);
  if (bitmap.width * bitmap.height > limitInputPixels) {
    throw pixelLimit(label, bitmap.width, bitmap.height, limitInputPixels);
  }
  return {
    pageCount: 1,
    nativeSize: async () => ({ width: bitmap.width, height: bitmap.height }),
    async pixels(_page, width, height) {
      return fromBitmap(bitmap).resize(width, height, { fit: 'fill' });
    },
    close() {},
  };
}

async function openSource(
  kind: DocumentKind,
  bytes: Buffer,
  label: string,
  options: DocumentOptions,
): Promise<PageSource> {
  const limitInputPixels = options.limitInputPixels ?? 268_402_689;
  if (kind === 'pdf')
    return pdfSource(await openPdf(bytes, label), options.maxDpi ?? DEFAULT_MAX_DPI, label, limitInputPixels);
  if (kind === 'tiff') return tiffSource(bytes, label, limitInputPixels);
  return heicSource(bytes, label, limitInputPixels);
}

/**
 * Opens `bytes` as a document of `kind` (sniffed when omitted). Throws before rendering
 * anything when the document is encrypted, damaged, empty, the range names missing pages
 * or more than `maxPages` pages are selected.
 */
export async function openDocument(
  bytes: Buffer,
  label: string,
  options: DocumentOptions,
  kind: DocumentKind | undefined = documentKind(bytes),
): Promise<OpenedDocument> {
  if (!kind) {
    throw new VisionpipeError('UNSUPPORTED_FORMAT', `${label}: not a PDF, TIFF or HEIC document`, {
      input: label,
    });
  }
  // Metadata is capped from tag and box headers before libtiff/libheif copy it (image/admit.ts).
  if (kind === 'tiff') requireMetadataWithin(tiffMetadataBytes(bytes), label);
  if (kind === 'heic') requireMetadataWithin(heifMetadataBytes(bytes), label);
  const source = await openSource(kind, bytes, label, options);
  try {
    if (source.pageCount === 0) {
      throw new VisionpipeError('DOCUMENT_EMPTY', `${label}: the document has no pages`, { input: label });
    }
    const pages = selectPages(options.pageRange, source.pageCount, label);
    const maxPages = options.maxPages ?? DEFAULT_MAX_PAGES;
    if (pages.length > maxPages) {
      throw new VisionpipeError(
        'TOO_MANY_PAGES',
        `${label}: ${pages.length} pages selected, over --max-pages ${maxPages}; raise it or choose pages with --page-range`,
        { input: label },
      );
    }
    const quality = options.quality ?? 90;
    const render = async (page: number): Promise<DocumentPage> => {
      if (!Number.isInteger(page) || page < 1 || page > source.pageCount) {
        throw new VisionpipeError('PAGE_OUT_OF_RANGE', `${label}: no page ${page} in ${source.pageCount}`, {
          input: label,
        });
      }
      const native = await source.nativeSize(page);
      const target = targetSize(native.width, native.height, options.limits);
      const pixels = (await source.pixels(page, target.width, target.height))
        .flatten({ background: '#ffffff' })
        .toColourspace('srgb');
      let output: { data: Buffer; info: OutputInfo };
      let stats: Awaited<ReturnType<typeof inkStatistics>>;
      try {
        // One decode of the page feeds both the JPEG and the blank-page thumbnail.
        [output, stats] = await Promise.all([
          pixels.clone().jpeg({ quality, mozjpeg: true }).toBuffer({ resolveWithObject: true }),
          inkStatistics(pixels.clone()),
        ]);
      } catch (error) {
        throw new VisionpipeError(
          'IMAGE_DECODE',
          `${label}: page ${page} cannot be decoded (${(error as Error).message.split('\n')[0]})`,
          { input: label, cause: error },
        );
      }
      return {
        page,
        data: output.data,
        width: output.info.width,
        height: output.info.height,
        ink: stats.ink,
        blank: stats.blank,
      };
    };
    return {
      kind,
      label,
      pageCount: source.pageCount,
      pages,
      render,
      pageSize: (page) => source.nativeSize(page),
      async *[Symbol.asyncIterator]() {
        for (const page of pages) yield await render(page);
      },
      close: () => source.close(),
    };
  } catch (error) {
    source.close();
    throw error;
  }
}
