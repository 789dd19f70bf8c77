/**
 * A "list pattern" extracts many rows from one image (invoice line items, shelf
 * products): its root has exactly one property that is an array of objects, and every
 * other root property is a scalar. CSV renders it as one row per item.
 */
import { hasType } from './schema-node.js';
import type { ObjectSchema } from './types.js';

/** The key of the list property, or undefined when the schema is not a list pattern. */
export function listProperty(schema: ObjectSchema): string | undefined {
  let list: string | undefined;
  for (const [key, node] of Object.entries(schema.properties)) {
    if (hasType(node, 'array')) {
      if (list !== undefined || !node.items || !hasType(node.items, 'object')) return undefined;
      list = key;
    } else if (hasType(node, 'object')) {
      return undefined;
    }
  }
  return list;
}
