/**
 * Duration flags, one way for every command: the placeholder is `<duration>`, the help
 * says which forms are accepted, the default is shown as a duration (`2m`, not
 * `120000`), and the parser is config/durations.ts (`30s`, `5m`, `24h`, `7d`, `1500ms`;
 * a bare number is milliseconds). test/cli/durations-help.test.ts holds help and parser
 * to each other.
 */
import { InvalidArgumentError, Option } from 'commander';
import { parseDuration } from '../config/durations.js';

/** What every duration flag's help says about the forms it takes. */
export const DURATION_FORMS = 'a duration: 30s, 5m, 24h, 7d, 1500ms; a bare number is ms';

/** Parses a duration flag's value, ms; a bad one is commander's usage error (exit 2) naming the flag. */
export function durationArg(flag: string, minMs = 0) {
  return (value: string): number => {
    let ms: number;
    try {
      ms = parseDuration(value, flag);
    } catch {
      throw new InvalidArgumentError(`expected ${DURATION_FORMS}, got "${value}".`);
    }
    if (ms < minMs)
      throw new InvalidArgumentError(`must be at least ${durationText(minMs)}, got "${value}".`);
    return ms;
  };
}

/** `0` → `0s`, 120000 → `2m`, 86400000 → `24h`, 1500 → `1500ms`: the shortest exact form. */
export function durationText(ms: number): string {
  if (ms === 0) return '0s';
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    // 24h reads better than 1d for the common cache TTL; days from 2 up.
    if (unit === 'd' && ms < 2 * size) continue;
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/**
 * A `--flag <duration>` option whose help names the accepted forms and shows the default
 * as a duration. `defaultMs` undefined: no default (the help may say what applies).
 */
export function durationOption(flags: string, description: string, defaultMs?: number, minMs = 0): Option {
  const name = flags.split(/[ ,]+/).find((part) => part.startsWith('--')) ?? flags;
  const option = new Option(`${flags} <duration>`, `${description} (${DURATION_FORMS})`).argParser(
    durationArg(name, minMs),
  );
  return defaultMs === undefined ? option : option.default(defaultMs, durationText(defaultMs));
}
