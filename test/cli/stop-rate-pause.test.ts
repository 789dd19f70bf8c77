/**
 * A rate-limit pause, seen and stopped (issue 13). A loopback server answers the first two
 * calls and then refuses every call with 429 + a Retry-After longer than the run's stop grace:
 * - Ctrl-C while every call waits: the run stops without waiting the pause out (the server
 *   receives no call after the stop), the finished images' records are written, the held ones
 *   are ABORTED, the summary says the rest were not processed, exit 130 (README "CLI");
 * - on a terminal (script(1) gives the run a TTY), the progress output says it is waiting on
 *   the provider's rate limit while the pause lasts, and no dependency writes into it.
 */
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, openAiFlags, readRecords, runCommand, runOpenAiCompatible } from '../support/cli.js';
import { type CompatibleServer, startCompatibleServer } from '../support/openai-compatible.js';
import { stopWorkFolder, until } from '../support/stop-work.js';

const NAMES = ['invoice1.jpg', 'invoice2.jpg', 'invoice3.jpg', 'invoice4.jpg', 'invoice5.jpg'];
let server: CompatibleServer;
let work: string;
/** Calls answered before the refusals start (per server). */
const ANSWERED = 2;

/** Answers `ANSWERED` calls, then refuses `refusals` calls with a Retry-After of `seconds`, then answers. */
function pausingServer(seconds: number, refusals = Number.POSITIVE_INFINITY): Promise<CompatibleServer> {
  return startCompatibleServer((_call, n) =>
    n <= ANSWERED || n > ANSWERED + refusals
      ? { content: '{"total": 3}' }
      : {
          status: 429,
          headers: { 'retry-after': String(seconds) },
          errorBody: {
            error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' },
          },
        },
  );
}

beforeAll(async () => {
  server = await pausingServer(600);
  work = await stopWorkFolder('visionpipe-stop-pause-', NAMES);
});

afterAll(async () => {
  await server?.close();
});

describe('Ctrl-C while every call waits on a Retry-After', () => {
  it('stops without waiting the pause out, keeps the finished records, says what was left, exits 130', async () => {
    const out = path.join(work, 'results.jsonl');
    const result = await runOpenAiCompatible('inputs', {
      pattern: 'pattern.json',
      baseUrl: server.baseUrl,
      out,
      extra: ['--cache', 'off', '--concurrency', '2', '--max-retry-wait', '20m', '--no-progress'],
      cwd: work,
      onSpawn: (child: ChildProcess) => {
        void (async () => {
          // Two answered, one refused: the flow holds every call for the 600 s pause.
          await until(() => server.calls.length >= ANSWERED + 1);
          child.kill('SIGINT');
        })();
      },
    });
    // Waiting the pause out (600 s) would outlive the test's bound: it stopped within its grace.
    expect(result.code, result.stderr).toBe(130);
    const records = await readRecords(out);
    expect(records.filter((r) => r.status === 'ok')).toHaveLength(ANSWERED);
    expect(records.filter((r) => r.error?.code === 'ABORTED').length).toBeGreaterThan(0);
    expect(result.stdout).toMatch(
      new RegExp(
        `^stopped \\(Ctrl-C/SIGTERM\\) after ${ANSWERED} of ${NAMES.length} inputs, ${NAMES.length - ANSWERED} not processed`,
        'm',
      ),
    );
  }, 120_000);
});

describe('on a terminal, during the pause', () => {
  it('the progress output says it waits on the rate limit, with no dependency noise in it', async () => {
    const short = await pausingServer(2, 2);
    try {
      const args = [
        BIN,
        'run',
        'inputs',
        '--pattern',
        'pattern.json',
        ...openAiFlags(short.baseUrl),
        '--out',
        'tty.jsonl',
        '--cache',
        'off',
        '--concurrency',
        '2',
        '--max-retry-wait',
        '1m',
      ];
      const command = [process.execPath, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
      const tty = await runCommand('script', ['-qfc', command, '/dev/null'], {
        cwd: work,
        env: { ...process.env, NO_COLOR: '1', OPENAI_API_KEY: 'sk-test-tty' } as Record<string, string>,
      });
      expect(tty.code, tty.stdout).toBe(0);
      const lines = tty.stdout.split(/\r\n|\n|\r/);
      expect(
        lines.some((l) => /waiting \d+ s: rate limited by provider openai \(Retry-After\)/.test(l)),
        tty.stdout,
      ).toBe(true);
      expect(tty.stdout).toMatch(/run [█░]+ 5\/5 \|/); // the bar was drawn, to the end
      const noise = lines.filter((l) =>
        /\(node:\d+\)|Warning:|Error in |VIPS|vips|ExperimentalWarning|DeprecationWarning/.test(l),
      );
      expect(noise, tty.stdout).toEqual([]);
    } finally {
      await short.close();
    }
  }, 120_000);
});
