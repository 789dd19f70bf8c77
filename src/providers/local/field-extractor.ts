/**
 * Schema-driven extraction from OCR: for every scalar property of the pattern, find its
 * label on the page and read the value beside it (same line), to its right (same row,
 * next column) or under it (next row), coerced to the property's type. Candidates from
 * all fields compete in one greedy assignment, strongest first, and a word can feed only
 * one field, so "Due Date" goes to due_date and the plain "Date" to invoice_date.
 * Arrays of objects (line items) are read as a table (table-extractor.ts).
 */
import { distance } from 'fastest-levenshtein';
import type { ObjectSchema, SchemaNode } from '../../patterns/types.js';
import {
  type DayOrder,
  documentDayOrder,
  findCurrency,
  findDates,
  findNumbers,
  parseBoolean,
} from './coerce.js';
import { findLabel, type LabelMatch, labelsFor } from './labels.js';
import { below, buildLayout, joinWords, type Layout, type PlacedWord, rightOf, wordKey } from './layout.js';
import type { OcrPage } from './ocr-engine.js';
import { extractTable } from './table-extractor.js';

type Kind = 'string' | 'number' | 'integer' | 'boolean' | 'date';

interface Field {
  pointer: string;
  key: string;
  node: SchemaNode;
  kind: Kind;
}

interface Candidate {
  field: Field;
  value: string | number | boolean;
  words: PlacedWord[];
  labelWords: PlacedWord[];
  score: number;
  confidence: number;
}

export interface Extraction {
  output: Record<string, unknown>;
  /** JSON pointer → 0–1 confidence, 0 for fields left null. */
  fieldConfidence: Record<string, number>;
  /** Mean confidence over all scalar fields. */
  confidence: number;
}

function types(node: SchemaNode): string[] {
  return Array.isArray(node.type) ? node.type : [node.type];
}

function kindOf(node: SchemaNode): Kind | undefined {
  const t = types(node).filter((x) => x !== 'null');
  if (t.includes('string')) return node.format === 'date' || node.format === 'date-time' ? 'date' : 'string';
  if (t.includes('integer')) return 'integer';
  if (t.includes('number')) return 'number';
  if (t.includes('boolean')) return 'boolean';
  return undefined;
}

/** Scalar fields of an object schema, recursing into nested objects (not arrays). */
function scalarFields(schema: SchemaNode, prefix = ''): Field[] {
  const fields: Field[] = [];
  for (const [key, node] of Object.entries(schema.properties ?? {})) {
    const pointer = `${prefix}/${key}`;
    if (types(node).includes('object')) fields.push(...scalarFields(node, pointer));
    else {
      const kind = kindOf(node);
      if (kind) fields.push({ pointer, key, node, kind });
    }
  }
  return fields;
}

const IDENTIFIER_KEY = /(number|_no|_id|^id|code|reference|ref)$/;
const PARTY_KEY = /(vendor|merchant|company|store|business|seller|issuer|shop|supplier)/;

function closestEnum(
  text: string,
  options: ReadonlyArray<string | number | boolean | null>,
): string | undefined {
  const wanted = text.toLowerCase().replace(/[\s-]+/g, '_');
  let best: string | undefined;
  let bestScore = 0;
  for (const option of options) {
    if (typeof option !== 'string') continue;
    const o = option.toLowerCase();
    const score = wanted.includes(o) ? 1 : 1 - distance(wanted, o) / Math.max(wanted.length, o.length);
    if (score > bestScore) {
      bestScore = score;
      best = option;
    }
  }
  return bestScore >= 0.7 ? best : undefined;
}

