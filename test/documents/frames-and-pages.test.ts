/**
 * No page or frame dropped in silence (issue 11 §4, issue 17): animated GIF/WebP records say
 * which frame was read and how many there are; `optimize` writes every page of a document;
 * `estimate` prices every page; the summary counts pages; resume hands a document's page
 * records back instead of paying for them again. Real files made with sharp and pdf-lib.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INVOICE_PAGES } from '../../samples/scripts/documents.js';
import { sha256 } from '../../src/image/fingerprint.js';
import { resolvePreprocessOptions } from '../../src/image/options.js';
import { createPipeline } from '../../src/pipeline/create-pipeline.js';
import type { RunRecord } from '../../src/pipeline/record.js';
import { LocalProvider } from '../../src/providers/local.js';
import { OpenAIProvider } from '../../src/providers/openai.js';
import { estimateItem } from '../../src/runs/estimate.js';
import { optimizeInputs } from '../../src/runs/optimize.js';
import { OutputWriter } from '../../src/runs/output-paths.js';
import { PageTally } from '../../src/runs/page-tally.js';
import { planResume } from '../../src/runs/resume.js';
import { RunSummary } from '../../src/runs/summary.js';
import { makePdf, multiPageTiff, textImage } from '../support/documents.js';
import { tempDir } from '../support/images.js';
import { invoicePattern } from '../support/simulator-fixtures.js';

let local: LocalProvider;
let pdf: Buffer;
let frames: Buffer[];

beforeAll(async () => {
  local = new LocalProvider({ workers: 1 });
  pdf = await makePdf(INVOICE_PAGES);
  frames = [
    await textImage(['INVOICE', 'Invoice No: INV-7', 'Total: 12.50'], 600, 400),
    await textImage(['SALE', 'Everything must go'], 600, 400),
  ];
});
afterAll(async () => {
  await local.close();
});

/** The sample invoice PDF written into `dir`, as a run's input item. */
async function pdfItem(dir: string) {
  const file = path.join(dir, 'invoice.pdf');
  await writeFile(file, pdf);
  return { kind: 'file' as const, path: file, label: 'invoice.pdf', rel: 'invoice.pdf' };
}

describe('animated images: the record says which frame was read', () => {
  it.each(['gif', 'webp'] as const)('an animated %s: image.frames 2, image.frame 1', async (format) => {
    const animated = await sharp(frames, { join: { animated: true } })
      .toFormat(format)
      .toBuffer();
    expect((await sharp(animated).metadata()).pages).toBe(2);
    const pipeline = await createPipeline({
      pattern: invoicePattern,
      provider: local,
      cache: { spec: 'off' },
    });
    const record = await pipeline.process({ bytes: animated, name: `sale.${format}` });
    await pipeline.close();
    expect(record.error).toBeNull();
    expect(record.image).toMatchObject({ frames: 2, frame: 1 });
    // Said as a warning in the record and in the run's summary, not only as numbers.
    expect(record.warnings).toEqual(['frame 1 of 2 sent: the other frames were not read']);
    const summary = new RunSummary();
    summary.add(record);
    expect(summary.toJSON().warnings).toEqual([
      '1 animated input: frame 1 of each sent, the other frames not read',
    ]);
  });

  it('a still GIF has no frame fields', async () => {
    const still = await sharp(frames[0]).gif().toBuffer();
    const pipeline = await createPipeline({
      pattern: invoicePattern,
      provider: local,
      cache: { spec: 'off' },
    });
    const record = await pipeline.process({ bytes: still, name: 'still.gif' });
    await pipeline.close();
    expect(record.image).not.toHaveProperty('frames');
    expect(record).not.toHaveProperty('warnings');
    const summary = new RunSummary();
    summary.add(record);
    expect(summary.toJSON().warnings).toEqual([]);
  });
});

