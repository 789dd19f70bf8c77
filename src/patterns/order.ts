/**
 * Outputs are rendered with keys in schema order, whatever order the model wrote them
 * in: a copy of the value with each object's keys in the order of its schema's properties.
 */
import { isPlainObject, setOwn } from './objects.js';
import type { SchemaNode } from './types.js';

export function orderBySchema(node: SchemaNode, value: unknown): unknown {
  if (Array.isArray(value)) return node.items ? value.map((item) => orderBySchema(node.items!, item)) : value;
  if (!isPlainObject(value) || !node.properties) return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(node.properties)) {
    if (Object.hasOwn(value, key)) setOwn(out, key, orderBySchema(child, value[key]));
  }
  return out;
}
