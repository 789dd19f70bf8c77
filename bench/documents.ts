/**
 * PDF pages to provider-ready JPEGs, side by side in one run, on 50-page PDFs:
 *   visionpipe         openDocument() (PDFium wasm, drawn at the profile's size) + preprocessImage()
 *   pdfjs at size      pdfjs-dist + its @napi-rs/canvas, drawn at the same size, sharp JPEG: the alternative renderer
 *   naive              pdfjs at 300 DPI, then sharp resize to the profile + JPEG: what a script would do
 *   mupdf at size      MuPDF.js (AGPL-3.0, so never a dependency): only when VISIONPIPE_BENCH_MUPDF
 *                      names a folder whose node_modules holds `mupdf`
 * Output agreement: mean absolute grey difference of each renderer's page 1 against the
 * naive path's page 1 (0–255; under 3 means the same picture).
 * Memory: peak RSS of a child rendering a 50-page and a 500-page PDF (must stay flat).
 * HEIC: libheif (wasm) decode of the committed sample against sharp decoding the same
 * picture as a JPEG.
 *
 * Documents: "text" is 50 generated text pages; "scans" is 50 pages, each a real corpus
 * image (invoices, prescriptions, résumés, forms from ../shared/corpus) drawn over a
 * Letter page, i.e. real scanned content in a generated PDF.
 *
 *   npm run bench:documents [-- --profile openai-high --skip-naive]
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { openDocument } from '../src/documents/document.js';
import { decodeHeic } from '../src/documents/heic.js';
import { resolvePreprocessOptions } from '../src/image/options.js';
import { preprocessImage } from '../src/image/preprocess.js';
import { isProfileName, SIZE_PROFILES, type SizeLimits, targetSize } from '../src/image/profiles.js';
import { HEIC_SAMPLE, makePdf, numberedPages, textImage } from '../test/support/documents.js';
import { CORPUS_DIR } from '../test/support/images.js';
import { BENCH_DIR, CACHE_DIR, fmt, printTable, writeResults } from './support.js';

const { values: args } = parseArgs({
  options: {
    profile: { type: 'string', default: 'openai-high' },
    'skip-naive': { type: 'boolean', default: false },
    'memory-pages': { type: 'string', default: '500' },
  },
});
const PROFILE = args.profile;
if (!isProfileName(PROFILE)) throw new Error(`unknown profile ${PROFILE}`);
const LIMITS: SizeLimits = SIZE_PROFILES[PROFILE];
const PREPROCESS = resolvePreprocessOptions({ profile: PROFILE });
const DIR = path.join(CACHE_DIR, 'documents');
const ROOT = path.resolve(BENCH_DIR, '..');
const require = createRequire(import.meta.url);
const STANDARD_FONTS = `${path.join(path.dirname(require.resolve('pdfjs-dist/package.json')), 'standard_fonts')}/`;

async function cached(name: string, make: () => Promise<Buffer>): Promise<string> {
  await mkdir(DIR, { recursive: true });
  const file = path.join(DIR, name);
  if (!existsSync(file)) await writeFile(file, await make());
  return file;
}

const SCAN_PREFIXES = ['invoice', 'prescription', 'resume', 'document-classification', 'inventory'];

async function scansPdf(): Promise<Buffer> {
  const names = SCAN_PREFIXES.flatMap((prefix) =>
    [1, 2, 3, 4, 5].flatMap((n) => [`${prefix}${n}.jpg`, `${prefix}${n}.png`]),
  ).filter((name) => existsSync(path.join(CORPUS_DIR, name)));
  if (names.length === 0) throw new Error(`no corpus images in ${CORPUS_DIR}`);
  const pages = [];
  for (let i = 0; i < 50; i++) {
    const scan = await sharp(path.join(CORPUS_DIR, names[i % names.length]!))
      .flatten({ background: '#ffffff' })
      .jpeg({ quality: 85 })
      .toBuffer();
    pages.push({ scan });
  }
  return makePdf(pages);
}

interface Rendered {
  pages: number;
  ms: number;
  bytes: number;
  first: Buffer;
}

type Renderer = (pdf: Buffer) => Promise<Rendered>;

const visionpipe: Renderer = async (pdf) => {
  const started = performance.now();
  const doc = await openDocument(pdf, 'bench.pdf', {
    limits: LIMITS,
    maxPages: 1000,
    quality: PREPROCESS.quality,
  });
  let pages = 0;
  let bytes = 0;
  let first: Buffer = Buffer.alloc(0);
  for await (const page of doc) {
    const ready = await preprocessImage(page.data, PREPROCESS, `bench.pdf#${page.page}`);
    if (pages === 0) first = ready.data;
    bytes += ready.bytes;
    pages++;
  }
  doc.close();
  return { pages, ms: performance.now() - started, bytes, first };
};

interface PdfjsCanvas {
  toBuffer(mime: 'image/png'): Buffer;
  data(): Uint8Array;
  width: number;
  height: number;
}

function pdfjsRenderer(mode: 'at-size' | 'naive'): Renderer {
  return async (pdf) => {
    const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
    const started = performance.now();
    const doc = await pdfjs.getDocument({
      data: new Uint8Array(pdf),
      isEvalSupported: false,
      standardFontDataUrl: STANDARD_FONTS,
    }).promise;
    let bytes = 0;
    let first: Buffer = Buffer.alloc(0);
    for (let n = 1; n <= doc.numPages; n++) {
      const page = await doc.getPage(n);
      const base = page.getViewport({ scale: 1 });
      const scale =
        mode === 'naive'
          ? 300 / 72
          : targetSize(Math.round((base.width * 300) / 72), Math.round((base.height * 300) / 72), LIMITS)
              .width / base.width;
      const viewport = page.getViewport({ scale });
      const factory = (
        doc as unknown as { canvasFactory: { create(w: number, h: number): { canvas: PdfjsCanvas } } }
      ).canvasFactory;
      const { canvas } = factory.create(Math.round(viewport.width), Math.round(viewport.height));
      await page.render({
        canvas: canvas as unknown as Parameters<typeof page.render>[0]['canvas'],
        viewport,
      }).promise;
      let jpeg: Buffer;
      if (mode === 'naive') {
        const png = canvas.toBuffer('image/png');
        const meta = await sharp(png).metadata();
        const target = targetSize(meta.width, meta.height, LIMITS);
        jpeg = await sharp(png)
          .resize(target.width, target.height, { fit: 'fill' })
          .flatten({ background: '#ffffff' })
          .jpeg({ quality: PREPROCESS.quality, mozjpeg: true })
          .toBuffer();
      } else {
        const raw = canvas.data();
        jpeg = await sharp(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength), {
          raw: { width: canvas.width, height: canvas.height, channels: 4 },
        })
          .flatten({ background: '#ffffff' })
          .jpeg({ quality: PREPROCESS.quality, mozjpeg: true })
          .toBuffer();
      }
      if (n === 1) first = jpeg;
      bytes += jpeg.length;
      page.cleanup();
    }
    const pages = doc.numPages;
    await doc.destroy();
    return { pages, ms: performance.now() - started, bytes, first };
  };
}

interface MupdfModule {
  Document: { openDocument(data: Buffer, mime: string): MupdfDocument };
  Matrix: { scale(x: number, y: number): unknown };
  ColorSpace: { DeviceRGB: unknown };
}
interface MupdfDocument {
  countPages(): number;
  loadPage(i: number): {
    getBounds(): number[];
    toPixmap(
      m: unknown,
      cs: unknown,
      alpha: boolean,
      annots: boolean,
    ): {
      getPixels(): Uint8Array;
      getWidth(): number;
      getHeight(): number;
      destroy(): void;
    };
    destroy(): void;
  };
  destroy(): void;
}

async function mupdfRenderer(): Promise<Renderer | undefined> {
  const folder = process.env.VISIONPIPE_BENCH_MUPDF;
  if (!folder) return undefined;
  const entry = createRequire(path.join(folder, 'package.json')).resolve('mupdf');
  const mupdf = (await import(pathToFileURL(entry).href)) as MupdfModule;
  return async (pdf) => {
    const started = performance.now();
    const doc = mupdf.Document.openDocument(pdf, 'application/pdf');
    let bytes = 0;
    let first: Buffer = Buffer.alloc(0);
    const pages = doc.countPages();
    for (let i = 0; i < pages; i++) {
      const page = doc.loadPage(i);
      const [x0 = 0, y0 = 0, x1 = 0, y1 = 0] = page.getBounds();
      const width = x1 - x0;
      const target = targetSize(Math.round((width * 300) / 72), Math.round(((y1 - y0) * 300) / 72), LIMITS);
      const scale = target.width / width;
      const pix = page.toPixmap(mupdf.Matrix.scale(scale, scale), mupdf.ColorSpace.DeviceRGB, false, true);
      const jpeg = await sharp(Buffer.from(pix.getPixels()), {
        raw: { width: pix.getWidth(), height: pix.getHeight(), channels: 3 },
      })
        .jpeg({ quality: PREPROCESS.quality, mozjpeg: true })
        .toBuffer();
      if (i === 0) first = jpeg;
      bytes += jpeg.length;
      pix.destroy();
      page.destroy();
    }
    doc.destroy();
    return { pages, ms: performance.now() - started, bytes, first };
  };
}

/** Mean absolute grey difference of two JPEGs, compared at the reference's size. */
async function difference(image: Buffer, reference: Buffer): Promise<number> {
  const meta = await sharp(reference).metadata();
  const grey = (input: Buffer) =>
    sharp(input).resize(meta.width, meta.height, { fit: 'fill' }).greyscale().raw().toBuffer();
  const [a, b] = await Promise.all([grey(image), grey(reference)]);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

function childPeak(file: string): Promise<{ pages: number; peak_rss_bytes: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(BENCH_DIR, 'documents-worker.ts'), file, PROFILE],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`documents-worker exited ${code}`));
      else resolve(JSON.parse(out.trim().split('\n').pop() ?? '{}'));
    });
  });
}

