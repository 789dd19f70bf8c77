/**
 * A real JSON Schema → one strict schema: the shape vision models' structured-output
 * modes accept, with the pattern's own constraints kept.
 * - every field (an object's property) may be null, meaning "not found": a scalar, an
 *   object or list outside `required`, a list that must not be empty (`minItems` ≥ 1).
 *   A model is never made to invent a value, and the local engine never fails a record
 *   for one field it cannot read. Fields the pattern declares required and non-null are
 *   listed in `requiredFields` (a null there is worth an escalation). Then every
 *   property is required and `additionalProperties: false` (strict mode wants both);
 * - kept: type, title, description, format (KEPT_FORMATS), enum, properties, required,
 *   items, and the constraints (constraints.ts: pattern, minLength, maxLength, minimum,
 *   maximum, exclusiveMinimum, exclusiveMaximum, multipleOf, minItems, maxItems,
 *   uniqueItems), each checked for a sensible value; `const` becomes a one-value enum,
 *   OpenAPI's `nullable: true` becomes a `null` type. Anything else that would constrain
 *   values (`not`, `if`, an unknown format…) is reported in `warnings`: nobody checks it;
 * - local `$ref`s (`#/$defs/...`, `#/definitions/...`, any `#/` pointer) are inlined;
 *   a recursive `$ref` is refused (a strict schema must be finite), as are remote ones;
 * - `anyOf`/`oneOf` are understood in the two shapes generators emit (`X or null`, and a
 *   union of scalar types), `allOf` with one entry (Pydantic's `$ref` + description);
 * - a node without `type` takes it from `properties`, `items`, `enum`/`const` or `format`;
 *   free-form objects (no `properties`) and arrays without `items` are refused, because
 *   a strict schema cannot express them;
 * - the root must be an object.
 */

import { allOfConflict } from './all-of-conflict.js';
import { SchemaBudget } from './budget.js';
import {
  appliesTo,
  BOUND_PAIRS,
  CONSTRAINT_KEYWORDS,
  CONSTRAINT_TARGET,
  constraintValueProblem,
} from './constraints.js';
import { invalidPattern } from './invalid.js';
import { describeValue, hasOwn, isPlainObject, pointerSegment } from './objects.js';
import { unenforcedKeywords } from './schema-keywords.js';
import { makeNullable, setTypes, strictObject, valueTypes } from './schema-node.js';
import { KEPT_FORMATS } from './type-names.js';
import type { JsonType, ObjectSchema, SchemaNode } from './types.js';
import { distinctValueCount, emptyValueSetReason } from './value-set.js';

export const JSON_TYPES: ReadonlySet<string> = new Set([
  'object',
  'array',
  'string',
  'number',
  'integer',
  'boolean',
  'null',
]);
const SCALAR_TYPES: ReadonlySet<string> = new Set(['string', 'number', 'integer', 'boolean']);

interface Context {
  origin: string;
  root: Record<string, unknown>;
  /** What nobody will check, one sentence each. */
  warnings: string[];
  /** Output pointers of fields declared required and non-null. */
  requiredFields: string[];
  /** Depth, nodes and bytes of the expanded schema so far (budget.ts): `$ref` bombs stop here. */
  budget: SchemaBudget;
  /**
   * `$ref`s followed by the fields enclosing the one being read: meeting one again is
   * recursion. A set, added to and taken from as fields are entered and left, so each
   * check is O(1) however long the path (a copied list made chains quadratic).
   */
  activeRefs: Set<string>;
  /** Warnings left out past MAX_WARNINGS. */
  warningsLeftOut: number;
  /** Nodes that admit no non-null value, and why (value-set.ts); their field decides. */
  emptyValueSets: WeakMap<SchemaNode, string>;
}

/** Warnings kept for one schema; a schema with 45 000 unknown keywords says so once, not 45 000 times. */
export const MAX_WARNINGS = 20;

/** The normalised schema and what normalisation learnt about the pattern on the way. */
export interface NormalizedSchema {
  schema: ObjectSchema;
  /** See Pattern.requiredFields. */
  requiredFields: string[];
  /** See Pattern.warnings. */
  warnings: string[];
  /** `$ref` steps taken (SchemaBudget.followRef): linear in the schema, whatever its shape. */
  refSteps?: number;
}

type EnumValue = string | number | boolean | null;

