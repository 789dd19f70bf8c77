/**
 * A page whose only text is its running marker is never a name (issue 11 §7): a real PDF
 * (pdf-lib) read through the real CLI with the local engine. Page 1 is an invoice, page 2
 * says only "Page 2 of 3", page 3 only "- 3 -"; no record may hand a marker back as the
 * vendor (or any other value), page by page or merged into one document record.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, readRecords, runCli } from '../support/cli.js';
import { makePdf } from '../support/documents.js';
import { tempDir } from '../support/images.js';

const PATTERN = path.join(ROOT, 'samples/patterns/invoice.json');
const MARKERS = /^(page\s*\d|-\s*\d+\s*-$|\d+\s*(of|\/)\s*\d+$)/i;

function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}

describe('a PDF page that holds only a page marker, through the CLI', () => {
  it('gives no marker as a value, page by page or merged', async () => {
    const work = await tempDir('visionpipe-page-marker-');
    const pdf = path.join(work, 'invoice-3-pages.pdf');
    await writeFile(
      pdf,
      await makePdf([
        {
          lines: [
            'Northwind Traders',
            '12 Harbour Street, Leeds',
            '',
            'INVOICE',
            'Invoice Number: INV-2044',
            'Invoice Date: 2024-03-15',
            'Total: $245.50',
            // The page's own marker at its foot, far below the invoice.
            ...Array<string>(24).fill(''),
            'Page 1 of 3',
          ],
        },
        { lines: ['Page 2 of 3'] },
        { lines: ['- 3 -'] },
      ]),
    );
    for (const mode of ['each', 'document']) {
      const out = `out-${mode}.jsonl`;
      const run = await runCli(
        ['run', pdf, '-p', PATTERN, '--pages', mode, '--cache', 'off', '--out', out, '--no-progress'],
        { cwd: work },
      );
      expect(run.code, run.stderr).toBe(0);
      const records = await readRecords(path.join(work, out));
      expect(records.length, mode).toBeGreaterThan(0);
      for (const record of records) {
        const output = record.output as Record<string, unknown> | null;
        for (const text of strings(output)) expect(text, `${mode} page ${record.page}`).not.toMatch(MARKERS);
        if (output)
          expect(String(output.vendor_name ?? ''), `${mode} page ${record.page}`).not.toMatch(/page|-\s*3/i);
      }
      // The first page's vendor is read, so the assertion above is about a working reader.
      const first = records.find((r) => (r.page ?? 1) === 1);
      expect((first?.output as Record<string, unknown> | undefined)?.vendor_name, mode).toBe(
        'Northwind Traders',
      );
    }
  }, 240_000);
});