const documents = {
  text: await cached('text-50.pdf', () => makePdf(numberedPages(50))),
  scans: await cached('scans-50.pdf', scansPdf),
};
const renderers: Array<[string, Renderer]> = [
  ['visionpipe (PDFium at size)', visionpipe],
  ['pdfjs + canvas at size', pdfjsRenderer('at-size')],
];
const mupdf = await mupdfRenderer();
if (mupdf) renderers.push(['mupdf at size (AGPL)', mupdf]);
if (!args['skip-naive']) renderers.push(['naive: pdfjs 300 DPI + sharp resize', pdfjsRenderer('naive')]);

const speed: Array<Record<string, string | number>> = [];
for (const [docName, file] of Object.entries(documents)) {
  const pdf = await readFile(file);
  const results = new Map<string, Rendered>();
  for (const [name, render] of renderers) results.set(name, await render(pdf));
  const naive = results.get('naive: pdfjs 300 DPI + sharp resize');
  for (const [name, result] of results) {
    const pagesPerS = result.pages / (result.ms / 1000);
    speed.push({
      document: docName,
      renderer: name,
      pages: result.pages,
      pages_per_s: Number(fmt(pagesPerS)),
      vs_naive: naive ? Number(fmt(pagesPerS / (naive.pages / (naive.ms / 1000)))) : Number.NaN,
      kb_per_page: Number(fmt(result.bytes / result.pages / 1024, 1)),
      page1_grey_diff_vs_naive: naive ? Number(fmt(await difference(result.first, naive.first))) : Number.NaN,
    });
  }
}
printTable(
  `PDF pages → provider-ready JPEG (${PROFILE}), one process, pages in order`,
  ['document', 'renderer', 'pages', 'pages/s', '× naive', 'KB/page', 'page-1 diff'],
  speed.map((row) => [
    row.document!,
    row.renderer!,
    row.pages!,
    row.pages_per_s!,
    row.vs_naive!,
    row.kb_per_page!,
    row.page1_grey_diff_vs_naive!,
  ]),
);

