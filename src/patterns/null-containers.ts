/**
 * "Not found" for an object or list the pattern requires. Normalisation makes every scalar
 * nullable, but a `required` object stays an object (its fields carry the nullability) and
 * a `required` list stays a list (none is `[]`): docs/patterns.md. Models and OCR engines
 * still answer such a field with a plain `null`; that means the same thing, so it is read
 * as the field's empty value (the object with its fields null, the list `[]`) instead of
 * failing the whole record and losing the fields that were found. Only a `null` where the
 * schema has no `null` is touched; any other wrong value stays as it came and fails
 * validation.
 */
import { emptyOutput } from './empty-output.js';
import { hasOwn, pointerSegment, setOwn } from './objects.js';
import { hasType, isNullable } from './schema-node.js';
import type { Pattern, SchemaNode } from './types.js';

function fill(node: SchemaNode, value: unknown, path: string, filled: string[]): unknown {
  if (value === null) {
    if (isNullable(node)) return value;
    if (hasType(node, 'array')) {
      filled.push(path);
      return [];
    }
    if (hasType(node, 'object') && node.properties) {
      filled.push(path);
      return emptyOutput(node);
    }
    return value;
  }
  if (Array.isArray(value)) {
    const items = node.items;
    if (!items || !hasType(node, 'array')) return value;
    let changed = false;
    const out = value.map((item, index) => {
      const next = fill(items, item, `${path}/${index}`, filled);
      if (next !== item) changed = true;
      return next;
    });
    return changed ? out : value;
  }
  if (typeof value === 'object' && node.properties && hasType(node, 'object')) {
    const record = value as Record<string, unknown>;
    let out: Record<string, unknown> | undefined;
    for (const [key, child] of Object.entries(node.properties)) {
      if (!hasOwn(record, key)) continue;
      const next = fill(child, record[key], `${path}/${pointerSegment(key)}`, filled);
      if (next === record[key]) continue;
      out ??= { ...record };
      setOwn(out, key, next);
    }
    return out ?? value;
  }
  return value;
}

/**
 * `output` with each `null` at a required object or list read as that field's empty value;
 * `filled` lists their JSON pointers (`/addr`, `/line_items`), empty when nothing changed
 * (then `output` is the same value that came in).
 */
export function fillNullContainers(
  pattern: Pick<Pattern, 'schema'>,
  output: unknown,
): { output: unknown; filled: string[] } {
  const filled: string[] = [];
  // A whole answer of `null` is not a field: it stays as it came and fails validation.
  if (output === null) return { output, filled };
  const next = fill(pattern.schema, output, '', filled);
  return { output: next, filled };
}

/**
 * The JSON pointers of the objects and lists `fillNullContainers` reads as not found when
 * answered `null` (`/addr`, `/line_items`; a `*` segment stands for every item of a list),
 * in schema order: what `pattern check` lists. Empty when the pattern has none.
 */
export function nullContainerPaths(schema: SchemaNode): string[] {
  const paths: string[] = [];
  const walk = (node: SchemaNode, path: string): void => {
    if (path !== '' && !isNullable(node)) {
      if (hasType(node, 'array')) paths.push(path);
      else if (hasType(node, 'object') && node.properties) paths.push(path);
    }
    if (hasType(node, 'array') && node.items) walk(node.items, `${path}/*`);
    if (hasType(node, 'object') && node.properties)
      for (const [key, child] of Object.entries(node.properties))
        walk(child, `${path}/${pointerSegment(key)}`);
  };
  walk(schema, '');
  return paths;
}

/** The record's note (`cascade.repair`) for the fields read as not found, or undefined. */
export function nullContainersNote(filled: readonly string[]): string | undefined {
  if (filled.length === 0) return undefined;
  return `null for required object or list ${filled.join(', ')} read as not found (its fields null, [] for a list)`;
}
