/**
 * A run never drops records it did not itself replace. The bug this guards against: after
 * a run and its resume, `visionpipe run nothere.jpg` with the same pattern in the same
 * folder said "Resuming: 4 results … are kept", exited 2, and left results.jsonl holding
 * only the NOT_FOUND line (a "complete" run dropped every earlier record of an input it
 * had not named). Real CLI processes against the simulator (what is kept is the subject, not
 * what is read: the local engine's OCR of 5 invoices cost ~15 s of CPU), the default
 * `-o results.jsonl`.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/pipeline/record.js';
import type { Summary } from '../../src/runs/summary.js';
import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import { openAiFlags, ROOT, readRecords, runCli } from '../support/cli.js';
import { corpus, tempDir } from '../support/images.js';
import { SAMPLE_INVOICE_ANSWER } from '../support/simulator-fixtures.js';

const PATTERN = path.join(ROOT, 'samples/patterns/invoice.json');
const INVOICES = ['invoice1.jpg', 'invoice2.jpg', 'invoice3.jpg', 'invoice4.jpg'].map(corpus);

const byInput = (records: RunRecord[]) => new Map(records.map((r) => [r.input, r]));
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ answer: () => SAMPLE_INVOICE_ANSWER });
});

afterAll(async () => {
  await sim?.close();
});

/** `visionpipe run …args` in `cwd` against the simulator, with a test key. */
const run = (args: string[], cwd: string) =>
  runCli([...args, ...openAiFlags(sim.baseUrls.openai)], { cwd, env: { OPENAI_API_KEY: 'sk-test-keep' } });

describe('a run keeps the records of inputs it did not process again', () => {
  it('run, resume with --json, then a run of a missing file: the 4 earlier records stay', async () => {
    const work = await tempDir('visionpipe-keep-');
    const results = path.join(work, 'results.jsonl');

    const first = await run(['run', ...INVOICES, '-p', PATTERN], work);
    expect(first.code).toBe(0);
    const original = await readRecords(results);
    expect(original).toHaveLength(4);

    // The same command again: everything resumed, nothing processed.
    const resumed = await run(['run', ...INVOICES, '-p', PATTERN, '--json'], work);
    expect(resumed.code).toBe(0);
    const summary = JSON.parse(resumed.stdout) as Summary;
    expect(summary).toMatchObject({ total: 4, resumed: 4, processed: 0 });
    // Kept records are the earlier run's: not this run's latency, cache lookups, cost or alerts.
    expect(summary.latency_ms).toMatchObject({ p50: 0, p95: 0, max: 0 });
    expect(summary.cache).toMatchObject({ hits: 0, misses: 0 });
    expect(summary.tokens.total).toBe(0);
    expect(summary.alerts).toEqual([]);
    expect(await readFile(results, 'utf8')).toContain(original[0]!.input);

    // A usage error in the same folder (its only input is missing): exit 2, nothing lost.
    const missing = await run(['run', 'nothere.jpg', '-p', PATTERN], work);
    expect(missing.code).toBe(2);
    const after = byInput(await readRecords(results));
    for (const record of original) expect(after.get(record.input)).toEqual(record);
    expect(after.get('nothere.jpg')).toMatchObject({ status: 'error', error: { code: 'NOT_FOUND' } });
    expect(after.size).toBe(5);

    // A different input set: its record is added, the first run's stay as they were.
    const other = await run(['run', corpus('invoice5.jpg'), '-p', PATTERN, '--json'], work);
    expect(other.code).toBe(0);
    const otherSummary = JSON.parse(other.stdout) as Summary;
    expect(otherSummary).toMatchObject({ total: 1, resumed: 0, processed: 1 });
    const withOther = byInput(await readRecords(results));
    for (const record of original) expect(withOther.get(record.input)).toEqual(record);
    expect(withOther.get(corpus('invoice5.jpg'))?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(withOther.size).toBe(6);

    // And the first command once more: its 4 records are still resumed, none redone.
    const again = await run(['run', ...INVOICES, '-p', PATTERN, '--json'], work);
    expect(JSON.parse(again.stdout) as Summary).toMatchObject({ total: 4, resumed: 4, processed: 0 });
    const last = await readRecords(results);
    expect(last).toHaveLength(6); // one line per input, nothing duplicated
    for (const record of original) expect(byInput(last).get(record.input)).toEqual(record);
  }, 400_000);
});
