/**
 * `estimate` when optimizing saves nothing (issue 13 trial): the optimized line says
 * "same as naive", not "(1× fewer tokens)". Real CLI, a real corpus image, no call made.
 */
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { corpus } from '../support/images.js';

describe('estimate with nothing saved', () => {
  it('says "same as naive"', async () => {
    const result = await runCli(
      [
        'estimate',
        corpus('vin2.jpg'),
        '-p',
        'samples/patterns/receipt.yaml',
        '--provider',
        'openai',
        '--model',
        'gpt-4.1-mini',
      ],
      { env: { OPENAI_API_KEY: 'sk-never-used' } },
    );
    expect(result.code, result.stderr).toBe(0);
    const optimized = result.stdout.split('\n').find((line) => line.startsWith('optimized')) ?? '';
    const naive = result.stdout.split('\n').find((line) => line.startsWith('naive')) ?? '';
    expect(optimized.match(/([\d,]+) tokens/)?.[1]).toBe(naive.match(/([\d,]+) tokens/)?.[1]);
    expect(optimized).toContain('(same as naive)');
    expect(optimized).not.toContain('fewer tokens');
  });
});
