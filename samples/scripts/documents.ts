/**
 * Writes samples/documents/invoice-2-pages.pdf: a two-page invoice whose total is printed
 * only on page 2, then a blank page (docs/documents.md runs it). Same bytes every run.
 *
 *   npx tsx samples/scripts/documents.ts
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { makePdf } from '../../test/support/documents.js';

export const INVOICE_PAGES = [
  {
    lines: [
      'ACME Supplies Ltd',
      'INVOICE',
      'Invoice No: INV-2041',
      'Invoice Date: 2024-03-05',
      '',
      'Description        Qty   Amount',
      'Widgets            2     40.00',
      'Bolts              10    12.50',
    ],
  },
  { lines: ['Page 2 of 2', '', 'Subtotal: 52.50', 'Tax: 10.50', 'Total: 63.00', 'Thank you'] },
  {},
];

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = path.resolve(import.meta.dirname, '../documents');
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'invoice-2-pages.pdf'), await makePdf(INVOICE_PAGES));
}