function where(path: string): string {
  return `json_schema${path === '' ? '' : ` at ${path}`}`;
}

function fail(ctx: Context, path: string, message: string): never {
  throw invalidPattern(ctx.origin, `${where(path)}: ${message}`);
}

function warn(ctx: Context, path: string, message: string): void {
  if (ctx.warnings.length < MAX_WARNINGS) ctx.warnings.push(`${where(path)}: ${message}`);
  else ctx.warningsLeftOut += 1;
}

function resolveRef(ctx: Context, ref: string, path: string): unknown {
  if (!ref.startsWith('#'))
    fail(ctx, path, `only local $refs such as "#/$defs/Item" are supported (got ${describeValue(ref)})`);
  let pointer: string;
  try {
    pointer = decodeURIComponent(ref.slice(1));
  } catch {
    fail(ctx, path, `$ref ${describeValue(ref)} is not a valid JSON pointer`);
  }
  if (pointer === '' || pointer === '/') return ctx.root;
  if (!pointer.startsWith('/')) fail(ctx, path, `$ref ${describeValue(ref)} is not a JSON pointer ("#/...")`);
  let current: unknown = ctx.root;
  for (const segment of pointer.slice(1).split('/')) {
    const key = segment.replaceAll('~1', '/').replaceAll('~0', '~');
    if ((isPlainObject(current) || Array.isArray(current)) && hasOwn(current, key)) {
      current = (current as Record<string, unknown>)[key];
    } else {
      fail(ctx, path, `$ref ${describeValue(ref)} points to nothing`);
    }
  }
  return current;
}

function isNullSchema(value: unknown): boolean {
  if (!isPlainObject(value)) return false;
  const type = value.type;
  return type === 'null' || (Array.isArray(type) && type.length === 1 && type[0] === 'null');
}

/** A schema that is only a scalar type (plus annotations), as in `anyOf: [{type: string}, {type: number}]`. */
function scalarTypeOf(value: unknown): string | undefined {
  if (!isPlainObject(value) || typeof value.type !== 'string' || !SCALAR_TYPES.has(value.type))
    return undefined;
  const extra = Object.keys(value).filter((k) => !['type', 'title', 'description'].includes(k));
  return extra.length === 0 ? value.type : undefined;
}

interface Flat {
  schema: Record<string, unknown>;
  nullable: boolean;
  /** The `$ref`s this node followed, in order (none is in ctx.activeRefs). */
  refs: string[];
}

/** Inlines `$ref`, one-entry `allOf` and nullable `anyOf`/`oneOf` into one plain schema object. */
function flatten(raw: unknown, path: string, ctx: Context): Flat {
  let current = raw;
  let nullable = false;
  const followed = new Set<string>();
  for (;;) {
    if (!isPlainObject(current)) fail(ctx, path, `must be a schema object (got ${describeValue(current)})`);
    const { $ref, allOf, anyOf, oneOf, ...rest } = current;
    if ($ref !== undefined) {
      if (typeof $ref !== 'string') fail(ctx, path, `$ref must be a string (got ${describeValue($ref)})`);
      if (followed.has($ref) || ctx.activeRefs.has($ref))
        fail(
          ctx,
          path,
          `recursive $ref ${describeValue($ref)} is not supported: a strict schema must be finite (unroll it to the depth you need)`,
        );
      const target = resolveRef(ctx, $ref, path);
      if (!isPlainObject(target))
        fail(ctx, path, `$ref ${describeValue($ref)} points to ${describeValue(target)}, not a schema`);
      followed.add($ref);
      ctx.budget.followRef(path, followed.size, Object.keys(target).length);
      // Keywords beside $ref (description, title, nullable…) refine the target.
      current = {
        ...target,
        ...rest,
        ...(allOf ? { allOf } : {}),
        ...(anyOf ? { anyOf } : {}),
        ...(oneOf ? { oneOf } : {}),
      };
      continue;
    }
    if (allOf !== undefined) {
      if (!Array.isArray(allOf) || allOf.length > 1) {
        // Branches that admit no value together are named: no answer could ever meet them.
        const conflict = Array.isArray(allOf) ? allOfConflict(allOf) : undefined;
        if (conflict !== undefined)
          fail(ctx, path, `the branches of allOf conflict: ${conflict}, so no answer can meet it`);
        fail(ctx, path, 'allOf with more than one schema is not supported: merge them into one schema');
      }
      current = allOf.length === 1 && isPlainObject(allOf[0]) ? { ...allOf[0], ...rest } : rest;
      if (anyOf !== undefined) (current as Record<string, unknown>).anyOf = anyOf;
      if (oneOf !== undefined) (current as Record<string, unknown>).oneOf = oneOf;
      continue;
    }
    const variants = anyOf ?? oneOf;
    if (variants !== undefined) {
      const keyword = anyOf === undefined ? 'oneOf' : 'anyOf';
      if (!Array.isArray(variants) || variants.length === 0)
        fail(ctx, path, `${keyword} must be a non-empty list of schemas`);
      const others = variants.filter((v) => !isNullSchema(v));
      if (others.length < variants.length) nullable = true;
      if (others.length === 1 && isPlainObject(others[0])) {
        current = { ...others[0], ...rest };
        continue;
      }
      const scalars = others.map(scalarTypeOf);
      if (others.length > 1 && scalars.every((t) => t !== undefined)) {
        current = { ...rest, type: scalars };
        continue;
      }
      fail(
        ctx,
        path,
        `${keyword} is only supported as "X or null" or as a union of scalar types (string, number, integer, boolean)`,
      );
    }
    return { schema: current, nullable, refs: [...followed] };
  }
}

