/**
 * Example values → schema, shared by ImgGo example objects (json_schema), example YAML
 * and example XML. The example shows the shape; the rules make it strict:
 * - scalars are nullable (a field may be absent from the image); a string that is a
 *   type name (`"date"`, `"integer"`, see type-names.ts) gives that type, a string that
 *   is an ISO date gives `format: date`, any number gives `number` (a whole number in an
 *   example is no promise that every value is whole: ask for `"integer"` by name);
 * - arrays are not nullable (none is `[]`) and take their items from the first element,
 *   with object keys merged across all elements; scalar items are not nullable either
 *   (an absent entry is simply not in the list);
 * - objects are not nullable: their fields carry the nullability.
 */
import { invalidPattern } from './invalid.js';
import { describeValue, isPlainObject, pointerSegment } from './objects.js';
import { makeRequired, strictObject } from './schema-node.js';
import { ISO_DATE_RE, readTypeName } from './type-names.js';
import type { ObjectSchema, SchemaNode } from './types.js';

export interface InferContext {
  origin: string;
  /** The pattern field the example came from, for messages (`json_schema`, `yaml_schema`...). */
  field: string;
}

function where(ctx: InferContext, path: string): string {
  return path === '' ? ctx.field : `${ctx.field} at ${path}`;
}

function inferScalar(value: string | number | boolean | null): SchemaNode {
  if (value === null) return { type: ['string', 'null'] };
  if (typeof value === 'number') return { type: ['number', 'null'] };
  if (typeof value === 'boolean') return { type: ['boolean', 'null'] };
  const named = readTypeName(value);
  if (named) {
    const node: SchemaNode = { type: [named.type, 'null'] };
    if (named.format) node.format = named.format;
    if (named.description) node.description = named.description;
    return node;
  }
  if (ISO_DATE_RE.test(value.trim())) return { type: ['string', 'null'], format: 'date' };
  return { type: ['string', 'null'] };
}

/** Merges an array of example objects into one: keys in order of first appearance, first non-null value. */
function mergeObjects(elements: Record<string, unknown>[]): Record<string, unknown> {
  const merged = new Map<string, unknown>();
  for (const element of elements) {
    for (const [key, value] of Object.entries(element)) {
      const current = merged.get(key);
      if (!merged.has(key) || current === null || (Array.isArray(current) && current.length === 0))
        merged.set(key, value);
    }
  }
  return Object.fromEntries(merged);
}

function inferArray(value: unknown[], path: string, ctx: InferContext): SchemaNode {
  const first = value.find((v) => v !== null);
  if (first === undefined) return { type: 'array', items: { type: 'string' } };
  let items: SchemaNode;
  if (isPlainObject(first)) {
    const objects = value.filter(isPlainObject);
    items = inferNode(mergeObjects(objects), `${path}/0`, ctx);
  } else {
    items = makeRequired(inferNode(first, `${path}/0`, ctx));
  }
  return { type: 'array', items };
}

export function inferNode(value: unknown, path: string, ctx: InferContext): SchemaNode {
  if (Array.isArray(value)) return inferArray(value, path, ctx);
  if (isPlainObject(value)) return inferObject(value, path, ctx);
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return inferScalar(value);
  if (typeof value === 'number' && Number.isFinite(value)) return inferScalar(value);
  throw invalidPattern(ctx.origin, `${where(ctx, path)}: cannot infer a type from ${describeValue(value)}`);
}

export function inferObject(value: Record<string, unknown>, path: string, ctx: InferContext): ObjectSchema {
  const keys = Object.keys(value);
  if (keys.length === 0)
    throw invalidPattern(
      ctx.origin,
      `${where(ctx, path)}: an empty object gives no fields (list at least one field with an example value or a type name)`,
    );
  return strictObject(keys.map((key) => [key, inferNode(value[key], `${path}/${pointerSegment(key)}`, ctx)]));
}

/** Schema of a whole example: the root must be an object (a mapping, an element with children). */
export function inferRootSchema(example: unknown, ctx: InferContext): ObjectSchema {
  if (!isPlainObject(example))
    throw invalidPattern(
      ctx.origin,
      `${ctx.field} must describe an object with named fields (got ${describeValue(example)})`,
    );
  return inferObject(example, '', ctx);
}
