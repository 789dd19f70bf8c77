/**
 * `visionpipe run --pages each` (local, not --queue) as a real CLI process against a
 * loopback OpenAI-compatible server that answers slowly and counts its calls:
 * - page records stream out to results.jsonl as each page finishes: a run SIGKILLed
 *   mid-document (`--cache off`) keeps its finished pages, and the rerun pays only for the
 *   pages not finished before;
 * - one PDF's pages are sent side by side within `--concurrency` (more than one request in
 *   flight for one document), and a PDF's pages plus other inputs never exceed it.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRecords, runCli } from '../support/cli.js';
import { makePdf } from '../support/documents.js';
import { tempDir } from '../support/images.js';
import {
  type CompatibleServer,
  startCompatibleServer,
  writeSimplePattern,
} from '../support/openai-compatible.js';
import { startCli } from '../support/processes.js';

const ANSWER = JSON.stringify({ vendor_name: 'ACME', total: 12 });
const KEY = { OPENAI_API_KEY: 'sk-test-stream-pages' };

let server: CompatibleServer;
let dir: string;
let pattern: string;
/** Milliseconds each call takes to answer: set per test. */
let delayFor: (n: number) => number = () => 50;
/**
 * When set, a call is held until this many calls are in flight (or `holdMs` passed), so
 * calls sent side by side are seen together however slowly the machine renders pages.
 */
let holdUntil: number | undefined;
const holdMs = 4000;
let inFlight = 0;
let maxInFlight = 0;
const held: Array<() => void> = [];

function hold(): Promise<void> | undefined {
  if (holdUntil === undefined) return undefined;
  if (inFlight >= holdUntil) {
    for (const release of held.splice(0)) release();
    return undefined;
  }
  return new Promise((resolve) => {
    held.push(resolve);
    setTimeout(resolve, holdMs);
  });
}

beforeAll(async () => {
  server = await startCompatibleServer((_call, n) => {
    const delayMs = delayFor(n);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const wait = hold() ?? Promise.resolve();
    // The answer leaves after the hold and delayMs: the call is in flight until then.
    void wait.then(() =>
      setTimeout(() => {
        inFlight--;
      }, delayMs),
    );
    return { content: ANSWER, delayMs, hold: wait };
  });
  dir = await tempDir('visionpipe-stream-pages-');
  pattern = await writeSimplePattern(dir);
});
afterAll(async () => {
  await server.close();
});

function runArgs(inputs: string[], out: string, extra: string[]): string[] {
  return [
    'run',
    ...inputs,
    '--pattern',
    pattern,
    '--provider',
    'openai',
    '--model',
    'gpt-4o-mini',
    '--base-url',
    server.baseUrl,
    '--out',
    out,
    '--state-dir',
    path.join(path.dirname(out), 'state'),
    '--cache',
    'off',
    ...extra,
  ];
}

async function linesIn(file: string): Promise<number> {
  return readFile(file, 'utf8').then(
    (text) => text.split('\n').filter(Boolean).length,
    () => 0,
  );
}

