/**
 * Adding `--triage` does not invalidate extractions already paid for (issue 13): triage
 * decides whether an image is extracted, not what the extraction says, so a rerun with
 * `--triage local` added is a cache hit for every image the triage passes (no model call)
 * and skips the ones it rejects; changing what does change the answer (the model, the
 * pattern) still misses and pays. Real CLI processes, real simulator counting its calls,
 * real local triage (OCR) on the bundled samples.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import { ROOT, readRecords, runOpenAiCompatible } from '../support/cli.js';
import { tempDir } from '../support/images.js';

const RECEIPT = path.join(ROOT, 'samples/images/receipt-002.png');
const PHOTO = path.join(ROOT, 'samples/images/photo-001.jpg');
const RECEIPT_PATTERN = path.join(ROOT, 'samples/patterns/receipt.yaml');
const INVOICE_PATTERN = path.join(ROOT, 'samples/patterns/invoice.json');
let sim: Simulator;
let work: string;

beforeAll(async () => {
  work = await tempDir('visionpipe-triage-cache-');
  sim = await startSimulator({
    answer: () => ({
      merchant_name: 'Shop',
      date: '2024-01-02',
      total_amount: 12.5,
      category: 'groceries',
    }),
  });
});

afterAll(async () => {
  await sim?.close();
});

const modelCalls = () => sim.stats.requests['openai POST /v1/chat/completions'] ?? 0;

async function run(name: string, extra: string[], pattern = RECEIPT_PATTERN) {
  const out = path.join(work, `${name}.jsonl`);
  // The photo rides along as a second input after the flags.
  const result = await runOpenAiCompatible(RECEIPT, {
    pattern,
    baseUrl: sim.baseUrls.openai,
    out,
    extra: [PHOTO, '--max-attempts', '1', ...extra],
    cwd: work,
  });
  expect(result.code, result.stderr).toBe(0);
  const records = await readRecords(out);
  const byName = (file: string) => records.find((r) => r.input.endsWith(path.basename(file)))!;
  return { records, byName, stdout: result.stdout };
}

describe('--triage and the result cache', () => {
  it('a rerun with --triage added hits for what triage passes; a different model or pattern still misses', async () => {
    const first = await run('plain', []);
    expect(first.byName(RECEIPT).error).toBeNull();
    expect(first.byName(RECEIPT)).toMatchObject({ status: 'ok', cache: 'miss' });
    expect(modelCalls()).toBe(2);

    // --triage added: the receipt passes triage and its paid extraction is reused; the photo is skipped.
    const triaged = await run('triaged', ['--triage', 'local']);
    expect(modelCalls()).toBe(2);
    const receipt = triaged.byName(RECEIPT);
    // A cache hit makes no call: the local triage verdict counts no attempt, no byte is sent.
    expect(receipt).toMatchObject({ status: 'ok', cache: 'hit', cost_usd: 0, attempts: 0 });
    expect(triaged.stdout).toMatch(/^2 inputs: 1 image processed .* · 1 from cache /m);
    expect(triaged.stdout).toMatch(
      /^ {2}bytes .*0 B sent, nothing went to a provider|^ {2}bytes [\d.]+ kB read · 0 B sent/m,
    );
    expect(triaged.stdout).not.toMatch(/nothing read/);
    expect(receipt.output).toEqual(first.byName(RECEIPT).output);
    expect(receipt.cascade.triage).toMatchObject({ relevant: true, provider: 'local' });
    const photo = triaged.byName(PHOTO);
    expect(photo).toMatchObject({ status: 'skipped', output: null });
    expect(photo.cascade.triage).toMatchObject({ relevant: false });

    // The model changes the answer: a miss, paid again (only for what triage passes).
    const otherModel = await run('other-model', ['--triage', 'local', '--model', 'gpt-4.1-mini']);
    expect(otherModel.byName(RECEIPT)).toMatchObject({ status: 'ok', cache: 'miss' });
    expect(modelCalls()).toBe(3);

    // And the extraction made under triage serves a run without it.
    const untriaged = await run('other-model-plain', ['--model', 'gpt-4.1-mini']);
    expect(untriaged.byName(RECEIPT)).toMatchObject({ status: 'ok', cache: 'hit' });
    expect(untriaged.byName(RECEIPT).cascade.triage).toBeNull();

    // The pattern changes the answer: a miss.
    const otherPattern = await run('other-pattern', ['--triage', 'local'], INVOICE_PATTERN);
    expect(otherPattern.byName(RECEIPT).cache).not.toBe('hit');
  }, 200_000);
});
