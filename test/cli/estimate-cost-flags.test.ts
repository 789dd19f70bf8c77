/**
 * `estimate` and run's cost flags (issue 11 §6): `--batch-api` is priced (the provider's
 * batch discount on what is sent, the naive plan at standard prices); `--batch-api` for a
 * provider without a batch API is refused. estimate takes every option of run that changes
 * what is priced, or refuses it by name (issue 11 trial): the cost, cascade and input
 * options are defined once for both commands (cost-flags.ts, source-flags.ts); the option
 * lists come from the real command definitions. `--triage` and `--escalate-to`: estimate-cascade.test.ts. Real CLI processes on a real corpus scan; no provider is called, no key.
 */
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { estimateCommand, RUN_OPTIONS_NOT_PRICED, RUN_OPTIONS_REFUSED } from '../../src/cli/estimate.js';
import { runCommandDefinition } from '../../src/cli/run.js';
import type { EstimateTotals } from '../../src/runs/estimate.js';
import type { EscalationTotals } from '../../src/runs/estimate-cascade.js';
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

describe("estimate and run's options", () => {
  it('every option of run is an option of estimate, or listed as not priced, or refused', () => {
    const estimateFlags = new Set(estimateCommand().options.map((o) => o.long));
    const unaccounted = runCommandDefinition()
      .options.map((o) => o.long ?? '')
      .filter(
        (flag) =>
          !estimateFlags.has(flag) && !(flag in RUN_OPTIONS_NOT_PRICED) && !(flag in RUN_OPTIONS_REFUSED),
      );
    expect(unaccounted).toEqual([]);
    // The cascade and input options that change the price are estimate's own.
    for (const flag of [
      '--triage-base-url',
      '--escalate-base-url',
      '--min-confidence',
      '--profile',
      '--max-input-bytes',
      '--allow-private-urls',
    ])
      expect(estimateFlags.has(flag), flag).toBe(true);
  });

  it('--escalate-base-url is accepted and the escalation priced as with the main endpoint', async () => {
    const escalate = ['--escalate-to', 'anthropic:claude-sonnet-4-20250514'];
    const plain = await estimate(escalate);
    const endpoint = await estimate([...escalate, '--escalate-base-url', 'http://127.0.0.1:9/v1']);
    expect(plain.code, plain.stderr).toBe(0);
    expect(endpoint.code, endpoint.stderr).toBe(0);
    const a = (JSON.parse(plain.stdout) as { totals: { escalation: EscalationTotals } }).totals.escalation;
    const b = (JSON.parse(endpoint.stdout) as { totals: { escalation: EscalationTotals } }).totals.escalation;
    expect(b.max.cost_usd).toBeGreaterThan(0);
    expect(b).toEqual(a);
  });

  it('--escalate-base-url without --escalate-to and --triage-base-url are refused, by name', async () => {
    const alone = await estimate(['--escalate-base-url', 'http://127.0.0.1:9/v1']);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toContain('--escalate-base-url needs --escalate-to');
    const triage = await estimate(['--triage', 'local', '--triage-base-url', 'http://127.0.0.1:9/v1']);
    expect(triage.code).toBe(2);
    expect(triage.stderr).toContain('--triage-base-url');
  });

  it('--profile changes what is priced; a bad one is refused as run refuses it', async () => {
    const plain = await estimate([]);
    const small = await estimate(['--profile', 'openai-low']);
    expect(small.code, small.stderr).toBe(0);
    const a = (JSON.parse(plain.stdout) as { totals: EstimateTotals }).totals;
    const b = (JSON.parse(small.stdout) as { totals: EstimateTotals }).totals;
    expect(b.optimized.tokens).toBeLessThan(a.optimized.tokens);
    const bad = await estimate(['--profile', 'max10']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--profile "max10" is not a profile');
  });

  it('--max-input-bytes refuses larger inputs, so they are not priced', async () => {
    const refused = await estimate(['--max-input-bytes', '1kB']);
    expect(refused.code, refused.stderr).toBe(0);
    const totals = (JSON.parse(refused.stdout) as { totals: EstimateTotals }).totals;
    expect(totals).toMatchObject({ errors: 1, to_send: 0 });
  });

  it.each(Object.keys(RUN_OPTIONS_REFUSED))('%s is refused with why', async (flag) => {
    const result = await estimate([flag, ...(flag === '--near-dup' ? ['4'] : [])]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`unknown option '${flag}'`);
    expect(result.stderr).toContain(RUN_OPTIONS_REFUSED[flag]);
  });
});