describe('optimize writes every page of a document', () => {
  it('a 2-page TIFF becomes name.p001.jpg and name.p002.jpg; its bytes count once', async () => {
    const dir = await tempDir('vp-optimize-pages-');
    const tiff = path.join(dir, 'in', 'scan.tiff');
    await mkdir(path.dirname(tiff), { recursive: true });
    await writeFile(tiff, await multiPageTiff(frames));
    const outDir = path.join(dir, 'out');
    const writer = await OutputWriter.create(outDir, []);
    const results = [];
    for await (const result of optimizeInputs(
      (async function* () {
        yield { kind: 'file' as const, path: tiff, label: 'scan.tiff', rel: 'scan.tiff' };
      })(),
      { writer, preprocess: resolvePreprocessOptions({ profile: 'max2048' }), concurrency: 1 },
    ))
      results.push(result);
    expect(results.map((r) => [r.status, r.page, r.pages])).toEqual([
      ['ok', 1, 2],
      ['ok', 2, 2],
    ]);
    expect((await readdir(outDir)).filter((f) => f.endsWith('.jpg')).sort()).toEqual([
      'scan.p001.jpg',
      'scan.p002.jpg',
    ]);
    expect(results[0]!.before).not.toBeNull();
    expect(results[1]!.before).toBeNull();
  });
});

describe('estimate prices every page run would send', () => {
  it('a 3-page PDF with a blank page: 2 pages priced, cost per page, page 1 sized for the profile', async () => {
    const provider = new OpenAIProvider({ apiKey: 'sk-test-0000', baseUrl: 'http://127.0.0.1:9/v1' });
    const pipeline = await createPipeline({
      pattern: invoicePattern,
      provider,
      model: 'gpt-4.1-mini',
      cache: { spec: 'off' },
    });
    const dir = await tempDir('vp-estimate-pages-');
    const item = await pdfItem(dir);
    const seen = new Set<string>();
    const { image } = await estimateItem(item, pipeline, seen, {});
    expect(image).toMatchObject({ status: 'send', pages: 3, pages_priced: 2, blank_pages: [3], error: null });
    expect(image.cost_usd).toBeGreaterThan(0);
    expect(image.cost_per_page_usd).toBeCloseTo(image.cost_usd! / 2, 6);
    const single = pipeline.plan(image.original!.width, image.original!.height);
    expect(image.image_tokens).toBe(single.tokens.image_tokens * 2);
    // The same file again is a duplicate, paid once.
    expect((await estimateItem(item, pipeline, seen, {})).image.status).toBe('duplicate');
    const ranged = await estimateItem(item, pipeline, new Set(), {
      pages: { pageRange: [{ from: 2, to: 2 }] },
    });
    expect(ranged.image).toMatchObject({ pages: 3, pages_priced: 1, blank_pages: [] });
    await pipeline.close();
    await provider.close();
  });
});

describe('summary page totals', () => {
  const base = { input: 'a.pdf', status: 'ok', reason: null } as unknown as RunRecord;
  it('document mode: read, blank and the rest skipped; each mode: page by page, documents once', () => {
    const tally = new PageTally();
    tally.add({ ...base, pages: 5, pages_sent: 2, blank_pages: [3] });
    tally.add({ ...base, input: 'b.pdf', page: 1, pages: 3, pages_sent: 1 });
    tally.add({
      ...base,
      input: 'b.pdf',
      page: 2,
      pages: 3,
      status: 'skipped',
      reason: 'blank page (ink 0 %)',
    });
    tally.add({ ...base, input: 'b.pdf', page: 3, pages: 3, status: 'skipped', reason: 'not an invoice' });
    tally.add({ ...base, input: 'photo.jpg' });
    expect(tally.toJSON()).toEqual({ documents: 2, read: 3, blank: 2, skipped: 3 });
    expect(new PageTally().toJSON()).toBeUndefined();
  });
});

