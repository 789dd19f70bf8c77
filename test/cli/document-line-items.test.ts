/**
 * Line items of every page survive `--pages document` with the local engine (issue 17):
 * a real 2-page PDF (pdf-lib) through the real CLI; page 1 has "Widgets 2 30.00", page 2
 * (its header repeated) "Gadgets 1 12.50". Both rows are in the one record, each read as
 * description, quantity, amount.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, readRecords, runCli } from '../support/cli.js';
import { makePdf } from '../support/documents.js';
import { tempDir } from '../support/images.js';

const PATTERN = path.join(ROOT, 'samples/patterns/invoice.json');

describe('a 2-page invoice PDF in document mode, through the CLI', () => {
  it("keeps both pages' line items, each row read by its shape", async () => {
    const work = await tempDir('visionpipe-doc-lines-');
    const pdf = path.join(work, 'invoice-2-pages.pdf');
    await writeFile(
      pdf,
      await makePdf([
        {
          lines: [
            'Northwind Traders',
            '',
            'INVOICE',
            'Invoice Number: INV-2044',
            'Invoice Date: 2024-03-15',
            '',
            'Description Qty Amount',
            'Widgets 2 30.00',
          ],
        },
        { lines: ['Description Qty Amount', 'Gadgets 1 12.50', '', 'Total: $42.50'] },
      ]),
    );
    const run = await runCli(
      [
        'run',
        pdf,
        '-p',
        PATTERN,
        '--pages',
        'document',
        '--cache',
        'off',
        '--out',
        'out.jsonl',
        '--no-progress',
      ],
      { cwd: work },
    );
    expect(run.code, run.stderr).toBe(0);
    const records = await readRecords(path.join(work, 'out.jsonl'));
    expect(records).toHaveLength(1);
    expect(records[0]?.status).toBe('ok');
    const output = records[0]?.output as { line_items: unknown[]; total: unknown };
    expect(output.line_items).toEqual([
      { description: 'Widgets', quantity: 2, unit_price: null, amount: 30 },
      { description: 'Gadgets', quantity: 1, unit_price: null, amount: 12.5 },
    ]);
    expect(output.total).toBe(42.5);
  }, 240_000);
});
