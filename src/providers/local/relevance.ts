/**
 * Yes/no relevance from OCR evidence, for triage with the local engine. A local OCR
 * engine cannot understand an arbitrary question; what it can tell is whether the text
 * on an image looks like the document the pattern is for. Readable words alone are not
 * that evidence (a resume has plenty), so the judgement is type-aware; it weighs:
 *
 * - **labels**: the pattern's field labels printed on the page ("Total", "Invoice No.");
 * - **typed values**: text that fits a field's type — a date for a `date` field, a
 *   money amount for a number field named like an amount, a match of a field's regular
 *   expression (a 17-character VIN), one of an enum's values;
 * - **kind**: the document kind the pattern names ("Receipt", "VIN plate") on the page.
 *
 * Relevant: evidence for two fields (a label or a fitting value each), or for one field and
 * the kind, or a match of a field's own regular expression (specific enough alone); on a
 * sparse page (under 20 readable words at triage size: a photo, a handwritten form) one
 * label (not a date's: dates are printed on nearly anything) or the kind is enough, since the full-size extraction may read more. A page full of words with
 * one label is another kind of document. With no pattern, any six readable words. `reason`
 * says which evidence decided.
 *
 * Measured on the 47 real corpus images and the synthetic samples by bench/triage-kinds.ts.
 */
import { type BoundedRegExp, boundedRegExp, withRegexpBudget } from '../../patterns/bounded-regexp.js';
import type { Pattern, SchemaNode } from '../../patterns/types.js';
import { findLabel, labelsFor } from './labels.js';
import { buildLayout } from './layout.js';
import type { OcrPage, OcrWord } from './ocr-engine.js';

export interface RelevanceVerdict {
  answer: boolean;
  confidence: number;
  reason: string;
  words: number;
  labelsFound: number;
  labelsTotal: number;
  /** Fields with a checkable type, and how many of them have a fitting value on the page. */
  valuesFound: number;
  valuesTotal: number;
  /** True when the document kind the pattern names is printed on the page. */
  kindFound: boolean;
}

/** A word OCR is fairly sure of, with at least three letters or digits. */
function isRealWord(word: OcrWord): boolean {
  return word.confidence >= 0.6 && (word.text.match(/[\p{L}\p{N}]/gu)?.length ?? 0) >= 3;
}

const DATE =
  /\b(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}|\d{1,2}\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{2,4}|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2},?\s+\d{4})\b/i;
const MONEY = /(?:[$€£¥]\s?\d[\d,]*(?:[.,]\d{2})?|\b\d[\d,]*[.,]\d{2}\b)/;
const AMOUNT_NAME = /amount|total|price|tax|subtotal|cost|fee|balance|paid|due/i;
const EMAIL = /\b[\w.+-]+@[\w-]+\.[\w.-]+\b/;
const PHONE = /(?:\+\d{1,3}[\s.-]?)?\(?\b\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}\b/;
const URL_LIKE = /\b(?:https?:\/\/|www\.)\S+|\b[\w-]+\.(?:com|org|net|io|dev)\b/i;
/** Below this many readable words a page is hard to read at triage size: one piece of evidence is enough. */
const SPARSE_WORDS = 20;
/** Words of a pattern name that say nothing about the kind of document. */
const NAME_NOISE = new Set([
  'the',
  'and',
  'for',
  'data',
  'document',
  'event',
  'pattern',
  'extraction',
  'info',
]);

/** `kind` groups probes one page value can satisfy at once (one date fits every date field). */
type Probe = {
  field: string;
  kind: string;
  test: (text: string, tokens: readonly string[]) => boolean;
  specific: boolean;
};

/** A pattern's own `pattern`: someone else's regular expression, so tested with a time limit (bounded-regexp.ts). */
function regexOf(source: string): BoundedRegExp | undefined {
  try {
    return boundedRegExp(source, 'u');
  } catch {
    return undefined;
  }
}

/** What a value of this field looks like on a page, when its type says enough to tell. */
function probeFor(field: string, node: SchemaNode): Probe | undefined {
  const types = Array.isArray(node.type) ? node.type : [node.type];
  if (types.includes('string') && node.pattern) {
    const re = regexOf(node.pattern);
    // Anchored patterns describe a whole value: try every token and every pair of tokens.
    if (re)
      return {
        field,
        kind: `pattern ${node.pattern}`,
        test: (_, tokens) => tokens.some((t) => re.test(t)),
        specific: true,
      };
  }
  if (node.format === 'email' || /e-?mail/i.test(field))
    return { field, kind: 'email', test: (text) => EMAIL.test(text), specific: false };
  if (/phone|tel|mobile|fax/i.test(field))
    return { field, kind: 'phone', test: (text) => PHONE.test(text), specific: false };
  if (node.format === 'uri' || /url|website|linkedin/i.test(field)) {
    return { field, kind: 'url', test: (text) => URL_LIKE.test(text), specific: false };
  }
  if (node.format === 'date' || node.format === 'date-time' || /date|_at$|time/i.test(field)) {
    return { field, kind: 'date', test: (text) => DATE.test(text), specific: false };
  }
  if ((types.includes('number') || types.includes('integer')) && AMOUNT_NAME.test(field)) {
    return { field, kind: 'money', test: (text) => MONEY.test(text), specific: false };
  }
  const words = (node.enum ?? []).filter((v): v is string => typeof v === 'string' && v.length >= 4);
  if (words.length > 0) {
    const re = new RegExp(
      `\\b(?:${words.map((w) => w.replace(/[^\p{L}\p{N}]+/gu, '\\W?')).join('|')})\\b`,
      'iu',
    );
    return { field, kind: `enum ${field}`, test: (text) => re.test(text), specific: false };
  }
  return undefined;
}

