import { copyFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EstimateTotals } from '../../src/runs/estimate.js';
import { ROOT, runCli } from '../support/cli.js';
import { corpus, tempDir } from '../support/images.js';

const PATTERN = path.join(ROOT, 'samples/patterns/invoice.json');

async function estimateTotals(work: string, extra: string[] = []): Promise<EstimateTotals> {
  const result = await runCli(['estimate', 'in', '-p', PATTERN, '--json', ...extra], {
    cwd: work,
    env: { OPENAI_API_KEY: 'sk-unused' },
  });
  expect(result.code, result.stderr).toBe(0);
  return (JSON.parse(result.stdout) as { totals: EstimateTotals }).totals;
}

describe('the config file', () => {
  it('sets defaults that flags override, and overrides prices', async () => {
    const work = await tempDir('visionpipe-config-');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(path.join(work, 'in'));
    await copyFile(corpus('invoice1.jpg'), path.join(work, 'in', 'invoice1.jpg'));
    await writeFile(
      path.join(work, 'visionpipe.config.yaml'),
      'provider: openai\nmodel: gpt-4o\ncache: off\nprices:\n  openai:\n    models:\n      gpt-4o: { input: 1000, output: 1000 }\n',
    );
    const configured = await estimateTotals(work);
    // 1000 $/M tokens instead of 2.50: the override is in force, and so is the provider.
    expect(configured.optimized.cost_usd!).toBeCloseTo((configured.optimized.tokens * 1000) / 1e6, 6);
    const overridden = await estimateTotals(work, ['--model', 'gpt-4o-mini']);
    expect(overridden.optimized.tokens).not.toBe(configured.optimized.tokens); // gpt-4o-mini counts image tokens differently
  });

  it('refuses a bad config naming the field and the value', async () => {
    const work = await tempDir('visionpipe-config-');
    await writeFile(path.join(work, 'visionpipe.config.yaml'), 'rpm: lots\n');
    const result = await runCli(['estimate', '.', '-p', PATTERN], { cwd: work });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/rpm.*lots/);
    const unknown = await runCli(
      ['estimate', '.', '-p', PATTERN, '--config', path.join(work, 'missing.yaml')],
      { cwd: work },
    );
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('missing.yaml');
  });
});