const memoryPages = Number(args['memory-pages']);
const small = await cached('text-50.pdf', () => makePdf(numberedPages(50)));
const large = await cached(`text-${memoryPages}.pdf`, () => makePdf(numberedPages(memoryPages)));
const peak50 = await childPeak(small);
const peakLarge = await childPeak(large);
const memory = {
  pages_small: peak50.pages,
  peak_rss_mb_small: Number(fmt(peak50.peak_rss_bytes / 2 ** 20, 1)),
  pages_large: peakLarge.pages,
  peak_rss_mb_large: Number(fmt(peakLarge.peak_rss_bytes / 2 ** 20, 1)),
  ratio: Number(fmt(peakLarge.peak_rss_bytes / peak50.peak_rss_bytes)),
};
printTable(
  'Peak RSS of one process rendering every page (visionpipe)',
  ['pages', 'peak RSS MB'],
  [
    [memory.pages_small, memory.peak_rss_mb_small],
    [memory.pages_large, memory.peak_rss_mb_large],
  ],
);

const heicBytes = await readFile(HEIC_SAMPLE);
const sameAsJpeg = await sharp(
  await textImage(['RECEIPT', 'Corner Shop', 'Coffee 3.50', 'Bread 39.00', 'Total 42.50'], 600, 800),
)
  .jpeg({ quality: 85 })
  .toBuffer();
const ROUNDS = 20;
let started = performance.now();
for (let i = 0; i < ROUNDS; i++) await decodeHeic(heicBytes, 'sample.heic');
const heicMs = (performance.now() - started) / ROUNDS;
started = performance.now();
for (let i = 0; i < ROUNDS; i++) await sharp(sameAsJpeg).raw().toBuffer();
const jpegMs = (performance.now() - started) / ROUNDS;
const heic = { width: 600, height: 800, libheif_ms: Number(fmt(heicMs)), sharp_jpeg_ms: Number(fmt(jpegMs)) };
printTable(
  'HEIC decode, 600×800, mean of 20',
  ['decoder', 'ms'],
  [
    ['libheif-js (wasm) via heic-decode', heic.libheif_ms],
    ['sharp decoding the same picture as JPEG', heic.sharp_jpeg_ms],
  ],
);

const file = await writeResults('documents', {
  profile: PROFILE,
  documents: {
    text: '50 generated text pages (synthetic)',
    scans: '50 pages, each a real corpus image drawn over a Letter page (real content)',
  },
  speed,
  memory,
  heic,
});
console.log(`\nwrote ${path.relative(ROOT, file)}`);