function enumValues(schema: Record<string, unknown>, path: string, ctx: Context): EnumValue[] | undefined {
  const raw = hasOwn(schema, 'const') ? [schema.const] : schema.enum;
  if (raw === undefined) return undefined;
  if (!Array.isArray(raw) || raw.length === 0)
    fail(ctx, path, `enum must be a non-empty list (got ${describeValue(raw)})`);
  const bad = raw.find((v) => v !== null && !['string', 'number', 'boolean'].includes(typeof v));
  if (bad !== undefined)
    fail(ctx, path, `enum values must be strings, numbers, booleans or null (got ${describeValue(bad)})`);
  return raw as EnumValue[];
}

function readTypes(
  schema: Record<string, unknown>,
  values: EnumValue[] | undefined,
  path: string,
  ctx: Context,
): JsonType[] {
  const { type } = schema;
  const check = (t: unknown): JsonType => {
    if (typeof t === 'string' && JSON_TYPES.has(t)) return t as JsonType;
    return fail(ctx, path, `"type" must be one of ${[...JSON_TYPES].join(', ')} (got ${describeValue(t)})`);
  };
  if (typeof type === 'string') return [check(type)];
  if (Array.isArray(type) && type.length > 0) return type.map(check);
  if (type !== undefined)
    fail(ctx, path, `"type" must be a type name or a list of them (got ${describeValue(type)})`);
  if (isPlainObject(schema.properties)) return ['object'];
  if (schema.items !== undefined) return ['array'];
  if (values) {
    const kinds = values.map((v): JsonType => (v === null ? 'null' : (typeof v as JsonType)));
    return [...new Set(kinds)];
  }
  if (typeof schema.format === 'string' && KEPT_FORMATS.has(schema.format)) return ['string'];
  return fail(ctx, path, 'has no "type" (give one: strict schemas cannot accept any value)');
}

/** The constraint keywords of `schema` that apply to `types`, checked; the others are reported. */
function readConstraints(
  schema: Record<string, unknown>,
  types: JsonType[],
  path: string,
  ctx: Context,
): Partial<SchemaNode> {
  const out: Record<string, unknown> = {};
  for (const keyword of CONSTRAINT_KEYWORDS) {
    if (!hasOwn(schema, keyword)) continue;
    const value = schema[keyword];
    const problem = constraintValueProblem(keyword, value);
    if (problem) fail(ctx, path, `${keyword} ${problem} (got ${describeValue(value)})`);
    if (!appliesTo(keyword, types)) {
      warn(
        ctx,
        path,
        `${keyword} applies to ${CONSTRAINT_TARGET[keyword]}s, not ${types.join(' or ')}: not enforced`,
      );
      continue;
    }
    if (keyword === 'uniqueItems' && value === false) continue; // the default
    out[keyword] = value;
  }
  for (const [min, max] of BOUND_PAIRS) {
    const lo = out[min] as number | undefined;
    const hi = out[max] as number | undefined;
    if (lo !== undefined && hi !== undefined && lo > hi)
      fail(ctx, path, `${min} ${lo} is greater than ${max} ${hi}: no value can satisfy both`);
  }
  // An exclusive bound must lie strictly beyond the other: said here, in the json_schema path style.
  for (const [min, max] of EXCLUSIVE_PAIRS) {
    const lo = out[min] as number | undefined;
    const hi = out[max] as number | undefined;
    if (lo !== undefined && hi !== undefined && lo >= hi)
      fail(ctx, path, `${min} ${lo} is not below ${max} ${hi}: no value can satisfy both`);
  }
  return out as Partial<SchemaNode>;
}

