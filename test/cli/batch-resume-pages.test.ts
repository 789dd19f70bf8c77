/**
 * `run --batch-api --pages each`, resumed: pages an earlier run already recorded on the same
 * `--out` are handed back and never asked of the batch API again. Real CLI processes, a
 * four-page PDF made in the test, the simulator's OpenAI batch endpoint, `--cache off`
 * (resume is the only thing that could spare a page).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import { openAiFlags, readRecords, runCli } from '../support/cli.js';
import { makePdf, numberedPages } from '../support/documents.js';
import { tempDir } from '../support/images.js';
import { writeJsonPattern } from '../support/patterns.js';

let sim: Simulator;
let folder: string;

beforeAll(async () => {
  sim = await startSimulator({
    latency: { minMs: 0, maxMs: 5 },
    answer: () => ({ title: 'x', total: 1 }),
  });
  folder = await tempDir('visionpipe-batch-resume-pages-');
  await writeFile(path.join(folder, 'report.pdf'), await makePdf(numberedPages(4, 12)));
  await writeJsonPattern(path.join(folder, 'pattern.json'), {
    name: 'document',
    instructions: 'Read the page.',
    schema: { title: 'string', total: 'number' },
  });
});
afterAll(async () => {
  await sim.close();
});

describe('run --batch-api --pages each, resumed over more pages', () => {
  it('asks the batch API only for the pages the first run did not record', async () => {
    const out = path.join(folder, 'results.jsonl');
    const base = [
      'run',
      path.join(folder, 'report.pdf'),
      '-p',
      path.join(folder, 'pattern.json'),
      ...openAiFlags(sim.baseUrls.openai, 'gpt-4o'),
      '--batch-api',
      '--batch-poll',
      '50ms',
      '--pages',
      'each',
      '--cache',
      'off',
      '--out',
      out,
      '--no-progress',
    ];
    const env = { OPENAI_API_KEY: 'sk-sim' };

    const first = await runCli([...base, '--page-range', '1-2'], { cwd: folder, env });
    expect(first.code, first.stderr).toBe(0);
    expect(sim.stats.batchRequests).toBe(2);
    expect((await readRecords(out)).map((r) => r.page).sort()).toEqual([1, 2]);

    const full = await runCli(base, { cwd: folder, env });
    expect(full.code, full.stderr).toBe(0);
    // Pages 3 and 4 only: pages 1 and 2 were paid for by the first run.
    expect(sim.stats.batchRequests - 2).toBe(2);
    const all = await readRecords(out);
    const byPage = new Map(all.map((r) => [r.page, r]));
    expect([...byPage.keys()].sort()).toEqual([1, 2, 3, 4]);
    expect(all.every((r) => r.status === 'ok')).toBe(true);
  }, 180_000);
});
