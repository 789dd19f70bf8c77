/**
 * Validation at the edge: options, config files and CLI flags are parsed with zod and
 * every failure becomes an INVALID_OPTION error that names the option and the bad value,
 * the way sharp reports "Expected integer between 1 and 100 for quality but received 150".
 */
import type { z } from 'zod';
import { VisionpipeError } from '../errors.js';
import { redactedPrefix } from '../secrets.js';

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(redactedPrefix(value, 57, { ellipsis: '...' }));
  try {
    const json = JSON.stringify(value);
    return redactedPrefix(json, 57, { ellipsis: '...' });
  } catch {
    return String(value);
  }
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current = root;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/**
 * Parses `value` with `schema`; on failure throws INVALID_OPTION for the first issue,
 * e.g. `preprocess option "quality": Too big: expected number to be <=100 (got 150)`.
 */
export function parseOptions<S extends z.ZodType>(schema: S, value: unknown, context: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const keys = issue.code === 'unrecognized_keys' ? (issue as { keys: string[] }).keys : [];
  const path = [...issue.path, ...keys.slice(0, 1)].map(String);
  const option = path.join('.');
  const got = issue.code === 'unrecognized_keys' ? '' : ` (got ${describeValue(valueAt(value, issue.path))})`;
  const message =
    issue.code === 'unrecognized_keys'
      ? `${context} option "${option}" is not a known option`
      : `${context} option "${option}": ${issue.message}${got}`;
  throw new VisionpipeError('INVALID_OPTION', message, { option });
}
