/**
 * Two refusals a provider answers with 429, told apart everywhere a user reads them (issue 13):
 * - the provider's pacing (`rate_limit_exceeded` + Retry-After): waited out until the image's
 *   --max-retry-wait budget is spent, then RATE_LIMITED saying how long it waited over how
 *   many refusals; next step: --rpm / --max-retry-wait;
 * - a quota or billing refusal (`insufficient_quota`): not a rate, QUOTA_EXCEEDED at once,
 *   never counted among the run's 429s; next step: check the account.
 * Real CLI against a loopback OpenAI-compatible server (first call: quota, answered last; the
 * rest: rate limit).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FailureReport } from '../../src/runs/failures.js';
import type { Summary } from '../../src/runs/summary.js';
import { readRecords, runOpenAiCompatible } from '../support/cli.js';
import { type CompatibleServer, startCompatibleServer } from '../support/openai-compatible.js';
import { stopWorkFolder } from '../support/stop-work.js';

const NAMES = ['invoice1.jpg', 'invoice2.jpg'];
let server: CompatibleServer;
let work: string;

beforeAll(async () => {
  // The quota's answer comes last (held 6 s): a quota stops the provider's later calls, those
  // waiting out a pacing refusal included (flow/quota-stop.ts), so the pacing image must have
  // spent its 2 s budget before it arrives.
  server = await startCompatibleServer((_call, n) =>
    n === 1
      ? {
          delayMs: 6000,
          status: 429,
          errorBody: {
            error: {
              message: 'You exceeded your current quota, please check your plan and billing details.',
              type: 'insufficient_quota',
              code: 'insufficient_quota',
            },
          },
        }
      : {
          status: 429,
          headers: { 'retry-after': '1' },
          errorBody: {
            error: {
              message: 'Rate limit reached for requests',
              type: 'requests',
              code: 'rate_limit_exceeded',
            },
          },
        },
  );
  work = await stopWorkFolder('visionpipe-rate-or-quota-', NAMES);
});

afterAll(async () => {
  await server?.close();
});

describe('a 429 for pacing and a 429 for quota', () => {
  it('are two codes, two messages, two next steps, and only the pacing counts as 429s', async () => {
    const out = `${work}/results.jsonl`;
    const result = await runOpenAiCompatible('inputs', {
      pattern: 'pattern.json',
      baseUrl: server.baseUrl,
      out,
      extra: ['--cache', 'off', '--max-retry-wait', '2s'],
      cwd: work,
      env: { VISIONPIPE_PROGRESS_INTERVAL_MS: '100' },
    });
    expect(result.code, result.stderr).toBe(0);
    const records = await readRecords(out);
    const quota = records.find((r) => r.error?.code === 'QUOTA_EXCEEDED');
    const rate = records.find((r) => r.error?.code === 'RATE_LIMITED');
    expect(quota, JSON.stringify(records)).toBeDefined();
    expect(rate, JSON.stringify(records)).toBeDefined();
    expect(quota!.rate_limited.count).toBe(0);
    const refusals = rate!.rate_limited.count;
    expect(refusals).toBeGreaterThan(0);
    expect(rate!.error!.message).toMatch(
      new RegExp(
        `still rate limited after waiting [\\d.]+ s over ${refusals} refusals? \\(the provider's pacing, not a quota; refused calls are in rate_limited, not attempts\\).*--max-retry-wait budget of 2 s`,
      ),
    );
    // Every 429 the server answered for its rate, and only those, is a refusal on the progress line.
    expect(server.calls).toHaveLength(refusals + 1);
    const last = result.stderr
      .split('\n')
      .filter((l) => l.startsWith('run: '))
      .at(-1);
    expect(last).toContain(`${refusals} × 429`);
    const pacing = /^ {2}next \(RATE_LIMITED\): (.*)$/m.exec(result.stdout)?.[1];
    const account = /^ {2}next \(QUOTA_EXCEEDED\): (.*)$/m.exec(result.stdout)?.[1];
    expect(pacing, result.stdout).toMatch(/^the provider's pacing: .*--rpm.*--max-retry-wait/);
    expect(pacing).toContain('not a quota');
    expect(account, result.stdout).toMatch(/^not a rate limit: .*quota or billing.*check the account/);
  });

  it('--json: the refusals counted are the pacing ones, as in the records', async () => {
    const out = `${work}/json.jsonl`;
    const before = server.calls.length;
    const result = await runOpenAiCompatible('inputs', {
      pattern: 'pattern.json',
      baseUrl: server.baseUrl,
      out,
      extra: ['--cache', 'off', '--max-retry-wait', '2s', '--json', '--no-progress'],
      cwd: work,
    });
    const summary = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '') as Summary & {
      failures: FailureReport;
    };
    const records = await readRecords(out);
    expect(records.every((r) => r.error?.code === 'RATE_LIMITED')).toBe(true);
    expect(summary.rate_limited.count).toBe(server.calls.length - before);
    expect(summary.failures.next_steps.map((s) => s.code)).toEqual(['RATE_LIMITED']);
  });
});
