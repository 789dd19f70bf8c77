/**
 * A Ctrl-C while every call waits on a Retry-After (issue 13): the stopped summary, text and
 * `--json`, agrees with the records written and with what went over the wire, and the last
 * progress line agrees with the summary.
 * - refused calls are provider calls: "latency: no answered call (N refused)", never "no
 *   provider call in this run" beside "N × refused";
 * - bytes sent are the images the server received (a refused call carried its image), not
 *   an image held before its first send;
 * - the last progress line says "0 errors, 3 aborted, stopped", not "3/3, 3 errors, waiting 15 s".
 * The server refuses every call with `retry-after: 15`; the test waits for states (calls
 * received, "Stopping"), never for a time.
 */
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/pipeline/record.js';
import type { Summary } from '../../src/runs/summary.js';
import { readRecords, runOpenAiCompatible } from '../support/cli.js';
import { type ChatCall, type CompatibleServer, startCompatibleServer } from '../support/openai-compatible.js';
import { stopWorkFolder, until } from '../support/stop-work.js';

const NAMES = ['invoice1.jpg', 'invoice2.jpg', 'invoice3.jpg'];
let server: CompatibleServer;
let work: string;

beforeAll(async () => {
  server = await startCompatibleServer(() => ({
    status: 429,
    headers: { 'retry-after': '15' },
    errorBody: { error: { message: 'Rate limit reached', type: 'rate_limit_error' } },
  }));
  work = await stopWorkFolder('visionpipe-stop-numbers-', NAMES);
});

afterAll(async () => {
  await server?.close();
});

/** The image bytes of each distinct image the server received (a call sent again counts once). */
function imagesReceived(calls: readonly ChatCall[]): number[] {
  const seen = new Map<string, number>();
  for (const call of calls) {
    const text = JSON.stringify(call.body.messages);
    const data = /data:image\/[a-z]+;base64,([A-Za-z0-9+/=]+)/.exec(text)?.[1];
    if (data) seen.set(data, Buffer.from(data, 'base64').length);
  }
  return [...seen.values()];
}

/** Ctrl-C once `calls` refused calls were received; again once the run says "Stopping" when `twice`. */
function ctrlC(calls: number, twice: boolean, state: { stderr: string }): (child: ChildProcess) => void {
  return (child) => {
    child.stderr?.on('data', (chunk: Buffer) => {
      state.stderr += chunk.toString();
    });
    void (async () => {
      await until(() => server.calls.length >= calls);
      child.kill('SIGINT');
      if (!twice) return;
      await until(() => state.stderr.includes('Stopping'));
      child.kill('SIGINT');
    })();
  };
}

/** Runs over inputs/ into `file`, Ctrl-C (once or twice) once two more calls were refused. */
async function stoppedRun(file: string, extra: string[], twice: boolean) {
  const out = path.join(work, file);
  const before = server.calls.length;
  const result = await runOpenAiCompatible('inputs', {
    pattern: 'pattern.json',
    baseUrl: server.baseUrl,
    out,
    extra: ['--cache', 'off', ...extra],
    cwd: work,
    env: { VISIONPIPE_PROGRESS_INTERVAL_MS: '200' },
    onSpawn: ctrlC(before + 2, twice, { stderr: '' }),
  });
  return { result, out, before };
}

function wentOut(r: RunRecord): boolean {
  return r.attempts > 0 || r.rate_limited.count > 0;
}

describe('Ctrl-C during a Retry-After hold', () => {
  it('the text summary and the last progress line agree with the records and the wire', async () => {
    const { result, out, before } = await stoppedRun('text.jsonl', [], false);
    expect(result.code, result.stderr).toBe(130);
    const records = await readRecords(out);
    expect(records.every((r) => r.error?.code === 'ABORTED')).toBe(true);
    const refused = records.reduce((n, r) => n + r.rate_limited.count, 0);
    // Every call of this run was refused: the records count each one.
    expect(refused).toBe(server.calls.length - before);
    expect(result.stdout).toContain(`latency: no answered call (${refused} refused)`);
    expect(result.stdout).not.toContain('no provider call');
    expect(result.stdout).toContain(`${refused} × refused (429/overloaded)`);
    expect(result.stdout).toContain('errors 0 ·');
    expect(result.stdout).toContain(`aborted ${NAMES.length}`);
    // The last progress line: nothing done, nothing failed, all aborted, no wait going on.
    const last = result.stderr
      .split('\n')
      .filter((l) => l.startsWith('run: '))
      .at(-1);
    expect(last).toMatch(
      new RegExp(`^run: 0/${NAMES.length} \\(0%\\), .*, 0 errors, ${NAMES.length} aborted, stopped`),
    );
    expect(last).not.toContain('waiting');
  }, 120_000);

  it('a second Ctrl-C: --json bytes sent are the images the server received', async () => {
    const { result, out, before } = await stoppedRun('json.jsonl', ['--json', '--no-progress'], true);
    expect(result.code, result.stderr).toBe(130);
    const summary = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '') as Summary;
    const records = await readRecords(out);
    const calls = server.calls.slice(before);
    const received = imagesReceived(calls);
    const sentRecords = records.filter(wentOut);
    expect(sentRecords).toHaveLength(received.length);
    expect(summary.bytes.sent).toBe(received.reduce((a, b) => a + b, 0));
    expect(summary.bytes.sent).toBe(sentRecords.reduce((n, r) => n + (r.image?.bytes ?? 0), 0));
    expect(summary.rate_limited.count).toBe(calls.length);
    expect(summary).toMatchObject({ total: NAMES.length, aborted: NAMES.length, errors: 0, processed: 0 });
    expect(summary.latency_ms.max).toBe(0);
  }, 120_000);
});
