/**
 * The validation keywords a pattern's JSON Schema may carry and visionpipe keeps:
 * `pattern`, `minLength`, `maxLength` (strings), `minimum`, `maximum`,
 * `exclusiveMinimum`, `exclusiveMaximum`, `multipleOf` (numbers), `minItems`,
 * `maxItems`, `uniqueItems` (arrays). Every output is checked against them (ajv), and
 * each provider receives those its structured-output mode accepts; the others are
 * written into the field's description in words (request-schema.ts), which is what
 * this module's `describeConstraint` is for.
 */
import type { JsonType, SchemaNode } from './types.js';

export const CONSTRAINT_KEYWORDS = [
  'pattern',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minItems',
  'maxItems',
  'uniqueItems',
] as const;

export type ConstraintKeyword = (typeof CONSTRAINT_KEYWORDS)[number];

/** The JSON type each keyword applies to (`number` covers `integer`). */
export const CONSTRAINT_TARGET: Record<ConstraintKeyword, 'string' | 'number' | 'array'> = {
  pattern: 'string',
  minLength: 'string',
  maxLength: 'string',
  minimum: 'number',
  maximum: 'number',
  exclusiveMinimum: 'number',
  exclusiveMaximum: 'number',
  multipleOf: 'number',
  minItems: 'array',
  maxItems: 'array',
  uniqueItems: 'array',
};

/** Whether a node of these types can hold a value the keyword applies to. */
export function appliesTo(keyword: ConstraintKeyword, types: readonly JsonType[]): boolean {
  const target = CONSTRAINT_TARGET[keyword];
  if (target === 'number') return types.includes('number') || types.includes('integer');
  return types.includes(target);
}

/** What a keyword's value must be; undefined when `value` is acceptable. */
export function constraintValueProblem(keyword: ConstraintKeyword, value: unknown): string | undefined {
  switch (keyword) {
    case 'pattern': {
      if (typeof value !== 'string') return 'must be a regular expression (a string)';
      try {
        // ajv compiles patterns in unicode mode; a pattern it cannot compile is refused here, at load.
        new RegExp(value, 'u');
      } catch (error) {
        return `is not a valid regular expression (${(error as Error).message})`;
      }
      return undefined;
    }
    case 'minLength':
    case 'maxLength':
    case 'minItems':
    case 'maxItems':
      return Number.isSafeInteger(value) && (value as number) >= 0 ? undefined : 'must be a whole number ≥ 0';
    case 'multipleOf':
      return typeof value === 'number' && Number.isFinite(value) && value > 0
        ? undefined
        : 'must be a number > 0';
    case 'uniqueItems':
      return typeof value === 'boolean' ? undefined : 'must be true or false';
    default:
      return typeof value === 'number' && Number.isFinite(value) ? undefined : 'must be a finite number';
  }
}

/** Pairs of bounds no value can satisfy at once, for the load-time check. */
export const BOUND_PAIRS: ReadonlyArray<[ConstraintKeyword, ConstraintKeyword]> = [
  ['minLength', 'maxLength'],
  ['minimum', 'maximum'],
  ['minItems', 'maxItems'],
];

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * Some of a node's keywords in words, for a field's description when a provider cannot
 * take them as keywords: `at least 0`, `matches the regular expression ^INV-[0-9]+$`.
 * Bounds that pair up are said together when both are given (`exactly 3 characters`).
 */
export function describeConstraints(node: SchemaNode, keywords: readonly ConstraintKeyword[]): string[] {
  const has = (k: ConstraintKeyword) => keywords.includes(k) && node[k] !== undefined;
  const out: string[] = [];
  const range = (min: ConstraintKeyword, max: ConstraintKeyword, one: string, many: string) => {
    const lo = has(min) ? (node[min] as number) : undefined;
    const hi = has(max) ? (node[max] as number) : undefined;
    if (lo !== undefined && hi !== undefined)
      out.push(lo === hi ? `exactly ${plural(lo, one, many)}` : `${lo} to ${hi} ${many}`);
    else if (lo !== undefined) out.push(`at least ${plural(lo, one, many)}`);
    else if (hi !== undefined) out.push(`at most ${plural(hi, one, many)}`);
  };
  if (has('pattern')) out.push(`matches the regular expression ${node.pattern}`);
  range('minLength', 'maxLength', 'character', 'characters');
  if (has('minimum')) out.push(`at least ${node.minimum}`);
  if (has('exclusiveMinimum')) out.push(`greater than ${node.exclusiveMinimum}`);
  if (has('maximum')) out.push(`at most ${node.maximum}`);
  if (has('exclusiveMaximum')) out.push(`less than ${node.exclusiveMaximum}`);
  if (has('multipleOf')) out.push(`a multiple of ${node.multipleOf}`);
  range('minItems', 'maxItems', 'item', 'items');
  if (has('uniqueItems')) out.push('no item repeated');
  return out;
}
