/**
 * `visionpipe run … --queue` with documents: a coordinator process sends PDFs, a
 * multi-page TIFF and a HEIC photo to a real `visionpipe worker` process (real Redis with
 * a unique prefix, real PostgreSQL) whose provider is a loopback OpenAI-compatible server
 * counting its calls.
 * - `document` mode: one record per document with its page facts, one call each (the
 *   pages in one request), the blank page never sent; run again: nothing paid.
 * - `--pages each --page-range`: one record per selected page with `page`, a blank page
 *   skipped unpaid; widening the range later pays only for the new page.
 * - a coordinator SIGKILLed mid-run in `each` mode and run again: every page once in the
 *   results, each paid once.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRecords, runCli } from '../support/cli.js';
import { HEIC_SAMPLE, makePdf, multiPageTiff, textImage } from '../support/documents.js';
import { tempDir } from '../support/images.js';
import { type CompatibleServer, startCompatibleServer } from '../support/openai-compatible.js';
import { type Running, startCli } from '../support/processes.js';
import { type QueueTestbed, queueRunArgs, queueTestbed, startQueueWorker } from '../support/queue-run.js';

let server: CompatibleServer;
let testbed: QueueTestbed;
let env: Record<string, string>;
let patternFile: string;
let worker: Running;
/** Calls after this index answer ever more slowly, so a crash test's pages finish one by one. */
let staggerFrom = Number.POSITIVE_INFINITY;

const ANSWER = JSON.stringify({ invoice_number: 'INV-7', total: 63 });

/** Images sent in one call: every image_url part of its user message. */
function imagesIn(call: CompatibleServer['calls'][number]): number {
  return call.body.messages
    .flatMap((m) => (Array.isArray(m.content) ? m.content : []))
    .filter((part) => (part as { type?: string }).type === 'image_url').length;
}

function runArgs(inputs: string[], out: string, state: string, extra: string[] = []): string[] {
  return queueRunArgs(inputs, { pattern: patternFile, out, state }, extra);
}

beforeAll(async () => {
  server = await startCompatibleServer((_call, n) => ({
    content: ANSWER,
    delayMs: n > staggerFrom ? 150 + 400 * (n - staggerFrom) : 150,
  }));
  testbed = await queueTestbed('rqdocs', 'vprqd', {
    name: 'Invoice',
    instructions: 'Read the invoice',
    schema: { invoice_number: 'string', total: 'number' },
  });
  ({ env, pattern: patternFile } = testbed);
  worker = await startQueueWorker(testbed, server.baseUrl, 3);
});

afterAll(async () => {
  await worker?.stop('SIGTERM');
  await server?.close();
  await testbed?.close();
});

