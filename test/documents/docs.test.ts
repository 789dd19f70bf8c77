/**
 * docs/documents.md run as written: its shell block in bash in a scratch folder that sees
 * the samples (`npx visionpipe` pointed at this checkout), its TypeScript block through tsx
 * with `visionpipe` pointed at src/. What the prose promises is checked on the output.
 */
import { mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/pipeline/record.js';
import { BIN, ROOT, runCommand } from '../support/cli.js';

const DOC = path.join(ROOT, 'docs/documents.md');

function blocks(markdown: string): Array<{ lang: string; code: string }> {
  const found: Array<{ lang: string; code: string }> = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const body: string[] = [];
    for (i++; i < lines.length && !lines[i]!.startsWith('```'); i++) body.push(lines[i]!);
    found.push({ lang: open[1]!, code: body.join('\n') });
  }
  return found;
}

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function scratch(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'vp-docs-documents-'));
  dirs.push(dir);
  await symlink(path.join(ROOT, 'samples'), path.join(dir, 'samples'));
  return dir;
}

const readJsonl = async (file: string) =>
  (await readFile(file, 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as RunRecord);

describe('docs/documents.md', async () => {
  const all = blocks(await readFile(DOC, 'utf8'));

  it('the shell block: one record for the document, then one per page', async () => {
    const dir = await scratch();
    const script = all.find((b) => b.lang === 'sh')!.code.replaceAll('npx visionpipe', `node ${BIN}`);
    const run = await runCommand('bash', ['-euo', 'pipefail', '-c', script], {
      cwd: dir,
      env: { ...process.env, NO_COLOR: '1' },
      timeoutMs: 300_000,
    });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const [document] = await readJsonl(path.join(dir, 'invoice.jsonl'));
    expect(document).toMatchObject({ status: 'ok', pages: 3, pages_sent: 2, blank_pages: [3] });
    expect(document!.output).toMatchObject({ total: 63, invoice_number: 'INV-2041' });
    // Page records are written as each page finishes (a blank page, never sent, first): by page.
    const pages = (await readJsonl(path.join(dir, 'pages.jsonl'))).sort(
      (a, b) => (a.page as number) - (b.page as number),
    );
    expect(pages.map((r) => [r.input, r.page, r.status])).toEqual([
      ['samples/documents/invoice-2-pages.pdf', 1, 'ok'],
      ['samples/documents/invoice-2-pages.pdf', 2, 'ok'],
      ['samples/documents/invoice-2-pages.pdf', 3, 'skipped'],
    ]);
    expect(pages[2]!.reason).toMatch(/^blank page/);
  });

  it('the second shell block: optimize per page, estimate per page, resume without paying again', async () => {
    const dir = await scratch();
    const script = all.filter((b) => b.lang === 'sh')[1]!.code.replaceAll('npx visionpipe', `node ${BIN}`);
    const run = await runCommand('bash', ['-euo', 'pipefail', '-c', script], {
      cwd: dir,
      env: { ...process.env, NO_COLOR: '1' },
      timeoutMs: 300_000,
    });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const written = (await readdir(path.join(dir, 'pages-out'))).filter((f) => f.endsWith('.jpg')).sort();
    expect(written).toEqual([
      'invoice-2-pages.p001.jpg',
      'invoice-2-pages.p002.jpg',
      'invoice-2-pages.p003.jpg',
    ]);
    // The blank page 3 is not priced: run never sends it.
    expect(run.stdout).toMatch(/2 of 3 pages, 1 blank, \$[0-9.]+\/page/);
    const again = JSON.parse(await readFile(path.join(dir, 'again.json'), 'utf8')) as {
      resumed: number;
      tokens: { total: number };
      pages: { documents: number; read: number; blank: number; skipped: number };
    };
    expect(again.resumed).toBe(3);
    expect(again.pages).toEqual({ documents: 1, read: 2, blank: 1, skipped: 0 });
    const lines = await readJsonl(path.join(dir, 'each.jsonl'));
    expect(lines.map((r) => r.page).sort()).toEqual([1, 2, 3]);
  });

  it('the library block prints each page with its total', async () => {
    const dir = await scratch();
    const code = all
      .find((b) => b.lang === 'ts')!
      .code.replace("from 'visionpipe'", `from '${path.join(ROOT, 'src/index.ts')}'`);
    await writeFile(path.join(dir, 'example.mts'), code);
    const run = await runCommand(process.execPath, ['--import', import.meta.resolve('tsx'), 'example.mts'], {
      cwd: dir,
      timeoutMs: 300_000,
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.trim().split('\n')).toEqual(['page 1: ok, total null', 'page 2: ok, total 63']);
  });
});
