/**
 * `report` carries the run summary's rate-limit figures (issue 13): `held_ms` and `paced_ms`,
 * which no record holds, come from the run's log (`report --log`) or the run itself (`run
 * --report`), equal to the summary's, in `--json`, the text line and the HTML; without a
 * log they are null and the text says where to find them. Real CLI processes against a
 * loopback server answering 429 + Retry-After first.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Summary } from '../../src/runs/summary.js';
import { runCli, runOpenAiCompatible } from '../support/cli.js';
import { tempDir } from '../support/images.js';
import {
  type CompatibleServer,
  startCompatibleServer,
  writeSimplePattern,
} from '../support/openai-compatible.js';
import { solidJpeg } from '../support/simulator-fixtures.js';

const ANSWER = JSON.stringify({ vendor_name: 'Harbour Cafe', total: 3.5 });
let work: string;
let server: CompatibleServer;

beforeAll(async () => {
  work = await tempDir('visionpipe-report-waits-');
  await writeSimplePattern(work);
  for (let i = 0; i < 2; i++)
    await writeFile(path.join(work, `r-${i}.jpg`), await solidJpeg(60 + i, 40, '#335577'));
  server = await startCompatibleServer((_call, n) =>
    n <= 2 ? { status: 429, headers: { 'retry-after': '2' } } : ANSWER,
  );
});

afterAll(async () => {
  await server?.close();
});

/** The `data-value` of one headline figure of a report. */
function figureOf(html: string, name: string): number {
  const match = new RegExp(`data-figure="${name}" data-value="([\\d.]+)"`).exec(html);
  if (!match) throw new Error(`no ${name} figure`);
  return Number(match[1]);
}

describe('report and the rate-limit waits', () => {
  it('held_ms and paced_ms as the run summary: from --log, and from run --report; null without', async () => {
    const run = await runOpenAiCompatible(['r-0.jpg', 'r-1.jpg'], {
      pattern: 'simple.yaml',
      baseUrl: server.baseUrl,
      out: 'results.jsonl',
      extra: [
        ...['--cache', 'off', '--concurrency', '2', '--no-progress', '--json'],
        ...['--log-file', 'run.log', '--report', 'live.html'],
      ],
      cwd: work,
    });
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '') as Summary;
    const { held_ms: held, paced_ms: paced } = summary.rate_limited;
    expect(held).toBeGreaterThanOrEqual(1000); // the 2 s Retry-After held both calls

    const fromLog = await runCli(
      ['report', 'results.jsonl', '--log', 'run.log', '--out', 'r.html', '--json'],
      {
        cwd: work,
      },
    );
    expect(fromLog.code, fromLog.stderr).toBe(0);
    const figures = JSON.parse(fromLog.stdout) as { rate_limited: Record<string, number | null> };
    expect(figures.rate_limited).toMatchObject({ held_ms: held, paced_ms: paced, count: 2 });
    expect(figureOf(await readFile(path.join(work, 'r.html'), 'utf8'), 'held_ms')).toBe(held);
    expect(figureOf(await readFile(path.join(work, 'live.html'), 'utf8'), 'held_ms')).toBe(held);

    const text = await runCli(['report', 'results.jsonl', '--log', 'run.log', '--out', 'r.html'], {
      cwd: work,
    });
    expect(text.stdout).toMatch(
      /^ {2}waiting on rate limit: held [\d.]+ s \(wall time with a call held\) · calls waited .* · 2 × refused/m,
    );

    const noLog = await runCli(['report', 'results.jsonl', '--out', 'r.html', '--json'], { cwd: work });
    expect(JSON.parse(noLog.stdout).rate_limited).toMatchObject({ held_ms: null, paced_ms: null, count: 2 });
    const noLogText = await runCli(['report', 'results.jsonl', '--out', 'r.html'], { cwd: work });
    expect(noLogText.stdout).toContain(
      "held and paced time: not in the records, add --log <the run's --log-file>",
    );
  }, 120_000);
});
