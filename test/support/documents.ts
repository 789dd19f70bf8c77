/**
 * Document fixtures made in the test run: PDFs written with pdf-lib (text pages, pages
 * that are scanned images, rotated pages, blank pages, an encrypted one, a broken one, an
 * empty one) and multi-page TIFFs joined by sharp. Nothing here is committed as binary
 * data except the HEIC sample (see HEIC_SAMPLE).
 */
import path from 'node:path';
import { degrees, PDFDocument, PDFHexString, PDFName, rgb, StandardFonts } from 'pdf-lib';
import sharp from 'sharp';

/** US Letter in points. */
export const LETTER: [number, number] = [612, 792];

export interface PdfPageSpec {
  /** Lines of text from the top, 12 pt Helvetica. */
  lines?: string[];
  /** An image (JPEG or PNG bytes) drawn over the whole page: a scanned page. */
  scan?: Buffer;
  /** Grey level of the text, 0 (black, the default) to 1 (white): faded print. */
  grey?: number;
  /** The page's /Rotate, degrees. */
  rotate?: 0 | 90 | 180 | 270;
  /** Page size in points; Letter when omitted. */
  size?: [number, number];
}

/** A PDF with one page per spec; a spec with neither lines nor scan is a blank page. */
export async function makePdf(pages: readonly PdfPageSpec[]): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (const spec of pages) {
    const [width, height] = spec.size ?? LETTER;
    const page = doc.addPage([width, height]);
    if (spec.scan) {
      const isPng = spec.scan[0] === 0x89;
      const image = isPng ? await doc.embedPng(spec.scan) : await doc.embedJpg(spec.scan);
      page.drawImage(image, { x: 0, y: 0, width, height });
    }
    (spec.lines ?? []).forEach((line, i) => {
      const grey = spec.grey ?? 0;
      page.drawText(line, { x: 54, y: height - 72 - i * 20, size: 12, font, color: rgb(grey, grey, grey) });
    });
    if (spec.rotate) page.setRotation(degrees(spec.rotate));
  }
  // Same bytes on every run: no creation dates, no random document ID.
  doc.setCreationDate(new Date(0));
  doc.setModificationDate(new Date(0));
  return Buffer.from(await doc.save({ useObjectStreams: false }));
}

/** `count` text pages, each naming its number (for large-document benchmarks and limits). */
export function numberedPages(count: number, linesPerPage = 30): PdfPageSpec[] {
  return Array.from({ length: count }, (_, p) => ({
    lines: Array.from(
      { length: linesPerPage },
      (_, l) =>
        `Page ${p + 1} line ${l + 1}: item ${p * linesPerPage + l} qty ${l % 7} price ${(l * 3.25).toFixed(2)}`,
    ),
  }));
}

/**
 * A PDF that needs a password: a Standard security handler (RC4 40-bit, R2) whose /U
 * entry does not match the empty user password, so no reader can open it without one.
 */
export async function encryptedPdf(): Promise<Buffer> {
  const doc = await PDFDocument.create();
  doc.addPage(LETTER);
  const context = doc.context;
  const encrypt = context.obj({
    Filter: 'Standard',
    V: 1,
    R: 2,
    O: PDFHexString.of('11'.repeat(32)),
    U: PDFHexString.of('22'.repeat(32)),
    P: -44,
  });
  context.trailerInfo.Encrypt = context.register(encrypt);
  context.trailerInfo.ID = context.obj([PDFHexString.of('33'.repeat(16)), PDFHexString.of('33'.repeat(16))]);
  return Buffer.from(await doc.save({ useObjectStreams: false }));
}

/** A PDF with a page tree of zero pages. */
export async function emptyPdf(): Promise<Buffer> {
  const doc = await PDFDocument.create();
  return Buffer.from(await doc.save({ useObjectStreams: false, addDefaultPage: false }));
}

/** A PDF header followed by bytes no reader can make a document of. */
export function brokenPdf(): Buffer {
  return Buffer.concat([Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1'), Buffer.alloc(2048, 0x41)]);
}

/** A text-only PNG made by sharp from SVG (a receipt or invoice page without a PDF). */
export async function textImage(lines: readonly string[], width = 800, height = 1000): Promise<Buffer> {
  const text = lines
    .map(
      (line, i) =>
        `<text x="40" y="${70 + i * 36}" font-family="DejaVu Sans, sans-serif" font-size="26" fill="#111">${line
          .replace(/&/g, '&amp;')
          .replace(/</g, '&lt;')}</text>`,
    )
    .join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="#fff"/>${text}</svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

/** A multi-page TIFF (LZW) of same-sized page images. */
export async function multiPageTiff(pages: readonly Buffer[]): Promise<Buffer> {
  return sharp([...pages], { join: { animated: true } })
    .tiff({ compression: 'lzw' })
    .toBuffer();
}

/**
 * A 600×800 HEIC (HEVC) of a receipt (RECEIPT, Corner Shop, Coffee 3.50, Bread 39.00, Total 42.50), made
 * once with `heif-enc -q 60` (libheif-examples) from textImage(): sharp cannot encode HEVC.
 */
export const HEIC_SAMPLE = path.resolve(import.meta.dirname, '../fixtures/documents/receipt.heic');

/** Names PDFium needs: `PDFName` re-exported so tests can build odd dictionaries. */
export { PDFName };
