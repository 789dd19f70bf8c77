/**
 * Arrays of objects (invoice line items) read as a table: the header row is the first
 * row naming at least two of the item's fields; each row below it, until a totals row
 * or a large gap, becomes one item, its words assigned to the nearest column. Numbers
 * go to number columns, words to text columns; a cell its column's schema refuses is null.
 * Best effort: a row without any number is a wrapped description line and is skipped.
 * A row whose words do not sit under their headers is read by its shape (cellsByShape).
 */
import type { SchemaNode } from '../../patterns/types.js';
import { issuesAgainst } from '../../patterns/validate.js';
import { type DayOrder, findDates, findNumbers } from './coerce.js';
import { PAGE_MARKER } from './fit-value.js';
import { findLabel, labelsFor } from './labels.js';
import { joinWords, type Layout, meanConfidence, type PlacedWord, type Row, wordKey } from './layout.js';

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

/** A word that is one number and nothing else ("2", "30.00", "$12.50"). */
function isNumberWord(word: PlacedWord): boolean {
  const text = word.text.trim();
  return /^[Il|]$/.test(text) || /^[\s$€£¥(+-]*\d[\d.,]*[)%]?$/u.test(text);
}

/**
 * The row read by its shape, for a table whose one text column is the leftmost and whose
 * other columns are all numbers: "<text> <n1> … <nk>" gives the text and one number per
 * number column, in order, whatever the words' positions (a left-aligned row does not sit
 * under its headers). With fewer trailing numbers than number columns the row is
 * ambiguous: the text is kept and the number cells are left null, never shifted.
 * Undefined when the table is not of that form.
 */
function cellsByShape(
  columns: readonly Column[],
  words: readonly PlacedWord[],
): Map<string, PlacedWord[]> | undefined {
  const [first, ...rest] = columns;
  if (first?.kind !== 'text' || rest.length === 0 || rest.some((c) => c.kind !== 'number')) {
    return undefined;
  }
  let trailing = 0;
  while (trailing < words.length - 1 && isNumberWord(words[words.length - 1 - trailing]!)) trailing++;
  const cells = new Map<string, PlacedWord[]>();
  if (trailing < rest.length) {
    cells.set(first.key, words.slice(0, words.length - trailing));
    return cells;
  }
  const split = words.length - rest.length;
  cells.set(first.key, words.slice(0, split));
  for (const [i, column] of rest.entries()) cells.set(column.key, [words[split + i]!]);
  return cells;
}

/** The header row at or after `from` naming at least two of the item's fields, with its columns. */
function findHeader(
  layout: Layout,
  item: SchemaNode,
  from: number,
): { index: number; columns: Column[] } | undefined {
  for (let i = from; i < layout.rows.length; i++) {
    const columns = headerColumns(layout, layout.rows[i]!, item);
    if (columns.length >= 2) return { index: i, columns };
  }
  return undefined;
}

/** Whether a page of stacked pages starts between y `above` and y `below`. */
function pageBreakBetween(layout: Layout, above: number, below: number): boolean {
  return (layout.page.pageTops ?? []).some((top) => top > above && top <= below);
}

/** Rows of the next page looked at for the table's continuation (a running head may come first). */
const CONTINUATION_ROWS = 4;

/**
 * At a page break under a table: the first row of the next page that carries the table
 * on without its header (a row with a number in it, not a page marker), or undefined when
 * the next page starts another header, a totals row, or no row like an item.
 */
function continuation(layout: Layout, item: SchemaNode, from: number): number | undefined {
  const rows = layout.rows;
  for (let r = from; r < Math.min(rows.length, from + CONTINUATION_ROWS); r++) {
    const row = rows[r]!;
    if (isStopRow(row) || headerColumns(layout, row, item).length >= 2) return undefined;
    if (PAGE_MARKER.test(joinWords(row.words))) continue;
    if (row.words.some(isNumberWord)) return r;
  }
  return undefined;
}

