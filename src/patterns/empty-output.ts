/**
 * An output that conforms and says "nothing found": null for nullable scalars, `[]` for
 * arrays, objects built field by field. A scalar that may not be null (a `required`
 * field of a real JSON Schema) gets its type's zero value ('', 0, false, or the first
 * enum value); a non-nullable string with a format has no empty value that validates,
 * so such an output fails validation until the field is filled in.
 */
import { setOwn } from './objects.js';
import { hasType, isNullable } from './schema-node.js';
import type { SchemaNode } from './types.js';

function emptyValue(node: SchemaNode): unknown {
  if (hasType(node, 'array')) return [];
  if (hasType(node, 'object') && node.properties) return emptyOutput(node);
  if (isNullable(node)) return null;
  if (node.enum && node.enum.length > 0) return node.enum[0];
  if (hasType(node, 'string')) return '';
  if (hasType(node, 'number') || hasType(node, 'integer')) return 0;
  if (hasType(node, 'boolean')) return false;
  return null;
}

export function emptyOutput(schema: SchemaNode): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, node] of Object.entries(schema.properties ?? {})) setOwn(out, key, emptyValue(node));
  return out;
}
