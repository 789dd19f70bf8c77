/**
 * A page of faded print is not blank (issue 17, "never pay for blank pages" must not drop
 * pages with content): grey text a person reads easily (75 % grey, the colour of a faded
 * thermal receipt) is sent, while a page holding only a lone page number stays blank.
 * A real PDF written with pdf-lib, the real CLI and the local engine.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../support/cli.js';
import { makePdf } from '../support/documents.js';
import { tempDir } from '../support/images.js';

describe('blank-page detection and faded print', () => {
  it('sends a page of 75 % grey text and still skips a page with only its number', async () => {
    const work = await tempDir('visionpipe-faint-');
    const pdf = await makePdf([
      { lines: ['INVOICE', 'ACME Supplies Ltd', 'Invoice No: INV-2041'] },
      { lines: ['Subtotal: 52.50', 'Tax: 10.50', 'Total: 63.00', 'Thank you for your business'], grey: 0.75 },
      { lines: ['3'] },
    ]);
    await writeFile(path.join(work, 'faded.pdf'), pdf);
    const args = ['run', 'faded.pdf', '-p', path.join(ROOT, 'samples/patterns/invoice.json')];
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
