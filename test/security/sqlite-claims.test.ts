/**
 * Runs sharing one SQLite state folder (two `run`s, different `-o`, same `--state-dir`) pay
 * once per image (issue 12): the first to miss claims the key in the `claims` table of
 * cache.sqlite, the other waits and takes the stored result; a claim whose process was
 * killed is taken over and the work completes. Real CLI processes, a counting loopback
 * provider holding its answers, synthetic PNGs.
 */
import type { ChildProcess } from 'node:child_process';
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/pipeline/record.js';
import { type CliResult, readRecords, runCli } from '../support/cli.js';
import { tempDir } from '../support/images.js';
import { startCompatibleServer, writeSimplePattern } from '../support/openai-compatible.js';

const COLOURS = ['#a00', '#0a0', '#00a', '#aa0', '#0aa', '#a0a'];
const ENV = { OPENAI_API_KEY: 'sk-test-sqlite-claims-0000' };
const cleanup: Array<() => unknown> = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step();
});

/** Six distinct 24×24 PNGs and the simple pattern in a fresh folder. */
async function setup(): Promise<{ dir: string; images: string; pattern: string }> {
  const dir = await tempDir('vp-sqlite-claims-');
  const images = path.join(dir, 'images');
  await mkdir(images);
  for (const colour of COLOURS)
    await sharp({ create: { width: 24, height: 24, channels: 3, background: colour } })
      .png()
      .toFile(path.join(images, `${colour.slice(1)}.png`));
  return { dir, images, pattern: await writeSimplePattern(dir) };
}

function run(
  dir: string,
  images: string,
  pattern: string,
  out: string,
  baseUrl: string,
  onSpawn?: (child: ChildProcess) => void,
): Promise<CliResult> {
  return runCli(
    [
      'run',
      images,
      '-p',
      pattern,
      '-o',
      path.join(dir, out),
      '--state-dir',
      path.join(dir, 'state'),
      '--provider',
      'openai',
      '--base-url',
      baseUrl,
      '--concurrency',
      String(COLOURS.length + 1), // every image (and a duplicate) in flight at once
      '--no-progress',
    ],
    { env: ENV, ...(onSpawn ? { onSpawn } : {}) },
  );
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1200 && !condition(); i++) await new Promise((r) => setTimeout(r, 50));
  if (!condition()) throw new Error(`gave up waiting for ${what}`);
}
/**
 * Two runs (a.jsonl, b.jsonl) on the same images at once against a provider answering after
 * 1.5 s, so both are in flight together; they pay one call per distinct image. Their records.
 */
async function twoSlowRuns(dir: string, images: string, pattern: string): Promise<RunRecord[]> {
  const server = await startCompatibleServer(() => ({
    content: '{"vendor_name": "X", "total": 1}',
    delayMs: 1500,
  }));
  cleanup.push(() => server.close());
  const [a, b] = await Promise.all([
    run(dir, images, pattern, 'a.jsonl', server.baseUrl),
    run(dir, images, pattern, 'b.jsonl', server.baseUrl),
  ]);
  expect(a.code, a.stderr).toBe(0);
  expect(b.code, b.stderr).toBe(0);
  expect(server.calls).toHaveLength(COLOURS.length);
  return [
    ...(await readRecords(path.join(dir, 'a.jsonl'))),
    ...(await readRecords(path.join(dir, 'b.jsonl'))),
  ];
}

describe('runs sharing a SQLite state folder: in-flight claims', () => {
  it('two runs with different -o on the same six images pay six calls in all', async () => {
    const { dir, images, pattern } = await setup();
    // Slow answers keep both runs in flight together: without claims each pays for every image.
    const records = await twoSlowRuns(dir, images, pattern);
    expect(records).toHaveLength(2 * COLOURS.length);
    expect(
      records.every((r) => r.status === 'ok' && JSON.stringify(r.output) === '{"vendor_name":"X","total":1}'),
    ).toBe(true);
    expect(records.filter((r) => r.cache === 'miss')).toHaveLength(COLOURS.length);
    // Cache stats count one lookup per record, as the records say (a waiter's re-checks of
    // the cache are not lookups of their own): six misses paid, six hits taken from them.
    const stats = await runCli(['cache', 'stats', '--json', '--state-dir', path.join(dir, 'state')]);
    expect(stats.code, stats.stderr).toBe(0);
    expect(JSON.parse(stats.stdout).lookups.result).toEqual({
      hits: COLOURS.length,
      misses: COLOURS.length,
      hit_rate: 0.5,
    });
  }, 180_000);

  it('cache stats equal the records when a duplicate waits on a result taken from the other run', async () => {
    const { dir, images, pattern } = await setup();
    // A seventh file with the first one's bytes: inside each run it waits on its twin.
    await copyFile(path.join(images, `${COLOURS[0]?.slice(1)}.png`), path.join(images, 'twin.png'));
    const records = await twoSlowRuns(dir, images, pattern);
    expect(records).toHaveLength(2 * (COLOURS.length + 1));
    // Both twins of the run that waited are hits (one through the claim, one through its twin).
    const hits = records.filter((r) => r.cache === 'hit').length;
    expect(hits).toBe(COLOURS.length + 1);
    const stats = await runCli(['cache', 'stats', '--json', '--state-dir', path.join(dir, 'state')]);
    expect(stats.code, stats.stderr).toBe(0);
    const counted = JSON.parse(stats.stdout).lookups.result;
    expect({ hits: counted.hits, misses: counted.misses }).toEqual({
      hits,
      misses: records.length - hits,
    });
  }, 180_000);

  it('a claim holder killed mid-call: the waiting run takes over and completes', async () => {
    const { dir, images, pattern } = await setup();
    // The first six calls (the run to be killed) are never answered; later ones at once.
    let releaseHeld!: () => void;
    const held = new Promise<void>((resolve) => (releaseHeld = resolve));
    cleanup.push(() => releaseHeld());
    const server = await startCompatibleServer((_call, n) =>
      n <= COLOURS.length
        ? { content: '{"vendor_name": "X", "total": 1}', hold: held }
        : { content: '{"vendor_name": "Y", "total": 2}' },
    );
    cleanup.push(() => server.close());
    let holder: ChildProcess | undefined;
    const first = run(dir, images, pattern, 'a.jsonl', server.baseUrl, (child) => (holder = child));
    await until(() => server.calls.length >= COLOURS.length, 'the first run to call for every image');
    const second = run(dir, images, pattern, 'b.jsonl', server.baseUrl);
    // While the holder lives the second run waits on its claims instead of paying.
    await new Promise((r) => setTimeout(r, 3000));
    expect(server.calls).toHaveLength(COLOURS.length);
    holder?.kill('SIGKILL');
    const killed = await first;
    expect(killed.signal).toBe('SIGKILL');
    const done = await second;
    expect(done.code, done.stderr).toBe(0);
    const records = await readRecords(path.join(dir, 'b.jsonl'));
    expect(records).toHaveLength(COLOURS.length);
    expect(
      records.every((r) => r.status === 'ok' && JSON.stringify(r.output) === '{"vendor_name":"Y","total":2}'),
    ).toBe(true);
    // Six paid by the killed run (lost with it), at most six more by the one that took over.
    expect(server.calls.length).toBeGreaterThan(COLOURS.length);
    expect(server.calls.length).toBeLessThanOrEqual(2 * COLOURS.length);
  }, 180_000);
});
