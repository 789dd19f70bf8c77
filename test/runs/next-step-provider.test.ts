/**
 * A next step names only options that apply to the provider in use (trial of issue 10: an
 * Anthropic run refused for size was told to try `--detail low`, OpenAI's image setting).
 */
import { describe, expect, it } from 'vitest';
import { errorRecord } from '../../src/pipeline/record.js';
import { FailureLog } from '../../src/runs/failures.js';

async function sizeStep(provider: string): Promise<string | undefined> {
  const log = await FailureLog.open(undefined);
  log.add(
    errorRecord(
      { input: 'scan.png', pattern: 'doc', provider, model: 'm' },
      { code: 'IMAGE_TOO_LARGE', message: `${provider}: the request is over the per-minute token budget` },
    ),
  );
  return log.report().next_steps.find((s) => s.code === 'IMAGE_TOO_LARGE')?.step;
}

describe('the next step for IMAGE_TOO_LARGE', () => {
  it('offers --detail low to an OpenAI run only', async () => {
    expect(await sizeStep('openai')).toContain('--detail low');
    for (const provider of ['anthropic', 'gemini']) {
      const step = await sizeStep(provider);
      expect(step).toContain('--max-image-tokens');
      expect(step).not.toContain('--detail');
    }
  });
});