const EXCLUSIVE_PAIRS: ReadonlyArray<[string, string]> = [
  ['exclusiveMinimum', 'maximum'],
  ['minimum', 'exclusiveMaximum'],
  ['exclusiveMinimum', 'exclusiveMaximum'],
];

/** Reports the keywords of `schema` that the normalised node cannot carry. */
function reportUnenforced(schema: Record<string, unknown>, types: JsonType[], path: string, ctx: Context) {
  for (const keyword of unenforcedKeywords(schema))
    warn(ctx, path, `"${keyword}" is not supported: values are not checked against it`);
  const extra = schema.additionalProperties;
  if (extra !== undefined && extra !== false)
    warn(
      ctx,
      path,
      'additionalProperties other than false is not supported: only the listed properties are read',
    );
  const format = schema.format;
  if (typeof format === 'string' && types.includes('string') && !KEPT_FORMATS.has(format))
    warn(
      ctx,
      path,
      `format "${format}" is not checked (checked: ${[...KEPT_FORMATS].join(', ')}); it is kept in the description`,
    );
}

/** A node whose values are scalars (what a model or OCR reads as one value). */
function isScalar(node: SchemaNode): boolean {
  return valueTypes(node).every((t) => t !== 'object' && t !== 'array');
}

/**
 * One property of an object. `field` is its pointer in outputs, with `*` for every item of a list.
 * Every field may be null ("not found"), except lists and objects the pattern requires:
 * their emptiness is `[]` and an object of nulls.
 */
function normalizeField(
  raw: unknown,
  path: string,
  field: string,
  required: boolean,
  ctx: Context,
): SchemaNode {
  const at = ctx.requiredFields.length; // a list comes before its items' fields
  const child = normalizeNode(raw, path, field, ctx);
  const declaredNull = valueTypes(child).length < (Array.isArray(child.type) ? child.type.length : 1);
  const empty = ctx.emptyValueSets.get(child);
  if (empty !== undefined) {
    // A required field no value can fill fails every image after it is paid for.
    if (required && !declaredNull)
      fail(ctx, path, `required field ${field} has an empty value set: ${empty}, so no answer can meet it`);
    warn(ctx, path, `field ${field} has an empty value set (${empty}): it can only be null`);
  }
  const scalar = isScalar(child);
  const mustHaveItems = (child.minItems ?? 0) > 0;
  if (required && !declaredNull && (scalar || mustHaveItems)) ctx.requiredFields.splice(at, 0, field);
  return !required || scalar || mustHaveItems ? makeNullable(child) : child;
}

