/**
 * Arrays of objects (invoice line items) read as a table: the header row is the first
 * row naming at least two of the item's fields; each row below it, until a totals row
 * or a large gap, becomes one item, its words assigned to the nearest column. Numbers
 * go to number columns, words to text columns; a cell its column's schema refuses is null.
 * Best effort: a row without any number is a wrapped description line and is skipped.
 */
import type { SchemaNode } from '../../patterns/types.js';
import { issuesAgainst } from '../../patterns/validate.js';
import { type DayOrder, findDates, findNumbers } from './coerce.js';
import { findLabel, labelsFor } from './labels.js';
import { joinWords, type Layout, type PlacedWord, type Row, wordKey } from './layout.js';

interface Column {
  key: string;
  kind: 'text' | 'number' | 'date';
  /** Header label's horizontal extent. */
  x0: number;
  x1: number;
}

const STOP = ['subtotal', 'sub total', 'total', 'tax', 'vat', 'balance', 'amount due', 'notes', 'terms'];

function kind(node: SchemaNode): Column['kind'] | undefined {
  const t = Array.isArray(node.type) ? node.type : [node.type];
  if (t.includes('number') || t.includes('integer')) return 'number';
  if (t.includes('string')) return node.format === 'date' ? 'date' : 'text';
  return undefined;
}

function rowAsLayout(layout: Layout, row: Row): Layout {
  return { ...layout, lines: [row.words] };
}

function headerColumns(layout: Layout, row: Row, item: SchemaNode): Column[] {
  const columns: Column[] = [];
  for (const [key, node] of Object.entries(item.properties ?? {})) {
    const k = kind(node);
    if (!k) continue;
    const matches = findLabel(rowAsLayout(layout, row), labelsFor(key, node)).filter(
      (m) => !columns.some((c) => m.box.x0 < c.x1 && m.box.x1 > c.x0),
    );
    const best = matches.sort((a, b) => b.score - a.score)[0];
    if (best) columns.push({ key, kind: k, x0: best.box.x0, x1: best.box.x1 });
  }
  return columns.sort((a, b) => a.x0 - b.x0);
}

function isStopRow(row: Row): boolean {
  const text = row.words.map((w) => w.token).join(' ');
  return STOP.some((stop) => text === stop || text.startsWith(`${stop} `));
}

/**
 * The column a word belongs to: the one whose span (halfway to its neighbours' headers)
 * holds the word's centre. Positions, not word shapes, decide, so "(500)" in a
 * description stays in the description.
 */
function columnOf(columns: readonly Column[], word: PlacedWord): Column | undefined {
  const centre = (word.box.x0 + word.box.x1) / 2;
  for (let i = 0; i < columns.length; i++) {
    const right = columns[i + 1];
    const boundary = right ? (columns[i]!.x1 + right.x0) / 2 : Number.POSITIVE_INFINITY;
    if (centre < boundary) return columns[i];
  }
  return undefined;
}

/** A lone OCR'd "I", "l" or "|" in a number column is a 1; "O" a 0. */
function numberIn(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^[Il|]$/.test(trimmed)) return 1;
  if (/^[Oo]$/.test(trimmed)) return 0;
  return findNumbers(trimmed)[0];
}

function emptyItem(item: SchemaNode): Record<string, unknown> {
  return Object.fromEntries(Object.keys(item.properties ?? {}).map((key) => [key, null]));
}

export function extractTable(
  layout: Layout,
  item: SchemaNode,
  order: DayOrder,
  used: Set<string>,
): Record<string, unknown>[] {
  const rows = layout.rows;
  let headerIndex = -1;
  let columns: Column[] = [];
  for (let i = 0; i < rows.length; i++) {
    const candidate = headerColumns(layout, rows[i]!, item);
    if (candidate.length >= 2) {
      headerIndex = i;
      columns = candidate;
      break;
    }
  }
  if (headerIndex === -1) return [];

  const items: Record<string, unknown>[] = [];
  let previousBottom = rows[headerIndex]!.box.y1;
  for (const row of rows.slice(headerIndex + 1)) {
    if (row.box.y0 - previousBottom > layout.unit * 4 || isStopRow(row)) break;
    previousBottom = row.box.y1;
    const words = row.words.filter((w) => !used.has(wordKey(w)));
    if (!words.some((w) => findNumbers(w.text).length > 0)) continue;
    const values = new Map<string, PlacedWord[]>();
    for (const word of words) {
      const column = columnOf(columns, word);
      if (column) values.set(column.key, [...(values.get(column.key) ?? []), word]);
    }
    const record = emptyItem(item);
    for (const column of columns) {
      const text = joinWords(values.get(column.key) ?? []);
      if (text === '') continue;
      let value: unknown;
      if (column.kind === 'number') value = numberIn(text) ?? null;
      else if (column.kind === 'date') value = findDates(text, order)[0]?.iso ?? null;
      else value = text.replace(/[\s$€£¥:|]+$/u, '').trim() || null;
      // A cell that does not fit its column (1.5 in an integer column, a constraint broken)
      // is not found, rather than a record that fails as a whole.
      const node = item.properties?.[column.key];
      record[column.key] = node && value !== null && issuesAgainst(node, value).length > 0 ? null : value;
    }
    items.push(record);
  }
  return items;
}
