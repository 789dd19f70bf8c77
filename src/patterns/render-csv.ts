/**
 * CSV with csv-stringify: a header row, then data. Quoting follows RFC 4180 (fields
 * holding the delimiter, a quote, CR or LF are quoted, quotes doubled); the delimiter
 * comes from the `csvDelimiter` hint (`,` by default), rows end in `\n`.
 * - Columns: the `csvColumns` hint (a CSV pattern's header) or the schema's properties in
 *   order, nested objects flattened with dotted names (`location.lot_name`).
 * - A list pattern (see list.ts) gives one row per item: the root's columns repeated on
 *   each row, then the item's columns (named as in the item, or `<list>.<column>` when
 *   the name is also a root column). No items: one row with empty item columns.
 * - Cells: null → empty, numbers and booleans as JSON writes them, any other array
 *   (not the list) → its JSON text, so nothing is lost.
 * Cells are written as they are: a value starting with `=`, `+`, `-` or `@` is not
 * defused for spreadsheets, since that would change the data.
 */
import { stringify } from 'csv-stringify/sync';
import { listProperty } from './list.js';
import { isPlainObject } from './objects.js';
import { hasType } from './schema-node.js';
import type { Pattern, SchemaNode } from './types.js';

interface Column {
  header: string;
  path: string[];
}

function flattenColumns(node: SchemaNode, prefix: string[], skip?: string): Column[] {
  const columns: Column[] = [];
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    if (key === skip) continue;
    const path = [...prefix, key];
    if (hasType(child, 'object') && child.properties) columns.push(...flattenColumns(child, path));
    else columns.push({ header: path.join('.'), path });
  }
  return columns;
}

function valueAt(value: unknown, path: string[]): unknown {
  let current = value;
  for (const key of path) {
    if (!isPlainObject(current) || !Object.hasOwn(current, key)) return null;
    current = current[key];
  }
  return current;
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return JSON.stringify(value);
  return JSON.stringify(value);
}

export function renderCsv(
  pattern: Pick<Pattern, 'schema' | 'hints'>,
  ordered: Record<string, unknown>,
): string {
  const delimiter = pattern.hints.csvDelimiter ?? ',';
  return stringify(csvRecords(pattern, ordered), { delimiter, record_delimiter: '\n', quoted_empty: false });
}

/** The CSV as rows of cells: the header row first (used to combine many outputs in one file). */
export function csvRecords(
  pattern: Pick<Pattern, 'schema' | 'hints'>,
  ordered: Record<string, unknown>,
): string[][] {
  const { schema, hints } = pattern;
  const list = hints.csvColumns ? undefined : listProperty(schema);
  const rootColumns = hints.csvColumns
    ? hints.csvColumns.map((name) => ({ header: name, path: [name] }))
    : flattenColumns(schema, [], list);
  const records: string[][] = [];
  if (list === undefined) {
    records.push(rootColumns.map((c) => c.header));
    records.push(rootColumns.map((c) => cell(valueAt(ordered, c.path))));
  } else {
    const rootHeaders = new Set(rootColumns.map((c) => c.header));
    const itemColumns = flattenColumns(schema.properties[list]!.items!, []).map((c) => ({
      header: rootHeaders.has(c.header) ? `${list}.${c.header}` : c.header,
      path: c.path,
    }));
    records.push([...rootColumns, ...itemColumns].map((c) => c.header));
    const rootCells = rootColumns.map((c) => cell(valueAt(ordered, c.path)));
    const items = Array.isArray(ordered[list]) ? (ordered[list] as unknown[]) : [];
    if (items.length === 0) records.push([...rootCells, ...itemColumns.map(() => '')]);
    for (const item of items)
      records.push([...rootCells, ...itemColumns.map((c) => cell(valueAt(item, c.path)))]);
  }
  return records;
}
