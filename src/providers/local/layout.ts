/**
 * Page geometry over OCR output: word tokens normalised for matching, visual rows that
 * span tesseract's text blocks (a label in one column, its value in the next), and
 * "what is to the right of / below this box" queries.
 */
import type { Box, OcrLine, OcrPage, OcrWord } from './ocr-engine.js';

/** A word with its position in the page's line list, so a word can be claimed once. */
export interface PlacedWord extends OcrWord {
  line: number;
  index: number;
  /** Lowercased, punctuation-free form used for matching ('' for pure punctuation). */
  token: string;
}

export interface Row {
  words: PlacedWord[];
  box: Box;
}

export interface Layout {
  page: OcrPage;
  lines: PlacedWord[][];
  rows: Row[];
  /** Median word height: the unit for "near". */
  unit: number;
}

export function normaliseToken(text: string): string {
  return text
    .toLowerCase()
    .replace(/[#№]/g, ' # ')
    .replace(/[^\p{L}\p{N}#]+/gu, '')
    .trim();
}

export function union(boxes: readonly Box[]): Box {
  return {
    x0: Math.min(...boxes.map((b) => b.x0)),
    y0: Math.min(...boxes.map((b) => b.y0)),
    x1: Math.max(...boxes.map((b) => b.x1)),
    y1: Math.max(...boxes.map((b) => b.y1)),
  };
}

export function verticalOverlap(a: Box, b: Box): number {
  const overlap = Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0);
  return overlap <= 0 ? 0 : overlap / Math.min(a.y1 - a.y0 || 1, b.y1 - b.y0 || 1);
}

export function horizontalOverlap(a: Box, b: Box): number {
  const overlap = Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0);
  return overlap <= 0 ? 0 : overlap / Math.min(a.x1 - a.x0 || 1, b.x1 - b.x0 || 1);
}

function median(values: number[]): number {
  if (values.length === 0) return 10;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Groups words into visual rows by vertical centre, across text blocks. */
function buildRows(words: PlacedWord[], unit: number): Row[] {
  const sorted = [...words].sort((a, b) => (a.box.y0 + a.box.y1) / 2 - (b.box.y0 + b.box.y1) / 2);
  const rows: Row[] = [];
  let current: PlacedWord[] = [];
  let centre = Number.NaN;
  for (const word of sorted) {
    const c = (word.box.y0 + word.box.y1) / 2;
    if (current.length > 0 && Math.abs(c - centre) > unit * 0.5) {
      rows.push(toRow(current));
      current = [];
    }
    current.push(word);
    centre = current.reduce((sum, w) => sum + (w.box.y0 + w.box.y1) / 2, 0) / current.length;
  }
  if (current.length) rows.push(toRow(current));
  return rows;
}

function toRow(words: PlacedWord[]): Row {
  const sorted = [...words].sort((a, b) => a.box.x0 - b.box.x0);
  return { words: sorted, box: union(sorted.map((w) => w.box)) };
}

export function buildLayout(page: OcrPage): Layout {
  const lines = page.lines.map((line: OcrLine, lineIndex) =>
    line.words.map((word, index) => ({ ...word, line: lineIndex, index, token: normaliseToken(word.text) })),
  );
  const all = lines.flat();
  const unit = median(all.map((w) => w.box.y1 - w.box.y0));
  return { page, lines, rows: buildRows(all, unit), unit };
}

export function wordKey(word: PlacedWord): string {
  return `${word.line}:${word.index}`;
}

export function joinWords(words: readonly PlacedWord[]): string {
  return words.map((w) => w.text).join(' ');
}

/** Words on the same visual row as `box`, to its right, in reading order. */
export function rightOf(layout: Layout, box: Box, maxDistance: number): PlacedWord[] {
  const row = layout.rows.find((r) => r.words.some((w) => verticalOverlap(w.box, box) >= 0.5));
  if (!row) return [];
  return row.words.filter((w) => w.box.x0 >= box.x1 - 2 && w.box.x0 - box.x1 <= maxDistance);
}

/**
 * The words of the nearest row below `box` that sit under it (horizontally overlapping,
 * widened by one unit), extended to adjacent words so a value wider than its label is whole.
 */
export function below(layout: Layout, box: Box): PlacedWord[] {
  const unit = layout.unit;
  const widened = { ...box, x0: box.x0 - unit, x1: box.x1 + unit };
  for (const row of layout.rows) {
    if (row.box.y0 <= box.y1 - unit * 0.3 || row.box.y0 > box.y1 + unit * 2.5) continue;
    const under = row.words.filter((w) => horizontalOverlap(w.box, widened) > 0);
    if (under.length === 0) continue;
    // Extend left and right through word spaces (under two letter heights), not column gaps.
    let first = row.words.indexOf(under[0]!);
    let last = row.words.indexOf(under[under.length - 1]!);
    while (first > 0 && row.words[first]!.box.x0 - row.words[first - 1]!.box.x1 < unit * 2) first--;
    while (last < row.words.length - 1 && row.words[last + 1]!.box.x0 - row.words[last]!.box.x1 < unit * 2)
      last++;
    return row.words.slice(first, last + 1);
  }
  return [];
}

export function meanConfidence(words: readonly PlacedWord[]): number {
  return words.length ? words.reduce((sum, w) => sum + w.confidence, 0) / words.length : 0;
}

/** Splits a line where the gap between words is wider than a column gap (two letter heights). */
export function segments(words: readonly PlacedWord[], unit: number): PlacedWord[][] {
  const groups: PlacedWord[][] = [];
  for (const word of words) {
    const group = groups.at(-1);
    const previous = group?.at(-1);
    if (group && previous && word.box.x0 - previous.box.x1 < unit * 2) group.push(word);
    else groups.push([word]);
  }
  return groups;
}

/** A word that carries no letter or digit, or a short low-confidence one: OCR noise at a group's edge. */
function isJunk(word: PlacedWord): boolean {
  const alnum = (word.text.match(/[\p{L}\p{N}]/gu) ?? []).length;
  return alnum === 0 || (alnum <= 2 && word.confidence < 0.6);
}

/** `words` without the noise OCR leaves around a value (icons, rules, stray marks). */
export function trimJunk(words: readonly PlacedWord[]): PlacedWord[] {
  let start = 0;
  let end = words.length;
  while (start < end && isJunk(words[start]!)) start++;
  while (end > start && isJunk(words[end - 1]!)) end--;
  return words.slice(start, end);
}
