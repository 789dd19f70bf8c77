/**
 * `estimate` and run's cost flags (issue 11 §6): `--batch-api` is priced (the provider's
 * batch discount on what is sent, the naive plan at standard prices); `--batch-api` for a
 * provider without a batch API is refused. `--triage` and `--escalate-to`: estimate-cascade.test.ts. Real CLI processes on a real corpus scan; no provider is called, no key.
 */
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EstimateTotals } from '../../src/runs/estimate.js';
import { runCli } from '../support/cli.js';
import { corpus, tempDir } from '../support/images.js';
import { writeJsonPattern } from '../support/patterns.js';

let work: string;
let pattern: string;

beforeAll(async () => {
  work = await tempDir('visionpipe-estimate-flags-');
  pattern = await writeJsonPattern(path.join(work, 'pattern.json'), {
    name: 'invoice',
    instructions: 'Read the invoice.',
    schema: { vendor_name: 'string', total: 'number' },
  });
});

function estimate(extra: string[]) {
  return runCli(
    [
      'estimate',
      corpus('invoice1.jpg'),
      '-p',
      pattern,
      '--provider',
      'anthropic',
      '--model',
      'claude-sonnet-4-20250514',
      '--cache',
      'off',
      '--json',
      ...extra,
    ],
    { cwd: work, env: { ANTHROPIC_API_KEY: '' } },
  );
}

describe('estimate --batch-api', () => {
  it('prices what is sent at half with --batch-api, the naive plan unchanged', async () => {
    const plain = await estimate([]);
    const batch = await estimate(['--batch-api']);
    expect(plain.code, plain.stderr).toBe(0);
    expect(batch.code, batch.stderr).toBe(0);
    const a = (JSON.parse(plain.stdout) as { totals: EstimateTotals }).totals;
    const b = (JSON.parse(batch.stdout) as { totals: EstimateTotals }).totals;
    // Claude Sonnet 4 is priced (it was unknown: null), and the batch discount is 50 %.
    expect(a.optimized.cost_usd).toBeGreaterThan(0);
    expect(b.optimized.cost_usd).toBeCloseTo((a.optimized.cost_usd ?? 0) / 2, 8);
    expect(b.naive.cost_usd).toBe(a.naive.cost_usd);
    expect(b.optimized.tokens).toBe(a.optimized.tokens);
  });

  it('refuses --batch-api for a provider without a batch API', async () => {
    const result = await runCli(
      ['estimate', corpus('invoice1.jpg'), '-p', pattern, '--provider', 'gemini', '--batch-api', '--json'],
      { cwd: work, env: { GEMINI_API_KEY: '' } },
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--batch-api: provider "gemini" has no batch API');
  });
});
