/**
 * `run --cache off` as the issue 13 trial ran it: the summary says the run used no cache,
 * not "0 hits · 2 misses" (nothing was looked up); --json keeps its counts and adds `mode`.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Summary } from '../../src/runs/summary.js';
import { ROOT, runCli } from '../support/cli.js';
import { tempDir } from '../support/images.js';

const RECEIPT = path.join(ROOT, 'samples/patterns/receipt.yaml');
const IMAGES = ['receipt-002.png', 'receipt-004.jpg'].map((name) => path.join(ROOT, 'samples/images', name));

describe('visionpipe run --cache off summary', () => {
  it('says "cache off" in the text and mode "off" in --json, with no misses counted', async () => {
    const work = await tempDir('visionpipe-cache-off-');
    const args = ['run', ...IMAGES, '-p', RECEIPT, '--cache', 'off', '--no-progress'];
    const text = await runCli([...args, '--out', path.join(work, 'text.jsonl')], { cwd: work });
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^ {2}cache off · 0 dedup$/m);
    expect(text.stdout).not.toMatch(/misses/);

    const json = await runCli([...args, '--json', '--out', path.join(work, 'json.jsonl')], { cwd: work });
    expect(json.code).toBe(0);
    const summary = JSON.parse(json.stdout.trim().split('\n').at(-1)!) as Summary;
    expect(summary.cache).toEqual({ hits: 0, misses: 0, dedup: 0, near_dup: 0, mode: 'off' });

    // With a cache, the lookups are counted as before and the mode is named.
    const cached = await runCli(
      [
        'run',
        IMAGES[0]!,
        '-p',
        RECEIPT,
        '--cache',
        'memory',
        '--json',
        '--no-progress',
        '--out',
        path.join(work, 'memory.jsonl'),
      ],
      { cwd: work },
    );
    const withCache = JSON.parse(cached.stdout.trim().split('\n').at(-1)!) as Summary;
    expect(withCache.cache).toMatchObject({ hits: 0, misses: 1, mode: 'memory' });
  }, 120_000);
});
