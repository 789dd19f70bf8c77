/**
 * Arrays of objects (invoice line items) read as a table: the header row is the first
 * row naming at least two of the item's fields; each row below it, until a totals row
 * or a large gap, becomes one item, its words assigned to the nearest column. Numbers
 * go to number columns, words to text columns. Best effort: a row without any number is
 * a wrapped description line and is skipped.
 */
import type { SchemaNode } from '../../patterns/types.js';
import { type DayOrder, findDates, findNumbers } from './coerce.js';
import { findLabel, labelsFor } from './labels.js';
import { joinWords, type Layout, type PlacedWord, type Row, wordKey } from './layout.js';

interface Column {
  key: string;
  kind: 'text' | 'number' | 'date';
  centre: number;
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
      (m) => !columns.some((c) => Math.abs(c.centre - (m.box.x0 + m.box.x1) / 2) < layout.unit),
    );
    const best = matches.sort((a, b) => b.score - a.score)[0];
    if (best) columns.push({ key, kind: k, centre: (best.box.x0 + best.box.x1) / 2 });
  }
  return columns;
}

function isStopRow(row: Row): boolean {
  const text = row.words.map((w) => w.token).join(' ');
  return STOP.some((stop) => text === stop || text.startsWith(`${stop} `));
}

function nearest(columns: Column[], word: PlacedWord, kinds: Column['kind'][]): Column | undefined {
  const centre = (word.box.x0 + word.box.x1) / 2;
  let best: Column | undefined;
  for (const column of columns) {
    if (!kinds.includes(column.kind)) continue;
    if (!best || Math.abs(column.centre - centre) < Math.abs(best.centre - centre)) best = column;
  }
  return best;
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
      const numeric = findNumbers(word.text).length > 0 && !/\p{L}{3,}/u.test(word.text);
      const column = numeric
        ? nearest(columns, word, ['number', 'date'])
        : (nearest(columns, word, ['text']) ?? nearest(columns, word, ['number', 'date']));
      if (!column) continue;
      values.set(column.key, [...(values.get(column.key) ?? []), word]);
    }
    const record = emptyItem(item);
    for (const column of columns) {
      const text = joinWords(values.get(column.key) ?? []);
      if (text === '') continue;
      if (column.kind === 'number') record[column.key] = findNumbers(text)[0] ?? null;
      else if (column.kind === 'date') record[column.key] = findDates(text, order)[0]?.iso ?? null;
      else record[column.key] = text;
    }
    items.push(record);
  }
  return items;
}