describe('run --queue with documents', () => {
  it('document mode: one record and one call per document, pages together, the blank page unpaid; again: nothing paid', {
    timeout: 180_000,
  }, async () => {
    const dir = await tempDir('rq-docs-document');
    await writeFile(
      path.join(dir, 'a.pdf'),
      await makePdf([{ lines: ['Invoice INV-7', 'Acme'] }, { lines: ['Total 63.00'] }, {}]),
    );
    await writeFile(
      path.join(dir, 'b.tiff'),
      await multiPageTiff([await textImage(['Invoice INV-8']), await textImage(['Total 9'])]),
    );
    await writeFile(path.join(dir, 'c.heic'), await readFile(HEIC_SAMPLE));
    const state = await tempDir('rq-docs-document-state');
    const out = path.join(state, 'results.jsonl');
    const mark = server.calls.length;
    const result = await runCli([...runArgs([dir], out, state), '--json'], { env, timeoutMs: 120_000 });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ total: 3, ok: 3, errors: 0 });
    const lines = await readRecords(out);
    const by = (name: string) => lines.find((l) => String(l.input).endsWith(name))!;
    expect(lines).toHaveLength(3);
    for (const line of lines) {
      expect(line.status).toBe('ok');
      expect(line.output).toEqual({ invoice_number: 'INV-7', total: 63 });
      expect(line.page).toBeUndefined();
    }
    expect(by('a.pdf')).toMatchObject({ pages: 3, pages_sent: 2, blank_pages: [3] });
    expect(by('b.tiff')).toMatchObject({ pages: 2, pages_sent: 2 });
    expect(by('c.heic')).toMatchObject({ pages: 1, pages_sent: 1 });
    const calls = server.calls.slice(mark);
    expect(calls).toHaveLength(3);
    expect(calls.map(imagesIn).sort()).toEqual([1, 2, 2]);

    // Another results file (no resume): the stored results come back, nobody is called.
    const again = await runCli(runArgs([dir], path.join(state, 'again.jsonl'), state), {
      env,
      timeoutMs: 120_000,
    });
    expect(again.code, again.stderr).toBe(0);
    expect((await readRecords(path.join(state, 'again.jsonl'))).map((l) => l.cache)).toEqual([
      'hit',
      'hit',
      'hit',
    ]);
    expect(server.calls.length - mark).toBe(3);
  });

  it('--pages each --page-range: one record per selected page with page; widening the range pays only the new page', {
    timeout: 180_000,
  }, async () => {
    const dir = await tempDir('rq-docs-each');
    const pdf = path.join(dir, 'four.pdf');
    await writeFile(
      pdf,
      await makePdf([
        { lines: ['Invoice INV-7'] },
        {},
        { lines: ['Line items'] },
        { lines: ['Total 63.00'] },
      ]),
    );
    const state = await tempDir('rq-docs-each-state');
    const out = path.join(state, 'results.jsonl');
    const mark = server.calls.length;
    const first = await runCli(runArgs([pdf], out, state, ['--pages', 'each', '--page-range', '1-3']), {
      env,
      timeoutMs: 120_000,
    });
    expect(first.code, first.stderr).toBe(0);
    const lines = await readRecords(out);
    expect(lines.map((l) => l.page).sort()).toEqual([1, 2, 3]);
    for (const line of lines) expect(line).toMatchObject({ input: pdf, pages: 4 });
    expect(lines.find((l) => l.page === 2)).toMatchObject({ status: 'skipped', pages_sent: 0, cache: null });
    expect(lines.filter((l) => l.status === 'ok')).toHaveLength(2);
    expect(server.calls.length - mark).toBe(2);
    for (const call of server.calls.slice(mark)) expect(imagesIn(call)).toBe(1);

    const wider = await runCli(runArgs([pdf], out, state, ['--pages', 'each', '--page-range', '1-4']), {
      env,
      timeoutMs: 120_000,
    });
    expect(wider.code, wider.stderr).toBe(0);
    expect(wider.stderr).toMatch(/Resuming: 3 results/);
    const all = await readRecords(out);
    expect(all.map((l) => l.page).sort()).toEqual([1, 2, 3, 4]);
    expect(server.calls.length - mark).toBe(3);
  });

  it('a bad page range and a PDF over --max-pages are error records naming the input; nothing is paid', {
    timeout: 120_000,
  }, async () => {
    const dir = await tempDir('rq-docs-bad');
    const pdf = path.join(dir, 'two.pdf');
    await writeFile(pdf, await makePdf([{ lines: ['a'] }, { lines: ['b'] }]));
    const state = await tempDir('rq-docs-bad-state');
    const mark = server.calls.length;
    const range = await runCli(
      runArgs([pdf], path.join(state, 'range.jsonl'), state, ['--pages', 'each', '--page-range', '5']),
      { env, timeoutMs: 60_000 },
    );
    expect(range.code, range.stderr).toBe(0);
    expect((await readRecords(path.join(state, 'range.jsonl')))[0]).toMatchObject({
      input: pdf,
      status: 'error',
      error: { code: 'PAGE_OUT_OF_RANGE' },
    });
    const many = await runCli(runArgs([pdf], path.join(state, 'many.jsonl'), state, ['--max-pages', '1']), {
      env,
      timeoutMs: 60_000,
    });
    expect(many.code, many.stderr).toBe(0);
    const [record] = await readRecords(path.join(state, 'many.jsonl'));
    expect(record).toMatchObject({ input: pdf, status: 'error', error: { code: 'TOO_MANY_PAGES' } });
    expect(String((record!.error as { message: string }).message)).toContain('two.pdf');
    expect(server.calls.length - mark).toBe(0);
  });

  it('each mode: a coordinator SIGKILLed mid-run and run again has every page once, each paid once', {
    timeout: 180_000,
  }, async () => {
    const dir = await tempDir('rq-docs-crash');
    const pdf = path.join(dir, 'eight.pdf');
    await writeFile(
      pdf,
      await makePdf(Array.from({ length: 8 }, (_, i) => ({ lines: [`Crash test page ${i + 1}`] }))),
    );
    const state = await tempDir('rq-docs-crash-state');
    const out = path.join(state, 'results.jsonl');
    const mark = server.calls.length;
    // Pages answered 0.55 s, 0.95 s, … 3.35 s after they are sent: the kill lands mid-run
    // however fast the machine (with one delay for all, every page could land at once).
    staggerFrom = mark;
    const args = runArgs([pdf], out, state, ['--pages', 'each']);
    const first = startCli(args, env);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const done = await readFile(out, 'utf8').then(
        (t) => t.split('\n').filter(Boolean).length,
        () => 0,
      );
      if (done >= 1) break;
      if (Date.now() > deadline) throw new Error(`no records: ${first.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await first.stop('SIGKILL')).toBe('SIGKILL');
    const kept = (await readRecords(out)).length;
    expect(kept).toBeLessThan(8);

    const again = await runCli([...args, '--json'], { env, timeoutMs: 120_000 });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/Resuming: \d+ results? /);
    const lines = await readRecords(out);
    expect(lines.map((l) => l.page).sort((a, b) => Number(a) - Number(b))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(lines.every((l) => l.status === 'ok')).toBe(true);
    // Pages sent before the crash finished meanwhile: they come back without a second call.
    expect(server.calls.length - mark).toBe(8);
    staggerFrom = Number.POSITIVE_INFINITY;
  });
});
