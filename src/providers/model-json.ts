/**
 * Reading a model's JSON the way models really write it. Structured-output modes return
 * bare JSON, but OpenAI-compatible servers (vLLM, Ollama, gateways), reasoning models and
 * older models wrap it: a Markdown fence around the whole answer, a sentence before or
 * after it, a `<think>…</think>` block first. Exactly one JSON object or array in the
 * answer is the output; none, or two that disagree, is BAD_RESPONSE, marked not retryable
 * (at temperature 0 the same request writes the same answer) and carrying the text, so the
 * caller can ask for one repair instead of paying for blind retries.
 *
 * Strict JSON is tried first, everywhere; only when no strict value is found is the answer
 * read as JSON5 (local models write `//` and `/* *\/` comments and trailing commas), and the
 * value is marked (lenientlyRead) so the record can say a lenient repair was applied.
 */
import JSON5 from 'json5';
import { VisionpipeError } from '../errors.js';
import { redactedPrefix } from '../secrets.js';

/** How the value was found: bare JSON, inside a fence, or inside prose. */
export type JsonFound = 'bare' | 'fenced' | 'embedded';

const THINKING = /<think(?:ing)?>[\s\S]*?<\/think(?:ing)?>/gi;
const WHOLE_FENCE = /^```[ \t]*(?:json|JSON|javascript|js)?[ \t]*\r?\n([\s\S]*?)\r?\n?```$/;

type Parse = (text: string) => unknown;

function tryParse(text: string, parse: Parse = JSON.parse): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: parse(text) };
  } catch {
    return { ok: false };
  }
}

/** JSON5 (comments, trailing commas, single quotes), for JSON only: no NaN/Infinity slip through. */
function parseJson5(text: string): unknown {
  const value: unknown = JSON5.parse(text);
  if (JSON.stringify(value) === undefined) throw new SyntaxError('not a JSON value');
  if (/\b(?:NaN|Infinity)\b/.test(text) && containsNonFinite(value))
    throw new SyntaxError('non-finite number');
  return value;
}

function containsNonFinite(value: unknown): boolean {
  if (typeof value === 'number') return !Number.isFinite(value);
  if (value === null || typeof value !== 'object') return false;
  return Object.values(value).some(containsNonFinite);
}

const lenientValues = new WeakSet<object>();

/** Whether `value` (an object or array) was found only by the lenient JSON5 read. */
export function lenientlyRead(value: unknown): boolean {
  return typeof value === 'object' && value !== null && lenientValues.has(value);
}

/** End index (exclusive) of the balanced {…} or […] starting at `start`, string-aware; -1 if it never closes. */
function balancedEnd(text: string, start: number): number {
  const stack: string[] = [];
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '/' && text[i + 1] === '/') {
      const eol = text.indexOf('\n', i);
      i = eol === -1 ? text.length : eol;
    } else if (c === '/' && text[i + 1] === '*') {
      const close = text.indexOf('*/', i + 2);
      if (close === -1) return -1;
      i = close + 1;
    } else if (c === '{' || c === '[') stack.push(c === '{' ? '}' : ']');
    else if (c === '}' || c === ']') {
      if (stack.pop() !== c) return -1;
      if (stack.length === 0) return i + 1;
    }
  }
  return -1;
}

/** Every top-level JSON object or array written inside `text`, in order. */
function embeddedValues(text: string, parse: Parse = JSON.parse): unknown[] {
  const values: unknown[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c !== '{' && c !== '[') {
      i++;
      continue;
    }
    const end = balancedEnd(text, i);
    const parsed = end === -1 ? { ok: false as const } : tryParse(text.slice(i, end), parse);
    if (parsed.ok) {
      values.push(parsed.value);
      i = end;
    } else i++;
  }
  return values;
}

/**
 * The one JSON value in a model's answer, and how it was found; undefined when there is
 * none or more than one that differ (the answer is ambiguous).
 */
export function findModelJson(text: string): { value: unknown; found: JsonFound } | undefined {
  const trimmed = text.replace(THINKING, '').trim();
  const strict = findWith(trimmed, JSON.parse);
  if (strict) return strict;
  const lenient = findWith(trimmed, parseJson5);
  if (lenient && typeof lenient.value === 'object' && lenient.value !== null)
    lenientValues.add(lenient.value);
  return lenient;
}

function findWith(trimmed: string, parse: Parse): { value: unknown; found: JsonFound } | undefined {
  const bare = tryParse(trimmed, parse);
  if (bare.ok) return { value: bare.value, found: 'bare' };
  const fence = WHOLE_FENCE.exec(trimmed);
  if (fence) {
    const inner = tryParse(fence[1]!.trim(), parse);
    if (inner.ok) return { value: inner.value, found: 'fenced' };
  }
  const values = embeddedValues(trimmed, parse);
  const objects = values.filter((v) => v !== null && typeof v === 'object' && !Array.isArray(v));
  // Prose may quote a small array ("see [1]"): one object among them is the answer.
  const candidates = objects.length > 0 ? objects : values;
  const distinct = new Set(candidates.map((v) => JSON.stringify(v)));
  if (distinct.size !== 1) return undefined;
  return { value: candidates[0], found: 'embedded' };
}

/**
 * One level of string-encoded JSON undone: an answer whose JSON value is a string that
 * itself holds one JSON object (`"{\"total\": 1}"`: a gateway or model that encodes its
 * output twice) is that object. Only an object is unwrapped, only once; any other string
 * stays a string (and fails the schema, which expects an object, as it should).
 */
export function unwrapEncodedObject(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const inner = findModelJson(value);
  const object = inner?.value;
  return object !== null && typeof object === 'object' && !Array.isArray(object) ? object : value;
}

/**
 * Parses the model's answer (see findModelJson); BAD_RESPONSE, not retryable, when it
 * holds no single JSON value. `why` explains a cut-off answer (" (cut off at …)").
 * `expectObject` (extraction answers, whose schema is always an object): a value that is a
 * string holding a JSON object is read one level further (unwrapEncodedObject).
 */
export function parseModelJson(provider: string, text: string, why = '', expectObject = false): unknown {
  const found = findModelJson(text);
  if (found) return expectObject ? unwrapEncodedObject(found.value) : found.value;
  const values = embeddedValues(text.replace(THINKING, ''));
  const what = values.length > 1 ? `${values.length} different JSON values` : 'no JSON value';
  throw new VisionpipeError(
    'BAD_RESPONSE',
    `${provider}: the model's output is not valid JSON${why}: ${what} in ${text.length} chars (${JSON.stringify(redactedPrefix(text, 60))}…)`,
    { retryable: false },
  );
}
