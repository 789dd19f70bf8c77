/**
 * One level of wrapping undone. Some models and proxies send a tool's arguments inside one
 * extra key: Claude's `tool_use.input` as `{"parameter": {…}}`, OpenAI `tool_calls`
 * arguments as `{"arguments": {…}}`, a gateway's `{"data": {…}}`. The wrapped value is the
 * output only when it conforms to the pattern while the wrapper does not, and the wrapper
 * key is not one of the pattern's own fields (a pattern whose one field is an object is
 * answered as it asked). Never more than one level: anything else stays as it came and
 * fails validation (SCHEMA_MISMATCH), as it should.
 */
import { hasOwn } from './objects.js';
import type { Pattern } from './types.js';
import { validateOutput } from './validate.js';

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * `output`, or the value inside its one wrapper key when that value conforms and the
 * wrapper does not; `wrapper` names the key undone (for the record's note).
 */
export function unwrapOutput(
  pattern: Pick<Pattern, 'schema'>,
  output: unknown,
): { output: unknown; wrapper?: string } {
  if (!isPlainObject(output)) return { output };
  const keys = Object.keys(output);
  if (keys.length !== 1) return { output };
  const key = keys[0]!;
  const inner = output[key];
  if (hasOwn(pattern.schema.properties, key) || !isPlainObject(inner)) return { output };
  if (validateOutput(pattern, output).length === 0) return { output };
  if (validateOutput(pattern, inner).length > 0) return { output };
  return { output: inner, wrapper: key };
}

/**
 * The record's note (`cascade.repair`) for an answer read inside its wrapper key, after the
 * repair call's note when there was one: null when neither happened.
 */
export function repairNote(repair: string | null, wrapper: string | undefined): string | null {
  if (wrapper === undefined) return repair;
  return joinNotes(repair, `unwrapped tool arguments from key ${JSON.stringify(wrapper)}`);
}

/** Two notes of the record's `cascade.repair` joined with `; ` (either may be absent). */
export function joinNotes(a: string | null | undefined, b: string | null | undefined): string | null {
  if (a == null) return b ?? null;
  return b == null ? a : `${a}; ${b}`;
}
