/**
 * The "empty value set" check (issue 12): constraints that each look sensible but leave no
 * value at all — `multipleOf: 2` between 1 and 1, `const: "x"` with `enum: ["y"]`,
 * `not: {}`, `minLength: 5` with `enum: ["ab"]`, an integer between 1.2 and 1.8, a `const`
 * of another type than the field's. A required field with such a schema would make every
 * image fail SCHEMA_MISMATCH after it was paid for, so the pattern is refused at load.
 */

import { withArticle } from '../article.js';
import { hasOwn, isPlainObject } from './objects.js';
import type { JsonType, SchemaNode } from './types.js';

type Scalar = string | number | boolean | null;

/** Tolerance for `multipleOf` with decimals (0.1 × 3 is 0.30000000000000004). */
const EPSILON = 1e-9;

function isMultiple(value: number, step: number): boolean {
  const q = value / step;
  return Math.abs(q - Math.round(q)) < EPSILON * Math.max(1, Math.abs(q));
}

/** Whether `value` is of one of `types` and meets the node's own constraints. */
function admits(value: Scalar, types: readonly JsonType[], node: SchemaNode): boolean {
  if (value === null) return types.includes('null');
  if (typeof value === 'string') {
    if (!types.includes('string')) return false;
    const length = [...value].length;
    if (node.minLength !== undefined && length < node.minLength) return false;
    if (node.maxLength !== undefined && length > node.maxLength) return false;
    if (node.pattern !== undefined) {
      try {
        if (!new RegExp(node.pattern, 'u').test(value)) return false;
      } catch {
        return true; // an invalid pattern is refused elsewhere
      }
    }
    return true;
  }
  if (typeof value === 'boolean') return types.includes('boolean');
  const numeric = types.includes('number') || (types.includes('integer') && Number.isInteger(value));
  if (!numeric) return false;
  if (node.minimum !== undefined && value < node.minimum) return false;
  if (node.maximum !== undefined && value > node.maximum) return false;
  if (node.exclusiveMinimum !== undefined && value <= node.exclusiveMinimum) return false;
  if (node.exclusiveMaximum !== undefined && value >= node.exclusiveMaximum) return false;
  if (node.multipleOf !== undefined && !isMultiple(value, node.multipleOf)) return false;
  return true;
}

/**
 * The step of the integers that are multiples of `multipleOf`: `multipleOf` itself when it
 * is an integer; for a decimal p/q in lowest terms, p (0.4 = 2/5: every even integer;
 * 2.5 = 5/2: multiples of 5). Undefined when the decimal is too long to work out exactly.
 */
export function integerStep(multipleOf: number): number | undefined {
  if (Number.isInteger(multipleOf)) return multipleOf;
  const digits = /^\d+(?:\.(\d+))?$/.exec(String(multipleOf))?.[1]?.length;
  if (digits === undefined || digits > 12) return undefined;
  const q = 10 ** digits;
  const p = Math.round(multipleOf * q);
  let [a, b] = [p, q];
  while (b !== 0) [a, b] = [b, a % b];
  return p / a;
}

/**
 * The one string an anchored literal pattern admits (`^INV-001$` → "INV-001"), or undefined
 * for any other pattern (classes, quantifiers, alternation: not worked out).
 */
export function patternLiteral(pattern: string): string | undefined {
  const match = /^\^((?:[^\\.^$|?*+()[\]{}]|\\[\\.^$|?*+()[\]{}/-])*)\$$/.exec(pattern);
  return match ? match[1]!.replace(/\\(.)/g, '$1') : undefined;
}

