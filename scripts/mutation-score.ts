/**
 * Summarises a StrykerJS JSON report (mutation-testing-report-schema) per file and in total,
 * prints a table and writes bench/results/mutation-<name>.json with the commit and time,
 * like the benches do. Usage: tsx scripts/mutation-score.ts <report.json> <name> [note]
 * Score = killed + timed out over killed + timed out + survived + no coverage (Stryker's own).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';

const reportSchema = z.object({
  files: z.record(z.string(), z.object({ mutants: z.array(z.object({ status: z.string() }).passthrough()) })),
});

const [reportFile, name, note] = process.argv.slice(2);
if (!reportFile || !name) throw new Error('usage: mutation-score.ts <report.json> <name> [note]');
const report = reportSchema.parse(JSON.parse(readFileSync(reportFile, 'utf8')));

interface Row {
  file: string;
  mutants: number;
  killed: number;
  timeout: number;
  survived: number;
  no_coverage: number;
  ignored: number;
  score: number;
}
const count = (file: string, mutants: Array<{ status: string }>): Row => {
  const of = (status: string) => mutants.filter((m) => m.status === status).length;
  const killed = of('Killed');
  const timeout = of('Timeout');
  const survived = of('Survived');
  const noCoverage = of('NoCoverage');
  const detected = killed + timeout;
  const valid = detected + survived + noCoverage;
  return {
    file,
    mutants: mutants.length,
    killed,
    timeout,
    survived,
    no_coverage: noCoverage,
    ignored: mutants.length - valid,
    score: valid === 0 ? 100 : Math.round((1000 * detected) / valid) / 10,
  };
};
const rows = Object.entries(report.files).map(([file, { mutants }]) => count(file, mutants));
const total = count(
  'total',
  Object.values(report.files).flatMap((f) => f.mutants),
);
console.table([...rows, total]);
const git = (...args: string[]) => execFileSync('git', args, { encoding: 'utf8' }).trim();
const out = path.join('bench/results', `mutation-${name}.json`);
writeFileSync(
  out,
  `${JSON.stringify(
    {
      name: `mutation-${name}`,
      date: new Date().toISOString(),
      commit: git('rev-parse', 'HEAD'),
      dirty: git('status', '--porcelain', '--untracked-files=no') !== '',
      machine: { node: process.version, cpus: os.cpus().length, load_average: os.loadavg() },
      tool: 'StrykerJS (stryker.security.config.mjs, vitest.mutation-security.config.ts)',
      note: note ?? null,
      rows,
      total,
    },
    null,
    2,
  )}\n`,
);
console.log(`wrote ${out}`);
