/**
 * Building blocks of normalised schemas: type lists, nullability and strict objects.
 * Every object node lists all its properties in `required` and forbids others; a value
 * that may be absent is expressed as `null` in its type, which is what strict
 * structured-output modes (OpenAI, Gemini) accept.
 */
import { setOwn } from './objects.js';
import type { JsonType, ObjectSchema, SchemaNode } from './types.js';

export function typesOf(node: SchemaNode): JsonType[] {
  return Array.isArray(node.type) ? node.type : [node.type];
}

export function hasType(node: SchemaNode, type: JsonType): boolean {
  return typesOf(node).includes(type);
}

export function isNullable(node: SchemaNode): boolean {
  return hasType(node, 'null');
}

/** A node's types without `null`, e.g. `string` for `["string","null"]`. */
export function valueTypes(node: SchemaNode): JsonType[] {
  return typesOf(node).filter((t) => t !== 'null');
}

function withTypes(types: JsonType[]): JsonType | JsonType[] {
  const unique = [...new Set(types)];
  return unique.length === 1 ? unique[0]! : unique;
}

/** Adds `null` to the type (last) and to the enum, if there is one, so null validates. */
export function makeNullable(node: SchemaNode): SchemaNode {
  if (isNullable(node)) return node;
  const out: SchemaNode = { ...node, type: withTypes([...typesOf(node), 'null']) };
  if (node.enum && !node.enum.includes(null)) out.enum = [...node.enum, null];
  return out;
}

/** Removes `null` from the type and the enum. */
export function makeRequired(node: SchemaNode): SchemaNode {
  if (!isNullable(node)) return node;
  const out: SchemaNode = { ...node, type: withTypes(valueTypes(node)) };
  if (node.enum) out.enum = node.enum.filter((v) => v !== null);
  return out;
}

export function setTypes(node: SchemaNode, types: JsonType[]): SchemaNode {
  return { ...node, type: withTypes(types) };
}

/** A strict object node: every property required, nothing else allowed, order kept. */
export function strictObject(
  entries: Iterable<[string, SchemaNode]>,
  extra: Partial<SchemaNode> = {},
): ObjectSchema {
  const properties: Record<string, SchemaNode> = {};
  const required: string[] = [];
  for (const [key, node] of entries) {
    setOwn(properties, key, node);
    required.push(key);
  }
  return { ...extra, type: 'object', properties, required, additionalProperties: false };
}
