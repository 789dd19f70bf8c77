/**
 * One meaning per short flag (issue 13): `-o` is the results file of `run` only. In
 * `report` (an HTML file) and `optimize` (a folder) it is a usage error (exit 2) naming
 * the flag to use, also written joined to its value, and nothing is written. Real CLI.
 */
import { readdir } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { corpus, tempDir } from '../support/images.js';

let work: string;

beforeAll(async () => {
  work = await tempDir('visionpipe-short-flags-');
});

describe('-o outside run', () => {
  it.each([
    [
      'report',
      ['report', 'results.jsonl', '-o', 'r.html'],
      /unknown option '-o' \(report writes its HTML file to --out <file>; -o is run's results file\)/,
    ],
    [
      'report, joined',
      ['report', 'results.jsonl', '-or.html'],
      /unknown option '-or\.html' \(report writes its HTML file to --out <file>/,
    ],
    [
      'optimize',
      ['optimize', corpus('invoice1.jpg'), '-o', 'out'],
      /unknown option '-o' \(optimize writes to the folder --out-dir <dir>; -o is run's results file\)/,
    ],
  ] as const)(
    '%s: exit 2, the error names the long flag, nothing is written',
    async (_name, args, message) => {
      const result = await runCli([...args], { cwd: work });
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(await readdir(work)).toEqual([]);
    },
  );

  it('--help shows no -o in report or optimize, and -o, --out in run', async () => {
    for (const command of ['report', 'optimize']) {
      const help = await runCli([command, '--help']);
      expect(help.stdout, command).not.toMatch(/(^|\s)-o[\s,]/m);
    }
    const run = await runCli(['run', '--help']);
    expect(run.stdout).toMatch(/-o, --out <file>\s+results file/);
  });
});

describe('a flag of another command', () => {
  const invoice = 'samples/patterns/invoice.json';
  it.each([
    [
      'estimate -o',
      ['estimate', corpus('invoice1.jpg'), '-p', invoice, '-o', 'e.json'],
      /unknown option '-o' \(estimate writes no results file: it prints its table, or JSON with --json/,
    ],
    [
      'run --out-dir',
      ['run', corpus('invoice1.jpg'), '-p', invoice, '--out-dir', 'd'],
      /unknown option '--out-dir' \(run writes rendered outputs to --format-dir <dir>/,
    ],
    [
      'optimize --out',
      ['optimize', corpus('invoice1.jpg'), '--out', 'd'],
      /unknown option '--out' \(optimize writes to the folder --out-dir <dir>/,
    ],
    [
      'optimize --out=',
      ['optimize', corpus('invoice1.jpg'), '--out=d'],
      /unknown option '--out=d' \(optimize writes to the folder --out-dir <dir>/,
    ],
  ])('%s is a usage error naming the flag to use', async (_name, args, hint) => {
    const result = await runCli(args, { cwd: work });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(hint);
    expect(await readdir(work)).not.toContain('d');
  });

  it('cache clear -p is --pattern, as everywhere', async () => {
    const result = await runCli([
      'cache',
      'clear',
      '-p',
      'samples/patterns/invoice.json',
      '--state-dir',
      `${work}/state`,
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/removed 0 entries/);
  });
});
