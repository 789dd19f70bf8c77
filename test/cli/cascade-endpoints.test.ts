/**
 * Each cascade step calls its own endpoint (issue 11 trial): --triage-base-url and
 * --escalate-base-url hold even when the step uses the main run's provider, and the step's
 * endpoint is in its keys — a failure remembered for one escalation endpoint is never served
 * for another. Real CLI runs against OpenAI-compatible servers on loopback that count calls.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/pipeline/record.js';
import { closeAllAgents } from '../../src/providers/http.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/images.js';
import {
  type CompatibleServer,
  startCompatibleServer,
  writeSimplePattern,
} from '../support/openai-compatible.js';

const GOOD = '{"vendor_name":"ACME","total":12.5}';
const WRONG = '{"vendor_name":"ACME","total":"twelve"}'; // total is not a number: SCHEMA_MISMATCH
let folder: string;
let pattern: string;
let receipt: string;
const servers: CompatibleServer[] = [];

beforeAll(async () => {
  folder = await tempDir('visionpipe-cascade-ep-');
  pattern = await writeSimplePattern(folder);
  receipt = path.join(folder, 'receipt.png');
  await sharp({ create: { width: 600, height: 300, channels: 3, background: '#ffffff' } })
    .png()
    .toFile(receipt);
});

afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  await closeAllAgents();
});

async function server(content: string): Promise<CompatibleServer> {
  const s = await startCompatibleServer(content);
  servers.push(s);
  return s;
}

async function run(args: string[], stateDir?: string): Promise<RunRecord> {
  const dir = stateDir ?? (await tempDir('visionpipe-cascade-ep-run-'));
  const out = path.join(dir, `out-${Math.random().toString(36).slice(2)}.jsonl`);
  const result = await runCli(
    [
      ...['run', receipt, '-p', pattern, '--provider', 'openai', '--model', 'gpt-4.1-mini'],
      ...args,
      ...['-o', out, '--state-dir', dir, '--no-progress', '--json'],
    ],
    { env: { OPENAI_API_KEY: 'sk-test-000000000000' } },
  );
  expect([0, 1], result.stderr).toContain(result.code);
  return JSON.parse((await readFile(out, 'utf8')).trim()) as RunRecord;
}

describe('a cascade step on the main provider still calls its own endpoint', () => {
  it('--escalate-base-url: the escalation goes to B, not to the main --base-url', async () => {
    const a = await server(WRONG);
    const b = await server(GOOD);
    const record = await run([
      ...['--base-url', a.baseUrl, '--escalate-to', 'openai:gpt-4.1', '--escalate-base-url', b.baseUrl],
      ...['--cache', 'off'],
    ]);
    expect(a.calls).toHaveLength(1);
    expect(b.calls).toHaveLength(1);
    expect(b.calls[0]!.body.model).toBe('gpt-4.1');
    expect(record).toMatchObject({ status: 'ok', output: { total: 12.5 } });
    expect(record.cascade.escalated_from).toBe('openai:gpt-4.1-mini');
  });

  it('--triage-base-url: the triage question goes to T, the extraction to A', async () => {
    const a = await server(GOOD);
    const t = await server('yes');
    const record = await run([
      ...['--base-url', a.baseUrl, '--triage', 'openai:gpt-4.1-nano', '--triage-base-url', t.baseUrl],
      ...['--cache', 'off'],
    ]);
    expect(t.calls).toHaveLength(1);
    expect(t.calls[0]!.body.model).toBe('gpt-4.1-nano');
    expect(a.calls).toHaveLength(1);
    expect(a.calls[0]!.body.model).toBe('gpt-4.1-mini');
    expect(record).toMatchObject({ status: 'ok', cascade: { triage: { relevant: true } } });
  });

  it('a SCHEMA_MISMATCH remembered for escalation endpoint B is not served for endpoint C', async () => {
    const state = await tempDir('visionpipe-cascade-ep-state-');
    const a = await server(WRONG);
    const b = await server(WRONG);
    const c = await server(GOOD);
    const first = await run(
      ['--base-url', a.baseUrl, '--escalate-to', 'openai:gpt-4.1', '--escalate-base-url', b.baseUrl],
      state,
    );
    expect(first.error?.code).toBe('SCHEMA_MISMATCH');
    expect(b.calls.length).toBeGreaterThan(0);
    const second = await run(
      ['--base-url', a.baseUrl, '--escalate-to', 'openai:gpt-4.1', '--escalate-base-url', c.baseUrl],
      state,
    );
    expect(c.calls).toHaveLength(1);
    expect(second).toMatchObject({ status: 'ok', output: { total: 12.5 } });
  });
});

describe('every billed call and cascade fact stays on an error record', () => {
  it('a triage answer that is no verdict: BAD_RESPONSE with its usage, cost and the image sent', async () => {
    const a = await server(GOOD);
    const t = await server('{"relevant":true}');
    const record = await run([
      ...['--base-url', a.baseUrl, '--triage', 'openai:gpt-4.1-nano', '--triage-base-url', t.baseUrl],
      ...['--cache', 'off'],
    ]);
    expect(t.calls).toHaveLength(1);
    expect(a.calls).toHaveLength(0);
    expect(record).toMatchObject({ status: 'error', error: { code: 'BAD_RESPONSE' } });
    expect(record.usage.input_tokens).toBe(1000);
    expect(record.cost_usd).toBeGreaterThan(0);
    expect(record.image?.bytes).toBeGreaterThan(0);
  });

  it('escalation failing too: the error record says what it escalated from, usage of both calls', async () => {
    const a = await server(WRONG);
    const b = await server(WRONG);
    const record = await run([
      ...['--base-url', a.baseUrl, '--escalate-to', 'openai:gpt-4.1', '--escalate-base-url', b.baseUrl],
      ...['--cache', 'off'],
    ]);
    expect(record).toMatchObject({ status: 'error', error: { code: 'SCHEMA_MISMATCH' } });
    expect(record.usage.input_tokens).toBe(2000);
    expect(record.cascade.escalated_from).toBe('openai:gpt-4.1-mini');
    expect(record.cascade.escalation_reason).toContain('SCHEMA_MISMATCH');
  });

  it('triage said yes and the extraction failed: the error record keeps the verdict', async () => {
    const a = await server(WRONG);
    const t = await server('yes');
    const record = await run([
      ...['--base-url', a.baseUrl, '--triage', 'openai:gpt-4.1-nano', '--triage-base-url', t.baseUrl],
      ...['--cache', 'off'],
    ]);
    expect(record).toMatchObject({ status: 'error', error: { code: 'SCHEMA_MISMATCH' } });
    expect(record.usage.input_tokens).toBe(2000);
    expect(record.cascade.triage).toMatchObject({ relevant: true, model: 'gpt-4.1-nano' });
  });
});
