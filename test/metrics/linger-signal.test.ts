/**
 * `run --metrics-linger` and signals: a SIGTERM (a container being stopped) or a Ctrl-C
 * during the scrape window ends the process at once with its log closed, and a run that
 * was itself stopped by a signal does not linger at all. Without this the process sat out
 * the whole window (here 10 minutes, far past any orchestrator's grace period).
 */
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import { runOpenAiCompatible } from '../support/cli.js';
import { corpus, tempDir } from '../support/images.js';
import { scrape, total } from '../support/metrics-scrape.js';

let simulator: Simulator;
let work: string;

beforeAll(async () => {
  simulator = await startSimulator({ latency: { minMs: 10, maxMs: 30 }, answer: () => ({ total: 3 }) });
  work = await tempDir('visionpipe-linger-');
  await mkdir(path.join(work, 'inputs'));
  await copyFile(corpus('invoice1.jpg'), path.join(work, 'inputs', 'invoice1.jpg'));
  await writeFile(
    path.join(work, 'pattern.json'),
    JSON.stringify({ name: 'doc', format: 'json', instructions: 'Read.', json_schema: { total: 'number' } }),
  );
});

afterAll(async () => {
  await simulator?.close();
});

describe('run --metrics-linger', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`ends at once on ${signal} during the scrape window, log closed`, async () => {
      let stdout = '';
      let stderr = '';
      let scrapedEnd: number | undefined;
      const result = await runOpenAiCompatible('inputs', {
        pattern: 'pattern.json',
        baseUrl: simulator.baseUrls.openai,
        out: `${signal}.jsonl`,
        extra: [
          '--cache',
          'off',
          '--no-progress',
          '--json',
          '--log-file',
          `${signal}.log`,
          '--metrics-port',
          '0',
          '--metrics-linger',
          '10m',
        ],
        cwd: work,
        env: { OPENAI_API_KEY: 'sk-sim-linger' },
        onSpawn: (child) => {
          child.stderr?.on('data', (chunk: Buffer) => {
            stderr += chunk.toString();
          });
          child.stdout?.on('data', (chunk: Buffer) => {
            stdout += chunk.toString();
            if (scrapedEnd !== undefined || !stdout.includes('\n')) return;
            scrapedEnd = -1;
            // The window is open (a last scrape answers); then the orchestrator stops us.
            const url = /Metrics at (http:\/\/\S+)\/metrics/.exec(stderr)?.[1];
            void scrape(`${url}/metrics`).then(
              (families) => {
                scrapedEnd = total(families, 'visionpipe_run_in_progress');
                child.kill(signal);
              },
              () => child.kill(signal),
            );
          });
        },
      });
      // Without the fix the process outlives the test's timeout (it lingers 10 minutes).
      expect(result.code, result.stderr).toBe(0);
      expect(scrapedEnd).toBe(0);
      const log = await readFile(path.join(work, `${signal}.log`), 'utf8');
      expect(log).toMatch(/"event":"run\.end"/);
    }, 60_000);
  }
});