/** Why no number of the node's type lies within its bounds; undefined when one does (or may). */
function emptyNumberRange(node: SchemaNode, integer: boolean): string | undefined {
  const lows = [node.minimum, node.exclusiveMinimum].filter((v) => v !== undefined);
  const highs = [node.maximum, node.exclusiveMaximum].filter((v) => v !== undefined);
  if (lows.length === 0 || highs.length === 0) return undefined;
  const low = Math.max(...lows);
  const high = Math.min(...highs);
  const lowOpen = node.exclusiveMinimum !== undefined && node.exclusiveMinimum === low;
  const highOpen = node.exclusiveMaximum !== undefined && node.exclusiveMaximum === high;
  const step = integer
    ? node.multipleOf === undefined
      ? 1
      : integerStep(node.multipleOf) // undefined: not worked out, accepted
    : node.multipleOf;
  if (step === undefined) return undefined;
  let first = Math.ceil(low / step - EPSILON) * step;
  if (lowOpen && Math.abs(first - low) < EPSILON * Math.max(1, Math.abs(low))) first += step;
  const over = highOpen
    ? first >= high - EPSILON * Math.max(1, Math.abs(high))
    : first > high + EPSILON * Math.max(1, Math.abs(high));
  if (!over) return undefined;
  const what = integer
    ? node.multipleOf === undefined
      ? 'no integer'
      : `no integer multiple of ${node.multipleOf}`
    : `no multiple of ${node.multipleOf}`;
  return `${what} lies between ${low} and ${high}`;
}

/**
 * Why a node admits no non-null value, in words; undefined when some value may meet it.
 * `schema` is the node as written (after `$ref`s and `allOf` are flattened), `node` the
 * normalised node, `types` its types without `null`. Exact for `const`/`enum` (each
 * value is tested against the type and the constraints), for `not` with an empty schema,
 * and for numeric ranges; other combinations (two regular expressions, say) are accepted.
 */
export function emptyValueSetReason(
  schema: Record<string, unknown>,
  node: SchemaNode,
  types: readonly JsonType[],
): string | undefined {
  const not = schema.not;
  if (not === true || (isPlainObject(not) && Object.keys(not).length === 0))
    return '"not" holds a schema every value matches, so no value is allowed';
  const nonNull = types.filter((t) => t !== 'null');
  if (nonNull.length === 0) return undefined; // a field that can only be null says so itself
  const hasConst = hasOwn(schema, 'const');
  const hasEnum = Array.isArray(schema.enum);
  if (hasConst && hasEnum) {
    const constValue = schema.const;
    if (!(schema.enum as unknown[]).some((v) => v === constValue))
      return `const ${JSON.stringify(constValue)} is not one of enum ${JSON.stringify(schema.enum)}`;
  }
  if (hasConst || hasEnum) {
    const values = (hasConst ? [schema.const] : (schema.enum as unknown[])) as Scalar[];
    const candidates = values.filter((v) => v !== null);
    if (candidates.length > 0 && !candidates.some((v) => admits(v, nonNull, node)))
      return `none of the allowed values ${JSON.stringify(candidates).slice(0, 200)} is ${withArticle(nonNull.join(' or '))} meeting the field's constraints`;
    return undefined;
  }
  const literal = typeof schema.pattern === 'string' ? patternLiteral(schema.pattern) : undefined;
  if (literal !== undefined && nonNull.every((t) => t === 'string') && !admits(literal, nonNull, node))
    return `pattern ${schema.pattern} allows only ${JSON.stringify(literal)}, which does not meet the field's other constraints`;
  if (nonNull.every((t) => t === 'integer')) return emptyNumberRange(node, true);
  if (nonNull.every((t) => t === 'number' || t === 'integer')) return emptyNumberRange(node, false);
  return undefined;
}

/**
 * How many distinct values a normalised node admits when that number is finite: its `enum`
 * (a `const` is a one-value enum) counted once per value, or a boolean field's two values,
 * plus null when the type allows it. Undefined when the values are not a short list.
 */
export function distinctValueCount(node: SchemaNode): number | undefined {
  const types = Array.isArray(node.type) ? node.type : [node.type];
  const nullable = types.includes('null') ? 1 : 0;
  if (node.enum !== undefined) return new Set(node.enum.map((v) => JSON.stringify(v))).size;
  if (types.every((t) => t === 'boolean' || t === 'null')) return 2 + nullable;
  return undefined;
}
