/**
 * Nothing that calls no provider asks for a key (issue 11 §6): `estimate`, `--help` and
 * building providers work with every key unset; a command that will call a provider
 * stops before writing anything when its key is missing, naming the variable.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../support/cli.js';
import { tempDir } from '../support/images.js';

const NO_KEYS = { OPENAI_API_KEY: '', ANTHROPIC_API_KEY: '', GEMINI_API_KEY: '', IMGGO_API_KEY: '' };
const IMAGE = path.join(ROOT, 'samples/images/invoice-001.png');
const PATTERN = path.join(ROOT, 'samples/patterns/invoice.json');

describe('no key is asked for where no provider is called', () => {
  it.each([
    ['openai', 'gpt-4.1-mini'],
    ['anthropic', 'claude-sonnet-4-5'],
    ['gemini', 'gemini-2.5-flash'],
  ])('estimate --provider %s works with no key set', async (provider, model) => {
    const result = await runCli(
      [
        'estimate',
        IMAGE,
        '-p',
        PATTERN,
        '--provider',
        provider,
        '--model',
        model,
        '--cache',
        'off',
        '--json',
      ],
      { env: NO_KEYS },
    );
    expect(result.stderr).not.toMatch(/API_KEY/);
    expect(result.code).toBe(0);
    const totals = JSON.parse(result.stdout).totals as { images: number; optimized: { tokens: number } };
    expect(totals.images).toBe(1);
    expect(totals.optimized.tokens).toBeGreaterThan(0);
  });

  it.each([['run'], ['estimate'], ['bench concurrency']])(
    '%s --help works with no key set',
    async (command) => {
      const result = await runCli([...command.split(' '), '--help', '--provider', 'anthropic'], {
        env: NO_KEYS,
      });
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('Examples:');
    },
  );

  it.each([
    ['the provider', ['--provider', 'anthropic'], 'ANTHROPIC_API_KEY'],
    ['only the escalation provider', ['--escalate-to', 'gemini:gemini-2.5-flash'], 'GEMINI_API_KEY'],
  ])(
    'run without the key of %s stops before writing anything, naming the variable',
    async (_who, flags, variable) => {
      const dir = await tempDir('visionpipe-keyless-');
      const out = path.join(dir, 'out.jsonl');
      const result = await runCli(['run', IMAGE, '-p', PATTERN, ...flags, '-o', out, '--state-dir', dir], {
        env: NO_KEYS,
      });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`${variable} is not set`);
      expect(existsSync(out)).toBe(false);
    },
  );
});
