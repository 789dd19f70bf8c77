/**
 * A planted config (issue 12, second trial) with `triage: anthropic:…` or `escalateTo:
 * openai:…` sent images to a cloud provider while the announcement said "provider local".
 * Now both are announced, and a local run refuses them unless confirmed.
 */
import { describe, expect, it } from 'vitest';
import { checkImplicitConfig } from '../../src/config/implicit.js';

const check = (config: Record<string, unknown>, given: (key: string) => boolean = () => false) =>
  checkImplicitConfig({
    config,
    file: 'visionpipe.config.yaml',
    baseUrlFlag: undefined,
    providerFlag: undefined,
    given,
  });

describe('triage and escalation in an implicit config', () => {
  it.each([
    ['triage', 'anthropic:claude-3-5-haiku-latest', 'anthropic'],
    ['escalateTo', 'openai:gpt-4o', 'openai'],
  ])('%s naming a cloud provider stops a local run', (key, value, target) => {
    expect(() => check({ [key]: value })).toThrow(
      `sets ${key} to ${value}: the run is local, but images would go to ${target}`,
    );
  });

  it('confirmed on the command line, or local, it is used and announced', () => {
    expect(check({ triage: 'local' })).toContain('triage local');
    const line = check({ provider: 'openai', triage: 'openai:gpt-4o-mini', escalateTo: 'anthropic:claude' });
    expect(line).toContain('triage openai:gpt-4o-mini');
    expect(line).toContain('escalateTo anthropic:claude');
    expect(() => check({ escalateTo: 'openai:gpt-4o' }, (key) => key === 'escalateTo')).not.toThrow();
  });
});
