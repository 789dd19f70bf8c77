/**
 * What `visionpipe run` says about its own setup: a mistyped --limiter is a usage error
 * whether or not a limit uses it, the "Resuming" line and the summary agree on how many
 * earlier results there were and how many were kept, and `--cache memory` says once that
 * nothing outlives the run. Real CLI processes, the local engine, real images.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Summary } from '../../src/runs/summary.js';
import { ROOT, runCli } from '../support/cli.js';
import { tempDir } from '../support/images.js';

const RECEIPT = path.join(ROOT, 'samples/patterns/receipt.yaml');
const GRADIENT = path.join(ROOT, 'samples/images/gradient-001.png'); // no text: quick to read
const NOISE = path.join(ROOT, 'samples/images/noise-001.jpg');

describe('--limiter is checked when given', () => {
  it('exits 2 on a mistyped scheme or kind without --rpm, naming the flag, the value and the closest spec', async () => {
    const work = await tempDir('visionpipe-work-');
    const scheme = await runCli(['run', GRADIENT, '-p', RECEIPT, '--limiter', 'redsi://127.0.0.1:6379'], {
      cwd: work,
    });
    expect(scheme.code).toBe(2);
    expect(scheme.stderr).toContain('--limiter "redsi://127.0.0.1:6379" must be memory or a redis://');
    expect(scheme.stderr).toContain('Did you mean "redis://127.0.0.1:6379"?');
    const kind = await runCli(['run', GRADIENT, '-p', RECEIPT, '--limiter', 'memroy'], { cwd: work });
    expect(kind.code).toBe(2);
    expect(kind.stderr).toMatch(/--limiter "memroy" .*Did you mean "memory"\?/);
    // The same check for a limiter from the config file.
    await writeFile(path.join(work, 'visionpipe.config.yaml'), 'limiter: redsi://cache:6379\n');
    const config = await runCli(['run', GRADIENT, '-p', RECEIPT], { cwd: work });
    expect(config.code).toBe(2);
    expect(config.stderr).toMatch(/limiter \(.*visionpipe\.config\.yaml\) "redsi:\/\/cache:6379"/);
    expect(config.stderr).toContain('Did you mean "redis://cache:6379"?');
  });
});

describe('resume and --cache memory say what is kept', () => {
  it('the Resuming line and the summary give the same earlier count, and the summary how many were kept', async () => {
    const work = await tempDir('visionpipe-work-');
    const first = await runCli(['run', GRADIENT, NOISE, '-p', RECEIPT], { cwd: work });
    expect(first.code, first.stderr).toBe(0);
    // One of the two inputs this time: 2 results on file, 1 kept.
    const one = await runCli(['run', GRADIENT, '-p', RECEIPT], { cwd: work });
    expect(one.stderr).toContain('Resuming: 2 results of an earlier run');
    expect(one.stdout).toContain(
      '1 kept from an earlier run (of 2 on file; 1 for inputs not given this time',
    );
    const json = JSON.parse(
      (await runCli(['run', GRADIENT, NOISE, '-p', RECEIPT, '--json'], { cwd: work })).stdout,
    );
    expect(json as Summary).toMatchObject({ earlier_results: 2, resumed: 2 });
    const both = await runCli(['run', GRADIENT, NOISE, '-p', RECEIPT], { cwd: work });
    expect(both.stderr).toContain('Resuming: 2 results');
    expect(both.stdout).toMatch(/2 kept from an earlier run with/);
  });

  it('--cache memory says once on stderr that nothing is kept between runs', async () => {
    const work = await tempDir('visionpipe-work-');
    const run = await runCli(['run', GRADIENT, '-p', RECEIPT, '--cache', 'memory', '--limiter', 'memory'], {
      cwd: work,
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr.match(/nothing is kept between runs/g)).toHaveLength(1);
    const sqlite = await runCli(['run', GRADIENT, '-p', RECEIPT, '--fresh'], { cwd: work });
    expect(sqlite.stderr).not.toContain('nothing is kept between runs');
  });
});
