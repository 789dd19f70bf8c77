/**
 * A server that caps calls in flight at 4 and answers the rest `503` + `Retry-After: 1`
 * with the bare body `{"error":{"message":"Service Unavailable"}}` (trial of issue 10,
 * mode conc503bare: 45 of 200 images failed PROVIDER_UNAVAILABLE, 106 CIRCUIT_OPEN, 88 %
 * of requests refused). A 503 that names when to come back is a throttle: waited out, the
 * calls in flight lowered, the breaker left closed. nginx's bare HTML 503 (its default
 * status for limit_conn and limit_req; no headers) over 3 in flight is a cap by evidence:
 * refused while other calls succeed, above the calls in flight they had (trial of issue 10:
 * 31 of 150 images lost, the breaker open from 4 s). The same 503 on every call is an
 * outage: attempts spent, the breaker opens. Real CLI, loopback server.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readRecords, runOpenAiCompatible } from '../support/cli.js';
import { type Reply, startCompatibleServer } from '../support/openai-compatible.js';
import { stopWorkFolder } from '../support/stop-work.js';

const NAMES = ['invoice', 'car-plate', 'vin', 'construction'].flatMap((kind) =>
  [1, 2, 3, 4, 5].map((i) => `${kind}${i}.jpg`),
);
const CAP = 4;
const BARE = { error: { message: 'Service Unavailable' } };
const NGINX_503 =
  '<html><head><title>503 Service Temporarily Unavailable</title></head><body><center><h1>503 Service Temporarily Unavailable</h1></center><hr><center>nginx</center></body></html>';
let work: string;
const servers: Array<{ close(): Promise<void> }> = [];

beforeAll(async () => {
  work = await stopWorkFolder('visionpipe-busy-cap-503-', NAMES);
});
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

/** Over `cap` calls in flight: a 503 with `headers`, answered at once; the rest served in 150 ms. */
async function cappedServer(headers: Record<string, string>, cap = CAP, errorBody: unknown = BARE) {
  const seen = { inFlight: 0, refused: 0, served: 0 };
  const server = await startCompatibleServer((): Reply => {
    if (seen.inFlight >= cap) {
      seen.refused++;
      return { status: 503, headers, errorBody };
    }
    seen.inFlight++;
    seen.served++;
    const hold = new Promise<void>((r) =>
      setTimeout(() => {
        seen.inFlight--;
        r();
      }, 150),
    );
    return { content: '{"total": 1}', hold };
  });
  servers.push(server);
  return { server, seen };
}

async function run(baseUrl: string, out: string, extra: string[] = []) {
  const result = await runOpenAiCompatible('inputs', {
    pattern: 'pattern.json',
    baseUrl,
    out,
    extra: ['--cache', 'off', '--concurrency', '20', '--no-progress', ...extra],
    cwd: work,
  });
  return { result, records: await readRecords(out) };
}

describe('a concurrency cap that answers a bare 503', () => {
  it('with Retry-After: a throttle; every image ok, refusals bounded, breaker closed', async () => {
    const { server, seen } = await cappedServer({ 'retry-after': '1' });
    const { result, records } = await run(server.baseUrl, `${work}/with-retry-after.jsonl`);
    expect(result.code, result.stderr).toBe(0);
    expect(records).toHaveLength(NAMES.length);
    expect(records.filter((r) => r.status !== 'ok')).toEqual([]);
    // The refusals were waits, not attempts: every image was read at its first attempt.
    for (const r of records) expect(r.attempts).toBe(1);
    expect(records.reduce((n, r) => n + r.rate_limited.count, 0)).toBe(seen.refused);
    // The flow lowered the calls in flight: far fewer refusals than the 88 % of the trial.
    expect(seen.refused).toBeLessThan(seen.served);
    expect(result.stderr).not.toMatch(/CIRCUIT_OPEN|circuit/i);
  });

  it("nginx's bare HTML 503 over 3 in flight: a cap by evidence; every image ok, breaker closed", async () => {
    const { server, seen } = await cappedServer({ 'content-type': 'text/html' }, 3, NGINX_503);
    const { result, records } = await run(server.baseUrl, `${work}/nginx-html.jsonl`);
    expect(result.code, result.stderr).toBe(0);
    expect(records).toHaveLength(NAMES.length);
    expect(records.filter((r) => r.status !== 'ok')).toEqual([]);
    // Read as a cap: most refusals waited out (rate_limited), not attempts.
    const waited = records.reduce((n, r) => n + r.rate_limited.count, 0);
    expect(waited).toBeGreaterThan(0);
    // Before the first answers nothing tells the cap from an outage: on 20 images that
    // start-up costs up to about one refusal a call (150 images against the trial's proxy: 9 %).
    expect(seen.refused).toBeLessThan(2 * seen.served);
    // The breaker never opened: its 30 s CIRCUIT_OPEN would have cost a third attempt.
    for (const r of records) expect(r.attempts).toBeLessThanOrEqual(2);
    expect(result.stderr).not.toMatch(/CIRCUIT_OPEN|circuit/i);
  });

  it('without Retry-After, on every call: an outage; attempts spent, no waits, the breaker opens', async () => {
    const { server } = await cappedServer({}, 0);
    // Two attempts each: the breaker opens within the first ten failures, not after its 30 s probe.
    const { records } = await run(server.baseUrl, `${work}/without-retry-after.jsonl`, [
      '--max-attempts',
      '2',
    ]);
    expect(records).toHaveLength(NAMES.length);
    const failed = records.filter((r) => r.status !== 'ok');
    expect(failed).toHaveLength(NAMES.length);
    const codes = new Set(failed.map((r) => r.error?.code));
    expect([...codes].every((c) => c === 'PROVIDER_UNAVAILABLE' || c === 'CIRCUIT_OPEN')).toBe(true);
    expect(codes.has('CIRCUIT_OPEN')).toBe(true);
    for (const r of records) expect(r.rate_limited.count).toBe(0);
    expect(records.some((r) => r.attempts > 1)).toBe(true);
  });
});
