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
 * - Formula injection (OWASP "CSV Injection"): text read from an image lands in cells, and
 *   a spreadsheet runs a cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return
 *   as a formula (`=HYPERLINK(…)`, `+cmd|…`, `@SUM(…)`). Such cells, headers included, are
 *   prefixed with `'` by default, which spreadsheets show as text; JSON numbers and plain
 *   numeric text (`-12.50`) are left alone. `formulas: 'keep'` (CLI `--keep-csv-formulas`)
 *   writes cells exactly as they are.
 */
import { csvStringifySync } from '../on-first-use.js';
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

export interface CsvOptions {
  /** `neutralize` (default): defuse cells a spreadsheet would run; `keep`: write them as they are. */
  formulas?: 'neutralize' | 'keep';
}

const FORMULA_START = /^[=+\-@\t\r]/;
const PLAIN_NUMBER = /^[+-]?(?:\d+(?:[.,]\d+)*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A text cell a spreadsheet will show as text: `'` before a formula-like start (OWASP). */
export function neutralizeFormula(text: string): string {
  return FORMULA_START.test(text) && !PLAIN_NUMBER.test(text) ? `'${text}` : text;
}

function cell(value: unknown, defuse: (text: string) => string): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return defuse(value);
  if (typeof value === 'number' || typeof value === 'boolean') return JSON.stringify(value);
  return defuse(JSON.stringify(value));
}

/**
 * Rows as CSV text: RFC 4180 quoting, rows ending in `\n`. A cell holding a carriage
 * return is quoted too (csv-stringify only quotes the record delimiter): readers such as
 * Python's csv and spreadsheets end a row at a lone CR, so an unquoted one would let text
 * from an image start a row of its own.
 */
export function stringifyCsv(records: string[][], delimiter: string): string {
  return csvStringifySync().stringify(records, {
    delimiter,
    record_delimiter: '\n',
    quoted_empty: false,
    quoted_match: /\r/,
  });
}

export function renderCsv(
  pattern: Pick<Pattern, 'schema' | 'hints'>,
  ordered: Record<string, unknown>,
  options: CsvOptions = {},
): string {
  return stringifyCsv(csvRecords(pattern, ordered, options), pattern.hints.csvDelimiter ?? ',');
}

/** The CSV as rows of cells: the header row first (used to combine many outputs in one file). */
export function csvRecords(
  pattern: Pick<Pattern, 'schema' | 'hints'>,
  ordered: Record<string, unknown>,
  options: CsvOptions = {},
): string[][] {
  const { schema, hints } = pattern;
  const defuse = options.formulas === 'keep' ? (text: string) => text : neutralizeFormula;
  const cellOf = (value: unknown) => cell(value, defuse);
  const list = hints.csvColumns ? undefined : listProperty(schema);
  const rootColumns = hints.csvColumns
    ? hints.csvColumns.map((name) => ({ header: name, path: [name] }))
    : flattenColumns(schema, [], list);
  const records: string[][] = [];
  if (list === undefined) {
    records.push(rootColumns.map((c) => defuse(c.header)));
    records.push(rootColumns.map((c) => cellOf(valueAt(ordered, c.path))));
  } else {
    const rootHeaders = new Set(rootColumns.map((c) => c.header));
    const itemColumns = flattenColumns(schema.properties[list]!.items!, []).map((c) => ({
      header: rootHeaders.has(c.header) ? `${list}.${c.header}` : c.header,
      path: c.path,
    }));
    records.push([...rootColumns, ...itemColumns].map((c) => defuse(c.header)));
    const rootCells = rootColumns.map((c) => cellOf(valueAt(ordered, c.path)));
    const items = Array.isArray(ordered[list]) ? (ordered[list] as unknown[]) : [];
    if (items.length === 0) records.push([...rootCells, ...itemColumns.map(() => '')]);
    for (const item of items)
      records.push([...rootCells, ...itemColumns.map((c) => cellOf(valueAt(item, c.path)))]);
  }
  return records;
}
