/**
 * Blank-page detection keeps pages with little content and still skips blank scans
 * (issue 17: "never pay for blank pages" must not drop a page with real content). Real
 * PDFs written with pdf-lib, rendered by openDocument as run renders them; the scanned
 * blanks are a blank region of a real scan from the shared corpus and synthetic scanner
 * noise with dust. The CLI path (a tiny-content page is sent) is checked in the run below.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { openDocument } from '../../src/documents/document.js';
import { SIZE_PROFILES } from '../../src/image/profiles.js';
import { ROOT, runCli } from '../support/cli.js';
import { makePdf } from '../support/documents.js';
import { corpus, tempDir } from '../support/images.js';

const W = 1275;
const H = 1650;

/** A page-sized white image with SVG content drawn on it (a stamp, a word). */
async function drawn(body: string): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}"><rect width="100%" height="100%" fill="#fff"/>${body}</svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

/** Off-white paper with scanner noise (deterministic) and `specks` 2×2 dark dust specks, as a JPEG. */
async function noisyBlankScan(specks: number): Promise<Buffer> {
  const pixels = Buffer.alloc(W * H * 3);
  let seed = 12345;
  const random = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  for (let i = 0; i < W * H; i++) {
    const v = Math.max(0, Math.min(255, 236 + Math.round((random() + random() + random() - 1.5) * 30)));
    pixels[i * 3] = v;
    pixels[i * 3 + 1] = v - 3;
    pixels[i * 3 + 2] = v - 10;
  }
  for (let k = 0; k < specks; k++) {
    const x = Math.floor(random() * (W - 3));
    const y = Math.floor(random() * (H - 3));
    for (const [dx, dy] of [
      [0, 0],
      [1, 0],
      [0, 1],
      [1, 1],
    ] as const)
      pixels.fill(60, ((y + dy) * W + x + dx) * 3, ((y + dy) * W + x + dx) * 3 + 3);
  }
  return sharp(pixels, { raw: { width: W, height: H, channels: 3 } })
    .jpeg({ quality: 75 })
    .toBuffer();
}

/** A blank strip of a real scanned form (prescription1.jpg, under the last handwriting), stretched to a page. */
async function realBlankScan(): Promise<Buffer> {
  return sharp(corpus('prescription1.jpg'))
    .extract({ left: 80, top: 815, width: 560, height: 55 })
    .resize(W, H, { fit: 'fill' })
    .jpeg({ quality: 80 })
    .toBuffer();
}

async function blankness(pages: Parameters<typeof makePdf>[0]) {
  const doc = await openDocument(await makePdf(pages), 'pages.pdf', { limits: SIZE_PROFILES.anthropic });
  const out = [];
  for await (const page of doc) out.push({ page: page.page, blank: page.blank, ink: page.ink });
  doc.close();
  return out;
}

describe('blank-page detection', () => {
  it('a page with little content is not blank: one short word, one line, a small stamp, a page number and a line', async () => {
    const stamp = await drawn(
      '<circle cx="900" cy="1300" r="50" stroke="#c00" stroke-width="4" fill="none"/><text x="870" y="1308" font-family="DejaVu Sans" font-size="22" fill="#c00">PAID</text>',
    );
    const word = await drawn('<text x="110" y="150" font-family="DejaVu Sans" font-size="20">OK</text>');
    const pages = await blankness([
      { lines: ['Approved'] },
      { lines: ['Total due: 63.00'] },
      { scan: stamp },
      { scan: word },
      { lines: ['See attached', ...Array<string>(30).fill(''), '4'] },
    ]);
    expect(pages.map((p) => p.blank)).toEqual([false, false, false, false, false]);
  });

  it('a truly blank page is blank: white, a blank region of a real scan, scanner noise with dust, a lone page number', async () => {
    const pages = await blankness([
      {},
      { scan: await realBlankScan() },
      { scan: await noisyBlankScan(30) },
      { scan: await noisyBlankScan(200) },
      { lines: ['3'] },
    ]);
    expect(pages.map((p) => p.blank)).toEqual([true, true, true, true, true]);
    expect(pages[0]!.ink).toBe(0);
  });

  it('run sends a page holding one short line and skips the noisy scanned blank', async () => {
    const work = await tempDir('visionpipe-little-ink-');
    const pdf = await makePdf([
      { lines: ['INVOICE', 'Invoice No: INV-2041', 'Total: 63.00'] },
      { lines: ['Approved'] },
      { scan: await noisyBlankScan(30) },
    ]);
    await writeFile(path.join(work, 'short.pdf'), pdf);
    const args = ['run', 'short.pdf', '-p', path.join(ROOT, 'samples/patterns/invoice.json')];
    const result = await runCli([...args, '--cache', 'off', '--out', 'out.jsonl', '--no-progress'], {
      cwd: work,
    });
    expect(result.code).toBe(0);
    const record = JSON.parse(await readFile(path.join(work, 'out.jsonl'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(record).toMatchObject({ status: 'ok', pages: 3, pages_sent: 2, blank_pages: [3] });
  }, 120_000);
});
