/**
 * Edges a fresh-user trial of documents found (issue 17): estimate on an all-blank PDF,
 * report's page totals, library document options checked at the edge, --page-range on a
 * single-page input. Real PDFs written with pdf-lib, the real CLI, the local engine.
 */
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createPipeline } from '../../src/pipeline/create-pipeline.js';
import { LocalProvider } from '../../src/providers/local.js';
import { ROOT, runCli } from '../support/cli.js';
import { makePdf } from '../support/documents.js';
import { failure } from '../support/failure.js';
import { corpus, tempDir } from '../support/images.js';
import { invoicePattern } from '../support/simulator-fixtures.js';

const PATTERN = path.join(ROOT, 'samples/patterns/invoice.json');

async function jsonl(file: string): Promise<Array<Record<string, unknown>>> {
  return (await readFile(file, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('an all-blank PDF: estimate, run and report agree that nothing is sent', () => {
  it('estimate says skip (0 pages, nothing to send), run writes skipped, report counts the pages', async () => {
    const work = await tempDir('visionpipe-all-blank-');
    await writeFile(path.join(work, 'blank.pdf'), await makePdf([{}, {}]));
    await writeFile(
      path.join(work, 'invoice.pdf'),
      await makePdf([{ lines: ['INVOICE', 'Invoice No: INV-7', 'Total: 12.00'] }, {}]),
    );
    const common = ['-p', PATTERN, '--provider', 'openai', '--model', 'gpt-4.1-mini', '--cache', 'off'];
    const estimated = await runCli(['estimate', 'blank.pdf', 'invoice.pdf', ...common, '--json'], {
      cwd: work,
    });
    expect(estimated.code, estimated.stderr).toBe(0);
    const { images, totals } = JSON.parse(estimated.stdout) as {
      images: Array<Record<string, unknown>>;
      totals: Record<string, unknown>;
    };
    const blank = images.find((i) => i.input === 'blank.pdf')!;
    expect(blank).toMatchObject({
      status: 'skip',
      pages: 2,
      pages_priced: 0,
      blank_pages: [1, 2],
      cost_usd: 0,
    });
    expect(totals).toMatchObject({ images: 2, to_send: 1, skipped: 1, document_pages: 1 });

    const run = await runCli(
      [
        'run',
        'blank.pdf',
        'invoice.pdf',
        '-p',
        PATTERN,
        '--cache',
        'off',
        '--out',
        'out.jsonl',
        '--no-progress',
      ],
      {
        cwd: work,
      },
    );
    expect(run.code, run.stderr).toBe(0);
    const records = await jsonl(path.join(work, 'out.jsonl'));
    const byInput = Object.fromEntries(records.map((r) => [r.input, r]));
    expect(byInput['blank.pdf']).toMatchObject({
      status: 'skipped',
      pages: 2,
      pages_sent: 0,
      blank_pages: [1, 2],
    });
    expect(byInput['invoice.pdf']).toMatchObject({ status: 'ok', pages: 2, pages_sent: 1, blank_pages: [2] });

    // report --json: the run summary's page totals, same definitions; and the text line.
    const report = await runCli(['report', 'out.jsonl', '--out', 'report.html', '--json'], { cwd: work });
    expect(report.code, report.stderr).toBe(0);
    const figures = JSON.parse(report.stdout) as { pages: unknown };
    expect(figures.pages).toEqual({ documents: 2, read: 1, blank: 3, skipped: 0 });
    const text = await runCli(['report', 'out.jsonl', '--out', 'report.html'], { cwd: work });
    expect(text.stdout).toMatch(/pages 1 read · 3 blank \(not sent\) · 0 skipped, in 2 documents/);
  }, 240_000);
});

describe('library document options are checked at the edge', () => {
  const local = new LocalProvider();
  it.each([
    [{ pages: 'sideways' }, 'pages'],
    [{ maxPages: 2.5 }, 'maxPages'],
    [{ maxPages: 0 }, 'maxPages'],
    [{ pageRange: '3-1' }, 'pageRange'],
    [{ pageRange: 'one' }, 'pageRange'],
    [{ pageRange: [{ from: 0 }] }, 'pageRange.0.from'],
    [{ pageRange: [] }, 'pageRange'],
    [{ page: 'each' }, 'page'],
  ])('%j is INVALID_OPTION naming %s', async (documents, option) => {
    const error = await failure(
      createPipeline({
        pattern: invoicePattern,
        provider: local,
        cache: { spec: 'off' },
        documents: documents as never,
      }),
    );
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.option).toBe(option);
  });
});

describe('--page-range on a single-page input', () => {
  it('a range that is only page 1 reads a JPEG; a range past page 1 is PAGE_OUT_OF_RANGE naming it, the rest read', async () => {
    const local = new LocalProvider();
    const bytes = await readFile(corpus('invoice1.jpg'));
    const one = await createPipeline({
      pattern: invoicePattern,
      provider: local,
      cache: { spec: 'off' },
      documents: { pageRange: '1' },
    });
    const read = await one.process({ bytes, name: 'invoice1.jpg' });
    await one.close();
    expect(read.status).toBe('ok');

    const work = await tempDir('visionpipe-jpeg-range-');
    await copyFile(corpus('invoice1.jpg'), path.join(work, 'photo.jpg'));
    await writeFile(
      path.join(work, 'two.pdf'),
      await makePdf([{ lines: ['INVOICE', 'Total: 5.00'] }, { lines: ['Page two', 'Total: 5.00'] }]),
    );
    const run = await runCli(
      [
        'run',
        'photo.jpg',
        'two.pdf',
        '-p',
        PATTERN,
        '--page-range',
        '2',
        '--cache',
        'off',
        '--out',
        'out.jsonl',
        '--no-progress',
      ],
      { cwd: work },
    );
    const records = await jsonl(path.join(work, 'out.jsonl'));
    const byInput = Object.fromEntries(records.map((r) => [r.input, r]));
    expect(byInput['photo.jpg']).toMatchObject({ status: 'error', error: { code: 'PAGE_OUT_OF_RANGE' } });
    expect((byInput['photo.jpg']!.error as { message: string }).message).toMatch(
      /^photo\.jpg: --page-range 2 asks for page 2 but the document has 1 page/,
    );
    expect(byInput['two.pdf']).toMatchObject({ status: 'ok', pages: 2, pages_sent: 1 });
  }, 240_000);
});