describe('resume recognises document records', () => {
  it('--pages each: the kept pages come back as they were, a failed page is read again', async () => {
    const dir = await tempDir('vp-resume-pages-');
    const out = path.join(dir, 'out.jsonl');
    const signature = { pattern: 'p', provider: 'local', model: 'm', profile: 'x' };
    const pipeline = await createPipeline({
      pattern: invoicePattern,
      provider: local,
      cache: { spec: 'off' },
      documents: { pages: 'each' },
    });
    const item = await pdfItem(dir);
    const first = await pipeline.processItemAll(item);
    expect(first.map((r) => [r.page, r.status, r.attempts])).toEqual([
      [1, 'ok', 1],
      [2, 'ok', 1],
      [3, 'skipped', 0],
    ]);
    // The earlier run wrote pages 1 and 3; page 2 failed (its error line is not kept).
    const earlierRun = await planResume({ out, stateDir: dir, signature, fresh: false });
    earlierRun.writer.write(first[0]!);
    earlierRun.writer.write({ ...first[1]!, status: 'error', error: { code: 'TIMEOUT', message: 't' } });
    earlierRun.writer.write(first[2]!);
    for (const record of first) earlierRun.processed(record);
    await earlierRun.finish(false);

    await pipeline.close();
    // The second run: a new process, nothing in memory, no cache.
    const second = await createPipeline({
      pattern: invoicePattern,
      provider: local,
      cache: { spec: 'off' },
      documents: { pages: 'each' },
    });
    const plan = await planResume({ out, stateDir: dir, signature, fresh: false });
    const again = await second.processItemAll(item, undefined, (sha) => plan.reuse(item, sha));
    expect(again.map((r) => [r.page, r.status, r.attempts])).toEqual([
      [1, 'ok', 1],
      [2, 'ok', 1],
      [3, 'skipped', 0],
    ]);
    // Pages 1 and 3 are the earlier lines (same latency, nothing paid); page 2 was read now.
    expect(again[0]!.latency_ms).toBe(first[0]!.latency_ms);
    expect(again[0]!.document_sha256).toBe(first[0]!.document_sha256);
    plan.kept(again[0]!);
    plan.kept(again[2]!);
    plan.processed(again[1]!);
    plan.writer.write(again[1]!);
    await plan.finish(true);
    const lines = (await readFile(out, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as RunRecord);
    expect(lines.map((r) => [r.page, r.status]).sort()).toEqual([
      [1, 'ok'],
      [2, 'ok'],
      [3, 'skipped'],
    ]);

    // Another file under the same name: its page records are handed to the document stage,
    // which keeps a page only for the same rendered content, so this one is read.
    const otherPdf = await makePdf([{ lines: ['Another document'] }]);
    const changed: string[] = [];
    const again2 = await planResume({
      out,
      stateDir: dir,
      signature,
      fresh: false,
      onChanged: (label) => changed.push(label),
    });
    expect(again2.reuse(item, sha256(otherPdf))).toHaveLength(3);
    // The run says so (once): its earlier records are for another version and will be replaced.
    expect(again2.reuse(item, sha256(otherPdf))).toHaveLength(3);
    expect(changed).toEqual([item.label]);
    await writeFile(item.path, otherPdf);
    const other = await second.processItemAll(item, undefined, (sha) => again2.reuse(item, sha));
    expect(other.map((r) => [r.page, r.pages, r.attempts, r.document_sha256])).toEqual([
      [1, 1, 1, sha256(otherPdf)],
    ]);
    await again2.finish(false);
    await second.close();
  });

  it('--pages document: the document record is handed back for the same file', async () => {
    const pipeline = await createPipeline({
      pattern: invoicePattern,
      provider: local,
      cache: { spec: 'off' },
    });
    const dir = await tempDir('vp-resume-document-');
    const item = await pdfItem(dir);
    const [record] = await pipeline.processItemAll(item);
    expect(record!.document_sha256).toBeDefined();
    expect(record!.document_sha256).toBe(sha256(pdf));
    const [again] = await pipeline.processItemAll(item, undefined, (sha) =>
      sha === record!.document_sha256 ? record : undefined,
    );
    expect(again).toBe(record);
    await pipeline.close();
  });
});