/** Parses `words` as a value of the field's kind; undefined when they are not one. */
function parseAs(
  field: Field,
  words: PlacedWord[],
  order: DayOrder,
  position: 'after' | 'right' | 'below',
): string | number | boolean | undefined {
  const text = joinWords(words).trim();
  if (text === '') return undefined;
  switch (field.kind) {
    case 'number':
    case 'integer': {
      const numbers = findNumbers(text);
      // "TOTAL .... 45.20": on the label's own line the amount is the last number.
      const value = position === 'after' ? numbers.at(-1) : numbers[0];
      if (value === undefined) return undefined;
      return field.kind === 'integer' ? Math.round(value) : value;
    }
    case 'date':
      return findDates(text, order)[0]?.iso;
    case 'boolean':
      return parseBoolean(text);
    case 'string': {
      const cleaned = text.replace(/^[\s:#\-–.]+/, '').trim();
      if (cleaned === '' || !/[\p{L}\p{N}]/u.test(cleaned) || cleaned.length > 80) return undefined;
      if (field.node.enum) return closestEnum(cleaned, field.node.enum);
      if (IDENTIFIER_KEY.test(field.key) && !/\d/.test(cleaned)) return undefined;
      return IDENTIFIER_KEY.test(field.key)
        ? (cleaned.split(/\s+/).find((t) => /\d/.test(t)) ?? cleaned)
        : cleaned;
    }
  }
}

function meanConfidence(words: readonly PlacedWord[]): number {
  return words.length ? words.reduce((sum, w) => sum + w.confidence, 0) / words.length : 0;
}

/** Candidate values for one label match, in preference order. */
function candidatesFor(field: Field, match: LabelMatch, layout: Layout, order: DayOrder): Candidate[] {
  const lineWords = layout.lines[match.line]!;
  const labelWords = lineWords.slice(match.start, match.end);
  const next = lineWords[match.end];
  // A label running straight into more words ("due on receipt") is prose, not a header:
  // its value, if any, is on its own line, never in the row below.
  const runsOn = next !== undefined && next.box.x0 - match.box.x1 < layout.unit * 2;
  const options: Array<[PlacedWord[], number, 'after' | 'right' | 'below']> = [
    [lineWords.slice(match.end), 1, 'after'],
    [
      rightOf(layout, match.box, layout.page.width * 0.6).filter((w) => !labelWords.includes(w)),
      0.95,
      'right',
    ],
    [runsOn ? [] : below(layout, match.box), 0.85, 'below'],
  ];
  const found: Candidate[] = [];
  for (const [words, factor, position] of options) {
    if (words.length === 0) continue;
    const value = parseAs(field, words, order, position);
    if (value === undefined) continue;
    const confidence = meanConfidence(words) * Math.min(1, match.score);
    // The label decides; OCR confidence only breaks near-ties (a low-confidence "£" must
    // not hand "Subtotal £2,650.00" to a stray "Net 14").
    const score = match.score * factor * (0.85 + 0.15 * meanConfidence(words));
    found.push({ field, value, words, labelWords, score, confidence });
  }
  return found;
}

const DOCUMENT_TITLES =
  /^(tax |sales |commercial |pro ?forma )?(invoice|receipt|statement|bill|quote|quotation|estimate|credit note|purchase order)s?$/i;

/** Splits a line where the gap between words is wider than a column gap. */
function segments(words: PlacedWord[], unit: number): PlacedWord[][] {
  const groups: PlacedWord[][] = [];
  for (const word of words) {
    const group = groups.at(-1);
    const previous = group?.at(-1);
    if (group && previous && word.box.x0 - previous.box.x1 < unit * 2) group.push(word);
    else groups.push([word]);
  }
  return groups;
}

/**
 * The issuer is printed on top: the first group of real words, skipping the document's
 * title ("TAX INVOICE") which often shares that line in another column.
 */
function topLine(layout: Layout, used: Set<string>): PlacedWord[] | undefined {
  const lines = layout.lines
    .map((words) => words.filter((w) => !used.has(wordKey(w))))
    .filter((words) => words.length > 0)
    .sort((a, b) => a[0]!.box.y0 - b[0]!.box.y0);
  for (const words of lines) {
    for (const group of segments(words, layout.unit)) {
      const text = joinWords(group)
        .replace(/[^\p{L}\p{N}&'.\- ]/gu, '')
        .trim();
      if (!/\p{L}{2,}/u.test(text) || DOCUMENT_TITLES.test(text)) continue;
      // Texture read as letters (a desk behind a photographed page) has low confidence.
      if (meanConfidence(group) < 0.6) continue;
      // "Harbor IT Solutions TAX INVOICE" read as one group: drop the trailing title.
      const kept = [...group];
      for (let n = Math.min(3, kept.length - 1); n >= 1; n--) {
        if (DOCUMENT_TITLES.test(joinWords(kept.slice(-n)))) {
          kept.splice(-n);
          break;
        }
      }
      for (let n = Math.min(3, kept.length - 1); n >= 1; n--) {
        if (DOCUMENT_TITLES.test(joinWords(kept.slice(0, n)))) {
          kept.splice(0, n);
          break;
        }
      }
      return kept;
    }
  }
  return undefined;
}

function setPointer(target: Record<string, unknown>, pointer: string, value: unknown): void {
  const keys = pointer.split('/').slice(1);
  let node: Record<string, unknown> = target;
  for (const key of keys.slice(0, -1)) node = node[key] as Record<string, unknown>;
  node[keys.at(-1)!] = value;
}

/** A conforming skeleton: nulls for scalars, [] for arrays, nested objects built out. */
function skeleton(schema: SchemaNode): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, node] of Object.entries(schema.properties ?? {})) {
    const t = types(node);
    if (t.includes('object') && !t.includes('null')) out[key] = skeleton(node);
    else if (t.includes('array')) out[key] = [];
    else out[key] = null;
  }
  return out;
}

export function extractFields(page: OcrPage, schema: ObjectSchema): Extraction {
  const layout = buildLayout(page);
  const order = documentDayOrder(page.text);
  const fields = scalarFields(schema);
  const output = skeleton(schema);
  const fieldConfidence: Record<string, number> = {};
  for (const field of fields) fieldConfidence[field.pointer] = 0;

  const candidates: Candidate[] = [];
  for (const field of fields) {
    for (const match of findLabel(layout, labelsFor(field.key, field.node))) {
      candidates.push(...candidatesFor(field, match, layout, order));
    }
  }
  candidates.sort((a, b) => b.score - a.score);

  const assigned = new Set<string>();
  const used = new Set<string>();
  for (const candidate of candidates) {
    if (assigned.has(candidate.field.pointer)) continue;
    if (candidate.words.some((w) => used.has(wordKey(w)))) continue;
    assigned.add(candidate.field.pointer);
    setPointer(output, candidate.field.pointer, candidate.value);
    fieldConfidence[candidate.field.pointer] = Math.round(candidate.confidence * 100) / 100;
    for (const w of [...candidate.words, ...candidate.labelWords]) used.add(wordKey(w));
  }

  // Unlabelled fields documents still carry: the issuer on top, the currency symbol, a bare date.
  for (const field of fields) {
    if (assigned.has(field.pointer)) continue;
    if (field.kind === 'string' && PARTY_KEY.test(field.key)) {
      const line = topLine(layout, used);
      if (line) {
        setPointer(output, field.pointer, joinWords(line));
        fieldConfidence[field.pointer] = Math.round(meanConfidence(line) * 50) / 100;
        for (const w of line) used.add(wordKey(w));
        assigned.add(field.pointer);
      }
    } else if (field.kind === 'string' && /currency/.test(field.key)) {
      const currency = findCurrency(page.text);
      if (currency) {
        setPointer(output, field.pointer, currency);
        fieldConfidence[field.pointer] = 0.6;
        assigned.add(field.pointer);
      }
    } else if (field.kind === 'date' && field.key === 'date') {
      const unclaimed = layout.lines
        .flat()
        .filter((w) => !used.has(wordKey(w)))
        .map((w) => w.text)
        .join(' ');
      const date = findDates(unclaimed, order)[0];
      if (date) {
        setPointer(output, field.pointer, date.iso);
        fieldConfidence[field.pointer] = 0.5;
        assigned.add(field.pointer);
      }
    }
  }

  for (const [key, node] of Object.entries(schema.properties)) {
    if (types(node).includes('array') && node.items && types(node.items).includes('object')) {
      output[key] = extractTable(layout, node.items, order, used);
    }
  }

  const values = Object.values(fieldConfidence);
  const confidence = values.length ? values.reduce((a, b) => a + b, 0) / values.length : 0;
  return { output, fieldConfidence, confidence: Math.round(confidence * 100) / 100 };
}
