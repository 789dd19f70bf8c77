/**
 * A mistyped flag is what the error names (issue 13): commander checked mandatory options
 * first, so `run imgs --patern p.yaml` said "required option '-p, --pattern' not
 * specified" and hid the typo. Real CLI processes; usage errors exit 2.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../support/cli.js';

const PATTERN = path.join(ROOT, 'samples/patterns/receipt.yaml');
const IMAGE = path.join(ROOT, 'samples/images/receipt-002.png');

describe('typos in flags', () => {
  it('names the mistyped flag and suggests the right one, even when it was a mandatory one', async () => {
    for (const [command, args] of [
      ['run', [IMAGE, '--patern', PATTERN]],
      ['estimate', [IMAGE, '--patern', PATTERN]],
      ['optimize', [IMAGE, '--out-dri', '/tmp/x']],
      ['eval', ['results.jsonl', '--truht', 'truth.jsonl']],
    ] as const) {
      const result = await runCli([command, ...args]);
      expect(result.code, `${command}: ${result.stderr}`).toBe(2);
      expect(result.stderr, command).toMatch(/unknown option '--(patern|out-dri|truht)'/);
      expect(result.stderr, command).toMatch(/Did you mean --(pattern|out-dir|truth)\?/);
      expect(result.stderr, command).not.toContain('required option');
    }
  });

  it('a mandatory option left out is still a usage error naming it', async () => {
    const result = await runCli(['run', IMAGE]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("required option '-p, --pattern <file>' not specified");
  });
});

describe('typos in enum values', () => {
  it('suggests the closest valid value, as for unknown commands and options (usage error, exit 2)', async () => {
    for (const [args, suggestion] of [
      [['run', IMAGE, '-p', PATTERN, '--provider', 'opnai'], '"openai"'],
      [['estimate', IMAGE, '-p', PATTERN, '--provider', 'antropic'], '"anthropic"'],
      [['run', IMAGE, '-p', PATTERN, '--triage', 'locl'], '"local"'],
      [['run', IMAGE, '-p', PATTERN, '--pages', 'eahc'], '"each"'],
      [['run', IMAGE, '-p', PATTERN, '--cache', 'sqlit'], '"sqlite"'],
      [['run', IMAGE, '-p', PATTERN, '--cache', 'redis'], '"redis://'],
      [['run', IMAGE, '-p', PATTERN, '--profile', 'openai-hgih'], '"openai-high"'],
      [['run', IMAGE, '-p', PATTERN, '--detail', 'hgih'], '"high"'],
      [['optimize', IMAGE, '--out-dir', '/tmp/visionpipe-typo-never', '--format', 'jpg'], '"jpeg"'],
    ] as const) {
      const result = await runCli([...args]);
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(2);
      expect(result.stderr, args.join(' ')).toContain(`Did you mean ${suggestion}`);
    }
  });

  it('suggests nothing for a value far from every choice', async () => {
    const result = await runCli(['run', IMAGE, '-p', PATTERN, '--provider', 'zzzzzzzz']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('provider "zzzzzzzz" is not known');
    expect(result.stderr).not.toContain('Did you mean');
  });
});
