/**
 * `run --watch DIR` as a user runs it: a real process watching a temp folder while this
 * test writes images into it (one slowly, in two halves), then Ctrl-C / SIGTERM.
 */
import { appendFile, mkdir, readFile, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/pipeline/record.js';
import type { Summary } from '../../src/runs/summary.js';
import { ROOT } from '../support/cli.js';
import { tempDir } from '../support/images.js';
import { startCli } from '../support/processes.js';

const RECEIPT = path.join(ROOT, 'samples/patterns/receipt.yaml');

async function records(file: string): Promise<RunRecord[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line.endsWith('}'))
    .map((line) => JSON.parse(line) as RunRecord);
}

/** Polls the results file until it holds `count` records (bounded: 600 × 200 ms). */
async function untilRecords(file: string, count: number): Promise<RunRecord[]> {
  for (let i = 0; i < 600; i++) {
    const found = await records(file);
    if (found.length >= count) return found;
    await sleep(200);
  }
  throw new Error(`${file} never reached ${count} records: ${JSON.stringify(await records(file))}`);
}

describe('visionpipe run --watch', () => {
  it('processes files already there and each new or changed one, waits out partial writes, pays once, stops cleanly on Ctrl-C', async () => {
    const dir = await tempDir('visionpipe-watch-');
    const inbox = path.join(dir, 'inbox');
    await mkdir(inbox);
    const first = await readFile(path.join(ROOT, 'samples/images/receipt-002.png'));
    const second = await readFile(path.join(ROOT, 'samples/images/receipt-004.jpg'));
    await writeFile(path.join(inbox, 'a.png'), first);
    const out = path.join(dir, 'results.jsonl');
    const run = startCli(
      [
        'run',
        '--watch',
        'inbox',
        '-p',
        RECEIPT,
        '--out',
        out,
        '--watch-stable',
        '1500ms',
        '--json',
        '--no-progress',
      ],
      {},
      dir,
    );
    await run.waitFor(/Watching inbox \(1 file there now\)/);
    const [existing] = await untilRecords(out, 1);
    expect(existing).toMatchObject({ input: path.join(inbox, 'a.png'), status: 'ok', cache: 'miss' });

    // A file arriving slowly: half now, the rest a little later. Read half way, it would be
    // a DECODE_FAILED record; it must be read once, whole.
    const slow = path.join(inbox, 'b.jpg');
    await writeFile(slow, second.subarray(0, Math.floor(second.length / 2)));
    await sleep(400);
    await appendFile(slow, second.subarray(Math.floor(second.length / 2)));
    const afterSlow = await untilRecords(out, 2);
    expect(afterSlow[1]).toMatchObject({ input: slow, status: 'ok', sha256: expect.any(String) });

    // The same bytes under another name, and a rewrite of a.png with its own bytes: no new call.
    await writeFile(path.join(inbox, 'copy.png'), first);
    const afterCopy = await untilRecords(out, 3);
    expect(afterCopy[2]).toMatchObject({ input: path.join(inbox, 'copy.png'), status: 'ok' });
    expect(['hit', 'dedup']).toContain(afterCopy[2]!.cache); // never a second call
    // Hidden files (editors' temp files) and the results are never inputs.
    await writeFile(path.join(inbox, '.partial.png'), first.subarray(0, 100));

    // A changed file is read again.
    await writeFile(path.join(inbox, 'a.png'), second);
    const afterChange = await untilRecords(out, 4);
    expect(afterChange[3]).toMatchObject({ input: path.join(inbox, 'a.png'), status: 'ok' });
    expect(afterChange[3]!.sha256).toBe(afterSlow[1]!.sha256);
    expect(['hit', 'dedup']).toContain(afterChange[3]!.cache);

    const code = await run.stop('SIGINT');
    expect(code).toBe(0);
    const summary = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as Summary;
    // a.png's second record replaces its first: three paths, three records counted.
    expect(summary).toMatchObject({ total: 3, ok: 3, errors: 0, superseded: 1 });
    expect(summary.cache.misses).toBe(2); // two different contents: two calls, no more
    expect((await records(out)).map((r) => path.basename(r.input))).toEqual([
      'a.png',
      'b.jpg',
      'copy.png',
      'a.png',
    ]);
  }, 180_000);

  it('counts the latest record of a path: a file read half written, then whole, is no failure; a touch is no new input', async () => {
    const dir = await tempDir('visionpipe-watch-');
    const inbox = path.join(dir, 'inbox');
    await mkdir(inbox);
    const png = await readFile(path.join(ROOT, 'samples/images/receipt-002.png'));
    const jpg = await readFile(path.join(ROOT, 'samples/images/receipt-004.jpg'));
    await writeFile(path.join(inbox, 'a.png'), png);
    const out = path.join(dir, 'results.jsonl');
    const run = startCli(
      [
        'run',
        '--watch',
        'inbox',
        '-p',
        RECEIPT,
        '--out',
        out,
        '--watch-stable',
        '1s',
        '--json',
        '--no-progress',
      ],
      {},
      dir,
    );
    await run.waitFor(/Watching inbox \(1 file there now\)/);
    await untilRecords(out, 1);
    // Half the file, then the rest only after it looked stable: read once truncated, once whole.
    const slow = path.join(inbox, 'b.jpg');
    await writeFile(slow, jpg.subarray(0, Math.floor(jpg.length / 2)));
    await untilRecords(out, 2);
    await appendFile(slow, jpg.subarray(Math.floor(jpg.length / 2)));
    const afterSlow = await untilRecords(out, 3);
    expect(afterSlow.slice(1).map((r) => [path.basename(r.input), r.status])).toEqual([
      ['b.jpg', 'error'],
      ['b.jpg', 'ok'],
    ]);
    // A touch (same bytes, new mtime) is no new input; the next file shows the watch went on.
    const now = new Date();
    await utimes(path.join(inbox, 'a.png'), now, now);
    await sleep(300); // the touch is seen before the next file (ordering, not an assertion)
    await writeFile(path.join(inbox, 'c.png'), png);
    const all = await untilRecords(out, 4);
    expect(all.map((r) => path.basename(r.input))).toEqual(['a.png', 'b.jpg', 'b.jpg', 'c.png']);

    expect(await run.stop('SIGINT')).toBe(0);
    const summary = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as Summary & {
      failures: { count: number; later_succeeded?: number; first: unknown[] };
    };
    expect(summary).toMatchObject({ total: 3, inputs: 3, ok: 3, errors: 0, success_rate: 1, superseded: 1 });
    expect(summary.errors_by_code).toEqual({});
    expect(summary.failures).toMatchObject({ count: 0, later_succeeded: 1, first: [] });
  }, 180_000);

  it('Ctrl-C before the files already there were read is a stopped run (130) that counts them', async () => {
    const dir = await tempDir('visionpipe-watch-');
    const inbox = path.join(dir, 'inbox');
    await mkdir(inbox);
    const png = await readFile(path.join(ROOT, 'samples/images/receipt-002.png'));
    await writeFile(path.join(inbox, 'a.png'), png);
    await writeFile(path.join(inbox, 'b.png'), png);
    // --watch-stable 10m: the files found are not handed out before the Ctrl-C.
    const args = ['run', '--watch', 'inbox', '-p', RECEIPT, '--watch-stable', '10m', '--no-progress'];
    const run = startCli([...args, '--json'], {}, dir);
    await run.waitFor(/Watching inbox \(2 files there now\)/);
    expect(await run.stop('SIGINT')).toBe(130);
    const summary = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as Summary;
    expect(summary).toMatchObject({ total: 0, inputs: 2, stopped: 'signal', not_processed: 2 });

    const text = startCli(args, {}, dir);
    await text.waitFor(/Watching inbox \(2 files there now\)/);
    expect(await text.stop('SIGINT')).toBe(130);
    expect(text.stdout).toMatch(/^stopped \(Ctrl-C\/SIGTERM\) after 0 of 2 inputs, 2 not processed/m);
  }, 60_000);

  it('SIGTERM while idle prints the summary and exits 0; a missing folder is a usage error', async () => {
    const dir = await tempDir('visionpipe-watch-');
    await mkdir(path.join(dir, 'empty'));
    const run = startCli(['run', '--watch', 'empty', '-p', RECEIPT, '--no-progress'], {}, dir);
    await run.waitFor(/Watching empty \(0 files there now\)/);
    expect(await run.stop('SIGTERM')).toBe(0);
    expect(run.stdout).toMatch(/^0 inputs: no image processed/m);
    expect(run.stdout).not.toContain('stopped early');

    const missing = startCli(['run', '--watch', 'nothere', '-p', RECEIPT], {}, dir);
    expect(await missing.exited).toBe(2);
    expect(missing.stderr).toMatch(/^error \[NOT_FOUND\]: --watch nothere: no such directory/m);
    const clash = startCli(['run', 'a.png', '--watch', 'empty', '-p', RECEIPT], {}, dir);
    expect(await clash.exited).toBe(2);
    expect(clash.stderr).toContain('--watch cannot be combined with input arguments');
  }, 60_000);
});