describe('run --pages each streams page records (local run)', () => {
  it('a run SIGKILLed mid-document keeps its finished pages; the rerun pays only for the others', {
    timeout: 180_000,
  }, async () => {
    const PAGES = 12;
    const work = await tempDir('visionpipe-stream-kill-');
    const pdf = path.join(work, 'twelve.pdf');
    await writeFile(
      pdf,
      await makePdf(Array.from({ length: PAGES }, (_, i) => ({ lines: [`Kill test page ${i + 1}`] }))),
    );
    const out = path.join(work, 'results.jsonl');
    const mark = server.calls.length;
    // Each later call answers more slowly (0.3 s, 0.5 s, … 2.5 s): pages finish one by one
    // and the run lasts well past the moment the test sees its first pages, however loaded.
    delayFor = (n) => 300 + 200 * Math.max(0, n - mark - 1);
    const args = runArgs([pdf], out, ['--pages', 'each', '--concurrency', '2']);
    const first = startCli(args, KEY);
    const WANT = 3;
    const deadline = Date.now() + 90_000;
    while ((await linesIn(out)) < WANT) {
      if (Date.now() > deadline) throw new Error(`no ${WANT} records: ${first.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // Pages were written while the document was still being read: most were not even sent
    // yet (records held to the document's end would come after all 12 calls).
    const sentWhenSeen = server.calls.length - mark;
    expect(await first.stop('SIGKILL')).toBe('SIGKILL');
    expect(sentWhenSeen).toBeLessThan(PAGES);
    const kept = await readRecords(out);
    // The pages finished before the kill were written while the document was still being read.
    expect(kept.length).toBeGreaterThanOrEqual(WANT);
    expect(kept.length).toBeLessThan(PAGES);
    expect(kept.every((r) => r.status === 'ok' && r.page !== undefined)).toBe(true);
    // Each page record has its own time: its own read, which the server held ≥ 0.3 s.
    expect(kept.every((r) => r.latency_ms >= 290)).toBe(true);
    const paidBefore = server.calls.length - mark;

    delayFor = () => 20;
    const again = await runCli([...args, '--json'], { env: KEY, timeoutMs: 120_000 });
    expect(again.code, again.stderr).toBe(0);
    const lines = await readRecords(out);
    expect(lines.map((l) => l.page).sort((a, b) => Number(a) - Number(b))).toEqual(
      Array.from({ length: PAGES }, (_, i) => i + 1),
    );
    expect(lines.every((l) => l.status === 'ok')).toBe(true);
    // The rerun paid exactly for the pages that had not finished (in flight ones included).
    expect(server.calls.length - mark - paidBefore).toBe(PAGES - kept.length);
  });

  it("sends one PDF's pages side by side, within --concurrency, sharing it with other inputs", {
    timeout: 120_000,
  }, async () => {
    const work = await tempDir('visionpipe-stream-conc-');
    const pdf = path.join(work, 'four.pdf');
    await writeFile(
      pdf,
      await makePdf(Array.from({ length: 4 }, (_, i) => ({ lines: [`Concurrency page ${i + 1}`] }))),
    );
    delayFor = () => 50;
    // One PDF alone: more than one of its pages in flight at once (a call waits for a
    // second one; pages sent one at a time would each wait holdMs and never overlap).
    holdUntil = 2;
    maxInFlight = 0;
    const alone = await runCli(
      runArgs([pdf], path.join(work, 'alone.jsonl'), ['--pages', 'each', '--concurrency', '4']),
      { env: KEY },
    );
    expect(alone.code, alone.stderr).toBe(0);
    expect((await readRecords(path.join(work, 'alone.jsonl'))).map((r) => r.page).sort()).toEqual([
      1, 2, 3, 4,
    ]);
    expect(maxInFlight).toBeGreaterThan(1);
    expect(maxInFlight).toBeLessThanOrEqual(4);

    // The PDF and three images at --concurrency 3: calls held until 4 are in flight would
    // show a fourth at once; never more than 3 go.
    const colours = ['#880000', '#008800', '#000088'];
    for (const [i, name] of ['a', 'b', 'c'].entries()) {
      await sharp({ create: { width: 400, height: 300, channels: 3, background: colours[i]! } })
        .jpeg()
        .toFile(path.join(work, `${name}.jpg`));
    }
    holdUntil = 4;
    maxInFlight = 0;
    const mixed = await runCli(
      runArgs(
        [pdf, ...['a', 'b', 'c'].map((n) => path.join(work, `${n}.jpg`))],
        path.join(work, 'mixed.jsonl'),
        ['--pages', 'each', '--concurrency', '3'],
      ),
      { env: KEY },
    );
    holdUntil = undefined;
    expect(mixed.code, mixed.stderr).toBe(0);
    expect(await readRecords(path.join(work, 'mixed.jsonl'))).toHaveLength(7);
    expect(maxInFlight).toBeGreaterThan(1);
    expect(maxInFlight).toBeLessThanOrEqual(3);
  });
});
