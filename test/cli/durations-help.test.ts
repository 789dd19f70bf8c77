/**
 * Durations in --help are durations (issue 13): every `<duration>` flag of every command
 * says which forms it takes, shows its default as a duration (`2m`, not `120000`), and
 * parses what its help shows back to the default it uses; no flag takes bare `<ms>`.
 * Then the real binary: the help text users read, and a bad value refused with exit 2.
 */
import type { Command, Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { DURATION_FORMS } from '../../src/cli/duration-flag.js';
import { buildProgram } from '../../src/cli/program.js';
import { SHORT_FLAG_MEANINGS } from '../../src/cli/short-flags.js';
import { parseDuration } from '../../src/config/durations.js';
import { runCli } from '../support/cli.js';

function* allOptions(command: Command, path: string[] = []): Generator<{ where: string; option: Option }> {
  const here = [...path, command.name()];
  for (const option of command.options as Option[]) yield { where: here.join(' '), option };
  for (const sub of command.commands) yield* allOptions(sub, here);
}

const options = [...allOptions(buildProgram())];
const durations = options.filter(({ option }) => option.flags.includes('<duration>'));

describe('duration flags', () => {
  it('exist, and no flag takes a bare <ms> or <seconds>', () => {
    expect(durations.length).toBeGreaterThan(10);
    expect(options.filter(({ option }) => /<(ms|seconds?|secs?|minutes?)>/.test(option.flags))).toEqual([]);
  });

  it.each(durations.map(({ where, option }) => [`${where} ${option.long}`, option] as const))(
    '%s: help names the forms, the default shown parses to the default used',
    (_name, option) => {
      expect(option.description).toContain(DURATION_FORMS);
      if (option.defaultValue !== undefined) {
        expect(typeof option.defaultValueDescription).toBe('string');
        expect(option.defaultValueDescription).not.toMatch(/^\d{4,}$/);
        expect(parseDuration(option.defaultValueDescription ?? '')).toBe(option.defaultValue);
      }
      if (option.parseArg) {
        // The forms the help promises, through the flag's own parser.
        expect(option.parseArg('30s', undefined)).toBe(30_000);
        expect(option.parseArg('5m', undefined)).toBe(300_000);
        expect(option.parseArg('24h', undefined)).toBe(86_400_000);
        expect(option.parseArg('1500ms', undefined)).toBe(1500);
        expect(option.parseArg('1500', undefined)).toBe(1500);
        expect(() => option.parseArg?.('5 minutes', undefined)).toThrow(/30s, 5m/);
      }
    },
  );
});

describe('short flags', () => {
  it('mean the same thing in every command: -p the pattern, -o the results file (run --out) only', () => {
    const meaning = new Map<string, Set<string>>();
    const where = new Map<string, Set<string>>();
    for (const { where: command, option } of options) {
      if (!option.short || option.short === '-h' || option.short === '-v') continue;
      meaning.set(option.short, (meaning.get(option.short) ?? new Set<string>()).add(option.long ?? ''));
      where.set(option.short, (where.get(option.short) ?? new Set<string>()).add(command));
    }
    expect([...(meaning.get('-p') ?? [])]).toEqual(['--pattern']);
    expect([...(meaning.get('-o') ?? [])]).toEqual(['--out']);
    expect([...(where.get('-o') ?? [])]).toEqual(['visionpipe run']);
    for (const [short, longs] of meaning) {
      expect([...longs], `${short} means one thing`).toHaveLength(1);
      expect(
        SHORT_FLAG_MEANINGS[short] ?? [...longs][0],
        `${short} is the meaning short-flags.ts names`,
      ).toBe([...longs][0]);
    }
  });
});

describe('the real binary', () => {
  it('run --help shows durations and every retry default', async () => {
    const { code, stdout } = await runCli(['run', '--help']);
    expect(code).toBe(0);
    const flat = stdout.replace(/\s+/g, ' ');
    expect(flat).toMatch(
      /--timeout <duration> per-call provider timeout \(a duration: 30s, 5m.*?\) \(default: 2m\)/,
    );
    expect(flat).toMatch(/--cache-ttl <duration> .*?\(default: 24h\)/);
    expect(flat).toMatch(/--max-attempts <n> attempts per image for retryable failures \(default 5\)/);
    expect(flat).toMatch(/--max-retry-wait <duration> .*?\(default 2m\)/);
    expect(stdout).not.toMatch(/default: \d{4,}\)/);
    // Every duration default is a duration ("0s", not "0"); choices say what applies unset.
    expect(flat).toMatch(/--metrics-linger <duration> .*?\(default: 0s\)/);
    expect(flat).not.toMatch(/\(default: 0\)/);
    expect(flat).toMatch(/--pages <mode> documents .*?each = one per page \(default: document\)/);
    expect(flat).toMatch(/--detail <level> OpenAI image detail: low, high or auto \(default: high\)/);
    expect(flat).toMatch(/--profile <name> size profile override: [^(]*\(default: the model's own profile\)/);
  });

  it('refuses a duration it cannot read with exit 2, naming the flag and the forms', async () => {
    const { code, stderr } = await runCli(['run', 'x.jpg', '--timeout', '5minutes']);
    expect(code).toBe(2);
    expect(stderr).toContain('--timeout');
    expect(stderr).toContain('30s, 5m');
    expect(stderr).not.toMatch(/\n\s+at /); // no stack
  });
});