function normalizeNode(raw: unknown, path: string, field: string, ctx: Context): SchemaNode {
  const { schema, nullable, refs } = flatten(raw, path, ctx);
  const values = enumValues(schema, path, ctx);
  const types = readTypes(schema, values, path, ctx);
  if (nullable || schema.nullable === true) types.push('null');
  reportUnenforced(schema, types, path, ctx);
  let node: SchemaNode = setTypes({ type: 'null' }, types);
  if (typeof schema.title === 'string') node.title = schema.title;
  if (typeof schema.description === 'string') node.description = schema.description;
  if (typeof schema.format === 'string' && types.includes('string')) {
    if (KEPT_FORMATS.has(schema.format)) node.format = schema.format;
    else node.description = [node.description, `Format: ${schema.format}.`].filter(Boolean).join(' ');
  }
  if (values) node.enum = types.includes('null') && !values.includes(null) ? [...values, null] : values;
  node = { ...node, ...readConstraints(schema, types, path, ctx) };
  const empty = emptyValueSetReason(schema, node, types);
  if (empty !== undefined) ctx.emptyValueSets.set(node, empty);
  ctx.budget.enter(path, JSON.stringify(node).length);
  for (const ref of refs) ctx.activeRefs.add(ref);

  if (types.includes('object')) {
    const properties = schema.properties;
    if (!isPlainObject(properties) || Object.keys(properties).length === 0)
      fail(
        ctx,
        path,
        'an object needs "properties" listing its fields (free-form objects and maps cannot be strict)',
      );
    const required = Array.isArray(schema.required)
      ? schema.required.filter((k): k is string => typeof k === 'string')
      : [];
    const object = strictObject(
      Object.keys(properties).map((key) => {
        const segment = pointerSegment(key);
        const child = normalizeField(
          properties[key],
          `${path}/properties/${segment}`,
          `${field}/${segment}`,
          required.includes(key),
          ctx,
        );
        return [key, child];
      }),
    );
    node = { ...node, properties: object.properties, required: object.required, additionalProperties: false };
  }
  if (types.includes('array')) {
    const items = schema.items;
    if (!isPlainObject(items))
      fail(
        ctx,
        path,
        `an array needs "items" with one schema for its elements (got ${describeValue(items)})`,
      );
    node.items = normalizeNode(items, `${path}/items`, `${field}/*`, ctx);
    const emptyItems = ctx.emptyValueSets.get(node.items);
    if (emptyItems !== undefined && (node.minItems ?? 0) > 0)
      fail(
        ctx,
        path,
        `the items of ${field || 'the root'} have an empty value set (${emptyItems}), but minItems is ${node.minItems}`,
      );
    // uniqueItems with fewer distinct item values than minItems: no list can meet both.
    const distinct = node.uniqueItems ? distinctValueCount(node.items) : undefined;
    if (distinct !== undefined && (node.minItems ?? 0) > distinct)
      fail(
        ctx,
        path,
        `${field || 'the root'} has uniqueItems, but its items allow only ${distinct} distinct value${distinct === 1 ? '' : 's'} and minItems is ${node.minItems}`,
      );
  }
  for (const ref of refs) ctx.activeRefs.delete(ref);
  ctx.budget.leave();
  return node;
}

export function normalizeJsonSchema(raw: Record<string, unknown>, origin: string): NormalizedSchema {
  const ctx: Context = {
    origin,
    root: raw,
    warnings: [],
    requiredFields: [],
    budget: new SchemaBudget(origin),
    activeRefs: new Set(['#']),
    warningsLeftOut: 0,
    emptyValueSets: new WeakMap(),
  };
  // The root's type is checked before anything below it, so the message is about the root.
  const { schema } = flatten(raw, '', ctx);
  const types = readTypes(schema, enumValues(schema, '', ctx), '', ctx).filter((t) => t !== 'null');
  if (types.length !== 1 || types[0] !== 'object')
    fail(
      ctx,
      '',
      `the root must be an object schema (got type ${describeValue(types.length === 1 ? types[0] : types)})`,
    );
  const node = normalizeNode(raw, '', '', ctx);
  const warnings = [...ctx.warnings];
  if (ctx.warningsLeftOut > 0)
    warnings.push(
      `json_schema: ${ctx.warningsLeftOut} more warning${ctx.warningsLeftOut === 1 ? '' : 's'} like these not shown (the first ${MAX_WARNINGS} are)`,
    );
  return {
    schema: { ...node, type: 'object' } as ObjectSchema,
    requiredFields: ctx.requiredFields,
    warnings,
    refSteps: ctx.budget.refStepsTaken,
  };
}

/**
 * Whether `json_schema` is a real JSON Schema rather than an ImgGo example object. It is
 * read as a schema when it has `$schema`, `properties` (an object), `$ref`, `items`,
 * `type: "object"`/`"array"` or a list of types; anything else is an example object
 * (`{"type": "string"}` alone is therefore an example with one field named `type`).
 */
export function looksLikeJsonSchema(value: Record<string, unknown>): boolean {
  if (hasOwn(value, '$schema') || typeof value.$ref === 'string') return true;
  if (isPlainObject(value.properties)) return true;
  if (value.type === 'object' || value.type === 'array' || Array.isArray(value.type)) return true;
  return typeof value.type === 'string' && JSON_TYPES.has(value.type) && isPlainObject(value.items);
}
