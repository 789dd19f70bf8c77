/**
 * Labels: the words a document prints next to a value ("Invoice No.", "TOTAL", "Date
 * Issued"). They come from the pattern itself — each property's name, title and the
 * short alternatives in its description ("Total / Amount due / Balance due") — plus a
 * few abbreviations every document uses (No., #, Qty). Matching is fuzzy per word, so
 * OCR slips ("Invoce", "T0TAL") still match.
 */
import { distance } from 'fastest-levenshtein';
import type { SchemaNode } from '../../patterns/types.js';
import { type Layout, normaliseToken, type PlacedWord, union } from './layout.js';
import type { Box } from './ocr-engine.js';

export interface Label {
  tokens: string[];
  /** How much a match on this label counts (1 for the property's own name). */
  weight: number;
}

/** Abbreviations and synonyms folded to one canonical token before comparing. */
const CANONICAL: Record<string, string> = {
  no: 'number',
  nr: 'number',
  nbr: 'number',
  num: 'number',
  '#': 'number',
  qty: 'quantity',
  amt: 'amount',
  inv: 'invoice',
  tel: 'phone',
  telephone: 'phone',
  dob: 'birth',
  vat: 'tax',
  gst: 'tax',
  hst: 'tax',
  taxes: 'tax',
  igst: 'tax',
};

/** Extra labels documents use for common field names. */
const SYNONYMS: Record<string, string[]> = {
  description: ['item', 'items', 'product', 'service', 'details'],
  quantity: ['qty', 'units', 'hours'],
  unit_price: ['rate', 'price', 'unit cost', 'each'],
  amount: ['line total', 'total'],
  total: ['amount due', 'balance due', 'grand total'],
  total_amount: ['total', 'amount due', 'grand total', 'balance due'],
  tax: ['vat', 'gst', 'sales tax'],
  subtotal: ['sub total', 'net'],
  merchant_name: ['merchant', 'store'],
  vendor_name: ['vendor', 'from', 'seller'],
  date: ['date', 'transaction date'],
  // A licence or ID card prints its holder's name under "Name" or "Surname / Given names".
  full_name: ['name', 'surname', 'given names', 'holder'],
  category: ['category', 'type'],
};

/** Words too generic to be a label on their own. */
const GENERIC = new Set([
  'name',
  'number',
  'value',
  'type',
  'the',
  'of',
  'a',
  'an',
  'id',
  'code',
  'info',
  'details',
]);

export function canonical(token: string): string {
  return CANONICAL[token] ?? token;
}

function tokenize(text: string): string[] {
  return text
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .split(/[\s_\-:./]+/)
    .map(normaliseToken)
    .filter((t) => t !== '')
    .map(canonical);
}

/** Label candidates for one property, strongest first. */
export function labelsFor(key: string, node: SchemaNode): Label[] {
  const labels: Label[] = [];
  const add = (text: string, weight: number) => {
    const tokens = tokenize(text);
    if (tokens.length === 0 || tokens.length > 4) return;
    if (labels.some((l) => l.tokens.join(' ') === tokens.join(' '))) return;
    labels.push({ tokens, weight });
  };
  add(key, 1);
  if (node.title) add(node.title, 1);
  for (const fragment of (node.description ?? '').split(/\s*(?:[/;|,(]|\bor\b)\s*/i)) add(fragment, 0.9);
  for (const synonym of SYNONYMS[key] ?? []) add(synonym, 0.75);
  const words = tokenize(key);
  if (words.length > 1) {
    for (const word of words) if (!GENERIC.has(word) && word.length > 2) add(word, 0.5);
  }
  return labels;
}

function tokenSimilarity(a: string, b: string): number {
  if (a === b) return 1;
  const longest = Math.max(a.length, b.length);
  if (longest < 4) return 0; // short words must match exactly ("tax" ≠ "tag")
  return 1 - distance(a, b) / longest;
}

export interface LabelMatch {
  label: Label;
  /** Line index in the layout. */
  line: number;
  /** Word index range [start, end) within the line. */
  start: number;
  end: number;
  box: Box;
  score: number;
}

/** Every place in the layout where one of `labels` appears (fuzzy, whole words). */
export function findLabel(layout: Layout, labels: readonly Label[]): LabelMatch[] {
  const matches: LabelMatch[] = [];
  layout.lines.forEach((words, line) => {
    const tokens = words.map((w) => canonical(w.token));
    for (const label of labels) {
      const k = label.tokens.length;
      for (let start = 0; start + k <= tokens.length; start++) {
        let sum = 0;
        let ok = true;
        for (let i = 0; i < k; i++) {
          const similarity = tokenSimilarity(label.tokens[i]!, tokens[start + i]!);
          if (similarity < 0.75) {
            ok = false;
            break;
          }
          sum += similarity;
        }
        if (!ok) continue;
        const similarity = sum / k;
        if (similarity < 0.8) continue;
        // A label that opens its line is more likely a label than a word in a sentence.
        const position = start === 0 ? 1 : 0.9;
        const span: PlacedWord[] = words.slice(start, start + k);
        matches.push({
          label,
          line,
          start,
          end: start + k,
          box: union(span.map((w) => w.box)),
          score: similarity * label.weight * position,
        });
      }
    }
  });
  return matches;
}