/** Probes for every scalar field, nested objects and list items included. */
function probes(properties: Record<string, SchemaNode>, into: Probe[] = []): Probe[] {
  for (const [key, node] of Object.entries(properties)) {
    if (node.properties) probes(node.properties, into);
    else if (node.items?.properties) probes(node.items.properties, into);
    else {
      const probe = probeFor(key, node.items ?? node);
      if (probe) into.push(probe);
    }
  }
  return into;
}

/** Tokens of the page, with adjacent pairs joined (OCR splits "1HGCM8263 3A004352"). */
function tokensOf(page: OcrPage): string[] {
  const tokens: string[] = [];
  for (const line of page.lines) {
    const texts = line.words.map((w) => w.text.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, ''));
    texts.forEach((t, i) => {
      if (t) tokens.push(t);
      const next = texts[i + 1];
      if (t && next) tokens.push(t + next);
    });
  }
  return tokens;
}

/** The distinctive words of the pattern's name ("Receipt", "VIN", "plate"). */
function kindWords(pattern: Pattern): string[] {
  return pattern.name
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w.length >= 3 && !NAME_NOISE.has(w));
}

function verdict(
  answer: boolean,
  confidence: number,
  reason: string,
  evidence: Omit<RelevanceVerdict, 'answer' | 'confidence' | 'reason'>,
): RelevanceVerdict {
  return { answer, confidence: Math.round(confidence * 100) / 100, reason, ...evidence };
}

export function judgeRelevance(page: OcrPage, pattern: Pattern | undefined, minWords = 6): RelevanceVerdict {
  const words = page.lines.flatMap((line) => line.words).filter(isRealWord).length;
  const none = { words, labelsFound: 0, labelsTotal: 0, valuesFound: 0, valuesTotal: 0, kindFound: false };
  if (words === 0) return verdict(false, 0.9, 'no readable text', none);
  if (!pattern) {
    return words >= minWords
      ? verdict(
          true,
          Math.min(0.9, 0.5 + words / 100),
          `${words} readable words (no pattern to compare with)`,
          none,
        )
      : verdict(false, 0.7, `only ${words} readable words`, none);
  }
  const layout = buildLayout(page);
  const labelled: string[] = [];
  const keys = Object.entries(pattern.schema.properties);
  for (const [key, node] of keys) {
    const strong = labelsFor(key, node).filter((label) => label.weight >= 0.75);
    if (findLabel(layout, strong).some((match) => match.score >= 0.8)) labelled.push(key);
  }
  const text = page.lines.map((line) => line.words.map((w) => w.text).join(' ')).join('\n');
  const tokens = tokensOf(page);
  const checks = probes(pattern.schema.properties);
  // One page's probes share one regexp time budget; once spent, a `pattern` probe does not fit.
  const { value: fitting } = withRegexpBudget(() => checks.filter((probe) => probe.test(text, tokens)));
  const specific = fitting.filter((probe) => probe.specific);
  const lower = text.toLowerCase();
  const kind = kindWords(pattern).find((w) => new RegExp(`\\b${w}\\b`, 'u').test(lower));
  const evidence = {
    words,
    labelsFound: labelled.length,
    labelsTotal: keys.length,
    valuesFound: fitting.length,
    valuesTotal: checks.length,
    kindFound: kind !== undefined,
  };
  const parts = [
    labelled.length ? `labels ${labelled.slice(0, 4).join(', ')} (${labelled.length} of ${keys.length})` : '',
    fitting.length
      ? `values fitting ${fitting
          .map((p) => p.field)
          .slice(0, 4)
          .join(', ')}`
      : '',
    kind ? `the word "${kind}"` : '',
  ].filter(Boolean);
  // Evidence counts per field: a "Date" label beside a date is one field, not two.
  // One value fits every field of its kind (a date, invoice_date and due_date): it counts once.
  const fields = new Set([
    ...labelled,
    ...fitting.filter((probe) => !labelled.includes(probe.field)).map((probe) => probe.kind),
  ]);
  const strength = Math.min(2, fields.size) + (kind ? 1 : 0) + (specific.length > 0 ? 2 : 0);
  // A page full of words that shows one piece of evidence is most likely another kind of
  // document; a sparse page (a photo, a handwritten form at triage size) gets the benefit of the doubt.
  // A date label is no such sign: a date is printed on nearly anything (a VIN sticker's
  // manufacture date, a prescription), so alone it does not make a page the pattern's kind.
  const telling = labelled.filter((key) => probeFor(key, pattern.schema.properties[key]!)?.kind !== 'date');
  const named = telling.length > 0 || kind !== undefined;
  if (strength >= 2 || (named && words < SPARSE_WORDS)) {
    const share = (labelled.length + fitting.length) / Math.max(1, keys.length + checks.length);
    return verdict(
      true,
      Math.min(1, 0.6 + 0.4 * share),
      `${pattern.name}: found ${parts.join('; ')}`,
      evidence,
    );
  }
  const expected = keys
    .slice(0, 4)
    .map(([key]) => key)
    .join(', ');
  return verdict(
    false,
    words >= minWords ? 0.8 : 0.7,
    `${words} readable words but not a ${pattern.name}: ${parts.length ? `only ${parts.join('; ')}` : `none of its labels (${expected}${keys.length > 4 ? ', …' : ''}), no value of its types`}`,
    evidence,
  );
}
