/**
 * Merging the outputs of a document read page by page (when its pages do not fit one
 * request), the way the pattern's schema allows: arrays are concatenated in page order,
 * objects are merged field by field, and any other value is taken from the first page
 * that has it (not null, not an empty string). A later page with a different value is
 * reported as a conflict, never silently dropped.
 */
import type { SchemaNode } from '../patterns/types.js';
import type { PageConflict } from './record.js';

export interface PageOutput {
  page: number;
  output: unknown;
}

function isEmpty(value: unknown): boolean {
  return value === null || value === undefined || value === '';
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function typesOf(node: SchemaNode | undefined): string[] {
  if (!node) return [];
  return Array.isArray(node.type) ? node.type : [node.type];
}

function mergeNode(
  node: SchemaNode | undefined,
  values: readonly PageOutput[],
  pointer: string,
  conflicts: PageConflict[],
): unknown {
  const types = typesOf(node);
  const present = values.filter((v) => !isEmpty(v.output));
  if (present.length === 0) return values[0]?.output ?? null;
  if (types.includes('array') && present.every((v) => Array.isArray(v.output))) {
    return present.flatMap((v) => v.output as unknown[]);
  }
  if (types.includes('object') && node?.properties && present.every((v) => isPlainObject(v.output))) {
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(node.properties)) {
      out[key] = mergeNode(
        child,
        present.map((v) => ({ page: v.page, output: (v.output as Record<string, unknown>)[key] ?? null })),
        `${pointer}/${key}`,
        conflicts,
      );
    }
    return out;
  }
  const first = present[0]!;
  for (const other of present.slice(1)) {
    if (JSON.stringify(other.output) !== JSON.stringify(first.output)) {
      conflicts.push({
        field: pointer || '/',
        kept: { page: first.page, value: first.output },
        other: { page: other.page, value: other.output },
      });
    }
  }
  return first.output;
}

/** One output for the document from its pages' outputs (page order), and the conflicts found. */
export function mergePageOutputs(
  schema: SchemaNode,
  pages: readonly PageOutput[],
): { output: unknown; conflicts: PageConflict[] } {
  const conflicts: PageConflict[] = [];
  const output = mergeNode(
    schema,
    [...pages].sort((a, b) => a.page - b.page),
    '',
    conflicts,
  );
  return { output, conflicts };
}
