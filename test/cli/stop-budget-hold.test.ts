/**
 * Ctrl-C while the --max-cost-usd budget holds the next inputs back (issue 13): until the
 * first image that calls a provider is priced, the budget lets one in at a time, so the
 * others wait at its gate. A stop there ends the run once the image in flight finishes: its
 * record is written, no input held at the gate is started (none is sent, none is paid), the
 * summary says how many were not processed, exit 130. Real CLI against a loopback server
 * holding its first answer until the test has seen the stop.
 */
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRecords, runOpenAiCompatible } from '../support/cli.js';
import { type CompatibleServer, startCompatibleServer } from '../support/openai-compatible.js';
import { stopWorkFolder, until } from '../support/stop-work.js';

const NAMES = ['invoice1.jpg', 'invoice2.jpg', 'invoice3.jpg'];
let server: CompatibleServer;
let work: string;
let release: () => void = () => {};
const held = new Promise<void>((resolve) => {
  release = resolve;
});

beforeAll(async () => {
  server = await startCompatibleServer(() => ({ content: '{"total": 3}', hold: held }));
  work = await stopWorkFolder('visionpipe-stop-budget-', NAMES);
});

afterAll(async () => {
  release();
  await server?.close();
});

describe('Ctrl-C while the budget holds inputs at its gate', () => {
  it('writes the record in flight, starts none held, says the rest were not processed, exits 130', async () => {
    const out = path.join(work, 'results.jsonl');
    let stderr = '';
    const result = await runOpenAiCompatible('inputs', {
      pattern: 'pattern.json',
      baseUrl: server.baseUrl,
      out,
      extra: ['--cache', 'off', '--max-cost-usd', '5', '--concurrency', '3', '--no-progress'],
      cwd: work,
      onSpawn: (child: ChildProcess) => {
        child.stderr?.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
        });
        void (async () => {
          await until(() => server.calls.length >= 1);
          child.kill('SIGINT');
          await until(() => stderr.includes('Stopping'));
          release(); // the image in flight is answered after the stop
        })();
      },
    });
    expect(result.code, result.stderr).toBe(130);
    // The budget held the others: the first image alone was ever sent, before and after the stop.
    expect(server.calls).toHaveLength(1);
    const records = await readRecords(out);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ status: 'ok', output: { total: 3 } });
    expect(result.stdout).toMatch(/^stopped \(Ctrl-C\/SIGTERM\) after 1 of 3 inputs, 2 not processed/m);
  }, 120_000);
});