export interface TableRead {
  items: Record<string, unknown>[];
  /** Per item, per column: 0–1 confidence of the cell (0 where the cell is null). */
  confidence: Array<Record<string, number>>;
}

/**
 * Every table of items in the layout, in reading order: a table ends at a totals row or a
 * large gap, and the next header row below starts another, so a table that goes on over
 * the next page with its header repeated keeps all its rows. At a page break (stacked
 * pages) where the next page starts with rows and no header, the table goes on with the
 * first page's columns: its rows are items, never dropped.
 */
export function extractTable(
  layout: Layout,
  item: SchemaNode,
  order: DayOrder,
  used: Set<string>,
): TableRead {
  const rows = layout.rows;
  const read: TableRead = { items: [], confidence: [] };
  let header = findHeader(layout, item, 0);
  while (header) {
    const { columns } = header;
    let next = rows.length;
    let previousBottom = rows[header.index]!.box.y1;
    for (let r = header.index + 1; r < rows.length; r++) {
      let row = rows[r]!;
      if (
        row.box.y0 - previousBottom > layout.unit * 4 &&
        pageBreakBetween(layout, previousBottom, row.box.y0)
      ) {
        const goesOn = continuation(layout, item, r);
        if (goesOn !== undefined) {
          r = goesOn;
          row = rows[r]!;
          previousBottom = row.box.y0;
        }
      }
      if (row.box.y0 - previousBottom > layout.unit * 4 || isStopRow(row)) {
        next = r;
        break;
      }
      previousBottom = row.box.y1;
      const words = row.words.filter((w) => !used.has(wordKey(w)));
      if (!words.some((w) => findNumbers(w.text).length > 0)) continue;
      if (PAGE_MARKER.test(joinWords(words))) continue;
      const { record, confidence } = readRow(columns, words, item, order);
      read.items.push(record);
      read.confidence.push(confidence);
    }
    header = findHeader(layout, item, next);
  }
  return read;
}

/** A row read by its shape, not by its words' places under the headers, is less sure. */
const BY_SHAPE = 0.8;

function readRow(
  columns: readonly Column[],
  rowWords: readonly PlacedWord[],
  item: SchemaNode,
  order: DayOrder,
): { record: Record<string, unknown>; confidence: Record<string, number> } {
  // OCR often splits a currency sign from its amount ("£ 1,040.00"): the lone sign is
  // not a cell of its own, or the row would look unclean and lose its numbers.
  const words = rowWords.filter((w) => !/^[$€£¥]$/u.test(w.text.trim()));
  let values = new Map<string, PlacedWord[]>();
  for (const word of words) {
    const column = columnOf(columns, word);
    if (column) values.set(column.key, [...(values.get(column.key) ?? []), word]);
  }
  // Positions decide when they are clean (one number under each number header); a row
  // that does not sit under its headers is read by its shape instead.
  const clean = columns.every(
    (c) => c.kind !== 'number' || (values.get(c.key)?.length === 1 && isNumberWord(values.get(c.key)![0]!)),
  );
  if (!clean) values = cellsByShape(columns, words) ?? values;
  const record = emptyItem(item);
  const confidence: Record<string, number> = Object.fromEntries(Object.keys(record).map((key) => [key, 0]));
  for (const column of columns) {
    const cell = values.get(column.key) ?? [];
    const text = joinWords(cell);
    if (text === '') continue;
    let value: unknown;
    if (column.kind === 'number') value = numberIn(text) ?? null;
    else if (column.kind === 'date') value = findDates(text, order)[0]?.iso ?? null;
    else value = text.replace(/[\s$€£¥:|]+$/u, '').trim() || null;
    // A cell that does not fit its column (1.5 in an integer column, a constraint broken)
    // is not found, rather than a record that fails as a whole.
    const node = item.properties?.[column.key];
    record[column.key] = node && value !== null && issuesAgainst(node, value).length > 0 ? null : value;
    if (record[column.key] !== null)
      confidence[column.key] = Math.round(meanConfidence(cell) * (clean ? 1 : BY_SHAPE) * 100) / 100;
  }
  return { record, confidence };
}
