/**
 * A model that names another provider (issue 14, low): a planted `provider: local` +
 * `model: openai:gpt-4o` config ran the local engine and labelled its records
 * `local/openai:gpt-4o`. A `provider:model` model is now refused with INVALID_OPTION naming
 * both when the provider is another one, from the config file (found or named) and from
 * flags alike, before anything is read or written; naming the same provider takes effect
 * (the model without its prefix).
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../support/cli.js';
import { corpus, tempDir } from '../support/images.js';

const IMAGE = corpus('invoice1.jpg');
const NO_KEYS = { OPENAI_API_KEY: '', ANTHROPIC_API_KEY: '', GEMINI_API_KEY: '', IMGGO_API_KEY: '' };

const PATTERN = path.join(ROOT, 'samples/patterns/invoice.json');

async function folder(config?: string): Promise<{ dir: string; pattern: string; out: string }> {
  const dir = await tempDir('vp-model-provider-');
  if (config !== undefined) await writeFile(path.join(dir, 'visionpipe.config.yaml'), config);
  return { dir, pattern: PATTERN, out: path.join(dir, 'results.jsonl') };
}

describe('a model naming another provider is refused', () => {
  it.each([
    ['a found config', 'provider: local\nmodel: openai:gpt-4o\n', [], /\(from .*visionpipe\.config\.yaml\)/],
    ['flags', undefined, ['--provider', 'local', '--model', 'openai:gpt-4o'], /provider is local:/],
    ['the default provider', undefined, ['--model', 'openai:gpt-4o'], /provider is local \(the default\)/],
    [
      'a found config naming the model, a flag the provider',
      'model: openai:gpt-4o\n',
      ['--provider', 'anthropic'],
      /gpt-4o" \(from .*visionpipe\.config\.yaml\) names provider openai, but the provider is anthropic:/,
    ],
  ])(
    'from %s: run stops with INVALID_OPTION naming both, writing nothing',
    async (_, config, flags, source) => {
      const { dir, pattern, out } = await folder(config);
      const result = await runCli(['run', IMAGE, '-p', pattern, '-o', out, ...flags], {
        cwd: dir,
        env: NO_KEYS,
      });
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain('INVALID_OPTION');
      expect(result.stderr).toMatch(/model "openai:gpt-4o".* names provider openai/);
      expect(result.stderr).toMatch(source);
      expect(result.stderr).toContain('--provider openai --model gpt-4o');
      expect(existsSync(out)).toBe(false);
    },
  );

  it('from a config named with --config, estimate too', async () => {
    const { dir, pattern } = await folder();
    const named = path.join(dir, 'team.yaml');
    await writeFile(named, 'provider: gemini\nmodel: anthropic:claude-sonnet-4-5\n');
    const result = await runCli(['estimate', IMAGE, '-p', pattern, '--config', named, '--cache', 'off'], {
      cwd: dir,
      env: NO_KEYS,
    });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(
      /names provider anthropic, but the provider is gemini \(from .*team\.yaml\)/,
    );
  });
});

describe('a model naming its own provider takes effect', () => {
  it('--provider openai --model openai:gpt-4o prices as gpt-4o', async () => {
    const { dir, pattern } = await folder();
    const estimate = async (model: string) => {
      const result = await runCli(
        [
          'estimate',
          IMAGE,
          '-p',
          pattern,
          '--provider',
          'openai',
          '--model',
          model,
          '--cache',
          'off',
          '--json',
        ],
        { cwd: dir, env: NO_KEYS },
      );
      expect(result.code, result.stderr).toBe(0);
      return JSON.parse(result.stdout).totals.optimized.cost_usd as number | null;
    };
    const plain = await estimate('gpt-4o');
    expect(plain).toBeGreaterThan(0);
    expect(await estimate('openai:gpt-4o')).toBe(plain);
  });

  it('models whose names hold a colon but no provider are untouched (llava:13b)', async () => {
    const { dir, pattern } = await folder();
    const result = await runCli(
      ['estimate', IMAGE, '-p', pattern, '--provider', 'openai', '--model', 'llava:13b', '--cache', 'off'],
      { cwd: dir, env: NO_KEYS },
    );
    expect(result.code, result.stderr).toBe(0);
  });
});
