/**
 * Resume never hands back a document record read from other pages (issue 11 §1, issue 17):
 * in `--pages document` mode the record is the answer for the pages selected, so
 * `--page-range` is part of the run's signature. Real CLI processes, the sample PDF, the
 * local engine, `--cache off` (resume is the only thing that could reuse the record).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../support/cli.js';
import { tempDir } from '../support/images.js';

const PDF = path.join(ROOT, 'samples/documents/invoice-2-pages.pdf');
const PATTERN = path.join(ROOT, 'samples/patterns/invoice.json');

async function records(file: string): Promise<Array<Record<string, unknown>>> {
  const text = await readFile(file, 'utf8');
  return text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('--pages document: another --page-range on the same --out', () => {
  it('is refused naming the page range, and --fresh reads only the pages asked for', async () => {
    const work = await tempDir('visionpipe-resume-range-');
    const base = ['run', PDF, '-p', PATTERN, '--cache', 'off', '--out', 'out.jsonl', '--no-progress'];
    const first = await runCli(base, { cwd: work });
    expect(first.code).toBe(0);
    const [whole] = await records(path.join(work, 'out.jsonl'));
    expect(whole?.pages_sent).toBe(2);

    const narrowed = await runCli([...base, '--page-range', '2'], { cwd: work });
    expect(narrowed.code).toBe(2);
    expect(narrowed.stderr).toMatch(/page range/);
    expect(narrowed.stderr).toContain('--fresh');

    const fresh = await runCli([...base, '--page-range', '2', '--fresh'], { cwd: work });
    expect(fresh.code).toBe(0);
    const [page2] = await records(path.join(work, 'out.jsonl'));
    expect(page2?.pages_sent).toBe(1);
    expect(page2?.output).toMatchObject({ invoice_number: null });

    // The same range again resumes: nothing is read twice.
    const again = await runCli([...base, '--page-range', '2', '--json'], { cwd: work });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ resumed: 1, processed: 0 });
  }, 120_000);
});
