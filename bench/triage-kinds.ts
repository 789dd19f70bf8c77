/**
 * Local triage against document kinds: does `--triage local` let through the images a
 * pattern is for, and stop the others (a resume through a receipt pattern)?
 *
 * Every image of the shared corpus (47 real photos and scans of 11 kinds) and the synthetic
 * samples is read once by tesseract at the local triage resolution (1024 px long edge), the
 * pages kept in bench/.cache/triage-ocr.json; then each sample pattern judges every page,
 * with the type-aware judgement (src/providers/local/relevance.ts) beside the baseline it
 * replaced ("labels or ≥ 6 words", copied below as it was at 73e82e7). An image is relevant
 * to a pattern when its kind is the pattern's kind (file name prefix, samples/truth.jsonl).
 *
 *   npx tsx bench/triage-kinds.ts
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { loadPattern } from '../src/patterns/index.js';
import type { ObjectSchema, Pattern } from '../src/patterns/types.js';
import { findLabel, labelsFor } from '../src/providers/local/labels.js';
import { buildLayout } from '../src/providers/local/layout.js';
import { OcrEngine, type OcrPage } from '../src/providers/local/ocr-engine.js';
import { judgeRelevance } from '../src/providers/local/relevance.js';
import { currentCommit } from './provenance.js';
import { CACHE_DIR, machine, printTable, writeResults } from './support.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const CORPUS_DIR =
  process.env.VISIONPIPE_CORPUS_DIR ?? path.resolve(ROOT, '../../shared/corpus/imggo-test-images');
const OCR_CACHE = path.join(CACHE_DIR, 'triage-ocr.json');

/** Pattern → the image kinds it is for. */
const PATTERNS: Array<{ file: string; kinds: string[] }> = [
  { file: 'samples/patterns/invoice.json', kinds: ['invoice'] },
  { file: 'samples/patterns/receipt.yaml', kinds: ['receipt'] },
  { file: 'samples/patterns/resume.yaml', kinds: ['resume'] },
  { file: 'bench/corpus/patterns/vin.json', kinds: ['vin'] },
  { file: 'bench/corpus/patterns/prescription.json', kinds: ['prescription'] },
];

interface Page {
  name: string;
  kind: string;
  page: OcrPage;
}

/** The judgement this bench compares against: any strong label, or six readable words. */
function baseline(page: OcrPage, schema: ObjectSchema): boolean {
  const words = page.lines
    .flatMap((line) => line.words)
    .filter((w) => w.confidence >= 0.6 && (w.text.match(/[\p{L}\p{N}]/gu)?.length ?? 0) >= 3).length;
  const layout = buildLayout(page);
  for (const [key, node] of Object.entries(schema.properties)) {
    const strong = labelsFor(key, node).filter((label) => label.weight >= 0.75);
    if (findLabel(layout, strong).some((match) => match.score >= 0.8)) return true;
  }
  return words >= 6;
}

function kindOf(file: string): string {
  return path
    .basename(file)
    .replace(/[-_]?\d.*$/, '')
    .replace(/^car-plate$/, 'plate');
}

async function readPages(): Promise<Page[]> {
  try {
    return JSON.parse(await readFile(OCR_CACHE, 'utf8')) as Page[];
  } catch {}
  const files = [
    ...(await readdir(CORPUS_DIR))
      .filter((f) => /\.(jpe?g|png)$/i.test(f))
      .map((f) => path.join(CORPUS_DIR, f)),
    ...(await readdir(path.join(ROOT, 'samples/images'))).map((f) => path.join(ROOT, 'samples/images', f)),
  ];
  const engine = new OcrEngine({ workers: 2 });
  const pages: Page[] = [];
  await Promise.all(
    [0, 1].map(async (lane) => {
      for (let i = lane; i < files.length; i += 2) {
        const file = files[i]!;
        const image = await sharp(file)
          .rotate()
          .flatten({ background: '#ffffff' })
          .resize(1024, 1024, { fit: 'inside', withoutEnlargement: true })
          .jpeg({ quality: 85 })
          .toBuffer();
        pages.push({
          name: path.basename(file),
          kind: kindOf(file),
          page: await engine.recognize(image, file),
        });
      }
    }),
  );
  await engine.close();
  await mkdir(CACHE_DIR, { recursive: true });
  await writeFile(OCR_CACHE, JSON.stringify(pages));
  return pages;
}

interface Confusion {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
  wrong: string[];
}

function confusion(
  pages: Page[],
  pattern: Pattern,
  kinds: string[],
  judge: (p: OcrPage) => boolean,
): Confusion {
  const c: Confusion = { tp: 0, fp: 0, tn: 0, fn: 0, wrong: [] };
  for (const { name, kind, page } of pages) {
    const truth = kinds.includes(kind);
    const said = judge(page);
    if (truth && said) c.tp++;
    else if (truth) {
      c.fn++;
      c.wrong.push(`missed ${name}`);
    } else if (said) {
      c.fp++;
      c.wrong.push(`let through ${name}`);
    } else c.tn++;
  }
  void pattern;
  return c;
}

async function main() {
  const { commit, dirty } = currentCommit();
  const pages = await readPages();
  const rows: Array<Array<string | number>> = [];
  const results: Record<string, { baseline: Confusion; typed: Confusion }> = {};
  const totals = { baseline: { fp: 0, fn: 0 }, typed: { fp: 0, fn: 0 } };
  for (const { file, kinds } of PATTERNS) {
    const pattern = await loadPattern(path.join(ROOT, file));
    const base = confusion(pages, pattern, kinds, (page) => baseline(page, pattern.schema));
    const typed = confusion(pages, pattern, kinds, (page) => judgeRelevance(page, pattern).answer);
    results[pattern.name] = { baseline: base, typed };
    for (const [name, c] of [
      ['baseline (labels or 6 words)', base],
      ['type-aware', typed],
    ] as const) {
      rows.push([pattern.name, name, c.tp, c.fn, c.fp, c.tn]);
      const key = name === 'type-aware' ? 'typed' : 'baseline';
      totals[key].fp += c.fp;
      totals[key].fn += c.fn;
    }
  }
  printTable(
    `local triage on ${pages.length} images (real corpus and synthetic samples) at 1024 px`,
    [
      'pattern',
      'judgement',
      'relevant, let through',
      'relevant, stopped',
      'other kind, let through',
      'other kind, stopped',
    ],
    rows,
  );
  console.log(
    `\nother kinds let through: baseline ${totals.baseline.fp}, type-aware ${totals.typed.fp}; relevant stopped: baseline ${totals.baseline.fn}, type-aware ${totals.typed.fn}`,
  );
  for (const [name, r] of Object.entries(results))
    console.log(`${name} type-aware: ${r.typed.wrong.join(', ') || 'no mistakes'}`);
  const out = await writeResults('triage-kinds', {
    name: 'triage-kinds',
    date: new Date().toISOString(),
    commit: dirty ? `${commit}+dirty` : commit,
    machine: machine(),
    images: pages.map((p) => ({ name: p.name, kind: p.kind })),
    results,
    totals,
  });
  console.log(`wrote ${out}`);
}

await main();
