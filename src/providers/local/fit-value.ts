/**
 * OCR text → a value that fits its field, or undefined. Each kind (field-kinds.ts) has
 * its own reading: a date is found and written as ISO 8601, an amount parsed, an
 * identifier is one token with a digit, a name a short run of words that is not an
 * address, a sentence or a label. Whatever the kind, the value must also pass the
 * field's own schema (type, format, pattern, lengths, bounds): a candidate that does not
 * is dropped, so the field stays null ("not found") rather than wrong.
 */
import { distance } from 'fastest-levenshtein';
import type { SchemaNode } from '../../patterns/types.js';
import { issuesAgainst } from '../../patterns/validate.js';
import { type DayOrder, findCurrency, findDates, findNumbers, parseBoolean } from './coerce.js';
import type { FieldKind } from './field-kinds.js';
import { isMeasure, vinCheckDigit, vinEvidence } from './identifier.js';

export type FieldValue = string | number | boolean;

export interface FitContext {
  /** The document's day/month order for ambiguous numeric dates. */
  order: DayOrder;
  /** Where the text is relative to the field's label: on its line, to its right, under it, or anywhere. */
  position: 'after' | 'right' | 'below' | 'anywhere';
}

/** Addresses, not names: street words, or a postcode-like run of digits. */
const ADDRESS =
  /\b(road|rd|street|st|avenue|ave|suite|ste|floor|fl|lane|ln|drive|dr|blvd|box|p\.?o\.?)\b|\d{4,}/i;
/** Printed labels end with a colon; values do not. */
const LABEL_LIKE = /:\s*$|^[^:]{0,30}:\s/;

function letters(text: string): number {
  return (text.match(/\p{L}/gu) ?? []).length;
}

function digits(text: string): number {
  return (text.match(/\d/g) ?? []).length;
}

/** Text without the separators a value's label leaves in front of it. */
function cleaned(text: string): string {
  return text
    .replace(/^[\s:#\-–—.|=]+/, '')
    .replace(/[\s|=—–]+$/, '')
    .replace(/\s+-+$/, '')
    .trim();
}

/** Small words that are never a whole name ("BY" after "MANUFACTURED"). */
const FUNCTION_WORDS = new Set([
  'by',
  'of',
  'to',
  'the',
  'and',
  'for',
  'from',
  'at',
  'in',
  'on',
  'with',
  'per',
]);

/**
 * Words of a table's header row or a form's captions ("DESCRIPTION", "QTY", "UNIT PRICE",
 * "AMOUNT"): a line made only of them is a heading, never a vendor's or a person's name.
 */
const HEADING_WORDS = new Set([
  'description',
  'item',
  'items',
  'qty',
  'quantity',
  'unit',
  'units',
  'price',
  'rate',
  'amount',
  'amounts',
  'total',
  'subtotal',
  'tax',
  'hours',
  'hrs',
  'date',
  'no',
  'no.',
  'number',
  'details',
  'particulars',
  'service',
  'services',
  'product',
  'products',
  'code',
  'sku',
  'discount',
  'balance',
  'payment',
  'notes',
  'remarks',
  'terms',
  'cost',
  'each',
  'sr',
  's.no',
  'sl',
  'hsn',
  'sac',
  'uom',
]);

/**
 * A page's running marker ("Page 2 of 2", "p. 3/4", "Page: 2", "Seite 2 von 3", "2 of 3",
 * "- 2 -"): printed on a page, never anyone's name.
 */
export const PAGE_MARKER =
  /^(?:(?:page|pg\.?|p\.|seite|p[aá]gina|pagina)\s*[:#]?\s*\d+(?:\s*(?:of|\/|von|de|di)\s*\d+)?(?:\s*pages?)?|\d+\s*(?:of|\/|von)\s*\d+|[-–—]\s*\d+\s*[-–—])$/i;

/** A person's or company's name: 1–8 words, mostly letters, not an address, a sentence, a label or a page marker. */
export function fitName(text: string): string | undefined {
  const value = cleaned(text).replace(/[,;]+$/, '');
  const tokens = value.split(/\s+/);
  const wordCount = tokens.length;
  if (value === '' || wordCount > 8 || value.length > 80) return undefined;
  if (tokens.every((t) => FUNCTION_WORDS.has(t.toLowerCase()))) return undefined;
  // A table's header row or a caption ("DESCRIPTION", "QTY  UNIT PRICE") is not a name.
  if (
    tokens.every(
      (t) =>
        HEADING_WORDS.has(t.toLowerCase().replace(/[.:#/]+$/, '')) || FUNCTION_WORDS.has(t.toLowerCase()),
    )
  )
    return undefined;
  // Words of names are short; a 20-letter run is words OCR glued together ("RemoteWorkEnvironments").
  if (tokens.some((t) => t.length > 20)) return undefined;
  // Separators between parts ("Intern - Data Entry", "Analyst | Remote") are not in names.
  if (tokens.some((t) => /^[-–—|/]$/.test(t))) return undefined;
  if (!/^[\p{Lu}\p{N}"'(&]/u.test(value)) return undefined; // names start with a capital
  if (value.includes('@') || /https?:|www\./i.test(value) || LABEL_LIKE.test(value)) return undefined;
  if (ADDRESS.test(value) || PAGE_MARKER.test(value)) return undefined;
  const visible = value.replace(/\s/g, '').length;
  if (letters(value) < 3 || letters(value) / visible < 0.7) return undefined;
  // A sentence: many lower-case words, or a full stop after several words.
  const lowerWords = value.split(/\s+/).filter((w) => /^\p{Ll}/u.test(w)).length;
  const sentenceEnd = /\.$/.test(value) && !/\b(ltd|inc|co|corp|llc|plc|gmbh|bv|ag|sa)\.$/i.test(value);
  if (lowerWords > 2 || (wordCount > 3 && sentenceEnd)) return undefined;
  return value;
}

/** A place or address: some letters, not a sentence, not an email or a label. */
function fitPlace(text: string): string | undefined {
  const value = cleaned(text);
  if (value.length < 2 || value.length > 120 || letters(value) < 2) return undefined;
  if (value.includes('@') || LABEL_LIKE.test(value)) return undefined;
  return value;
}

/**
 * An identifier: the first token with a digit in it (`INV-10012`, `MSA-TI-02`, `1930`),
 * at least two characters of letters, digits and inner `-/._`; never a date, an amount
 * with a currency sign, or a phone number.
 */
export function fitIdentifier(text: string): string | undefined {
  for (const raw of cleaned(text).split(/\s+/)) {
    const token = raw.replace(/^[#№:(]+|[:),.;]+$/g, '');
    if (token.length < 2 || !/\d/.test(token)) continue;
    if (!/^[\p{L}\p{N}][\p{L}\p{N}\-/._]*$/u.test(token)) continue;
    if (findDates(token).length > 0 && /[/.]/.test(token)) continue;
    if (isMeasure(token)) continue; // "4K", "16GB": a size, not a number of anything
    return token;
  }
  return undefined;
}

/** Characters OCR reads for the digits and letters a VIN may hold (no I, O or Q in VINs). */
const VIN_REPAIR: Record<string, string> = { O: '0', Q: '0', I: '1' };

/**
 * A 17-character VIN in the text, spaces inside allowed, I/O/Q read as 1/0/0, with its
 * evidence (identifier.ts: 1 for a North-American VIN whose check digit holds, 0.5 for
 * another region's VIN under its label or printed as one word). Where the check digit is
 * in use (a digit or X in position 9) and the character OCR read there was one of those
 * lookalikes, the check digit the other 16 call for is used. `labelled`: a VIN label led
 * to the text. Undefined when no window of the text is a VIN with evidence.
 */
export function readVin(
  text: string,
  labelled: boolean,
): { vin: string; evidence: number; checked: boolean } | undefined {
  const compact = text.toUpperCase().replace(/[\s-]+/g, ' ');
  const found: Array<{ vin: string; evidence: number; checked: boolean }> = [];
  for (const run of compact.match(/[A-Z0-9 ]{17,}/g) ?? []) {
    const joined = run.replace(/ /g, '');
    // Where the run's words start and end: a window that is one whole word was printed as one.
    const starts = new Set<number>();
    const ends = new Set<number>();
    let at = 0;
    for (const word of run.trim().split(' ')) {
      starts.add(at);
      at += word.length;
      ends.add(at);
    }
    for (let i = 0; i + 17 <= joined.length; i++) {
      const read = joined.slice(i, i + 17);
      let vin = read.replace(/[OQI]/g, (c) => VIN_REPAIR[c] ?? c);
      if (/[OQI]/.test(read[8]!) && /[\dX]/.test(vin[8]!))
        vin = `${vin.slice(0, 8)}${vinCheckDigit(vin)}${vin.slice(9)}`;
      const wholeWord = starts.has(i) && ends.has(i + 17) && ![...starts].some((s) => s > i && s < i + 17);
      const evidence = vinEvidence(vin, { labelled, wholeWord });
      if (evidence !== undefined) found.push({ vin, evidence, checked: /^[1-5]/.test(vin) });
    }
  }
  return found.sort((a, b) => b.evidence - a.evidence)[0];
}

/** A VIN with evidence in the text (readVin), or undefined. */
export function fitVin(text: string, labelled = true): string | undefined {
  return readVin(text, labelled)?.vin;
}

/**
 * A licence plate: 4–10 letters and digits, at least one of each unless all digits,
 * written without spaces or dashes (separators differ by country, the characters do not).
 */
export function fitPlate(text: string): string | undefined {
  const tokens = cleaned(text).toUpperCase().split(/\s+/);
  for (let size = Math.min(3, tokens.length); size >= 1; size--) {
    for (let i = 0; i + size <= tokens.length; i++) {
      const joined = tokens.slice(i, i + size).join('');
      if (!/^[A-Z0-9][A-Z0-9-]*[A-Z0-9]$/.test(joined)) continue;
      const plain = joined.replace(/-/g, '');
      if (plain.length < 4 || plain.length > 10 || !/\d/.test(plain)) continue;
      return plain;
    }
  }
  return undefined;
}

export function fitEmail(text: string): string | undefined {
  return /[\w.+-]+@[\w-]+(\.[\w-]+)*\.[a-z]{2,}/i.exec(text)?.[0];
}

/** An amount as printed ("118000.00", "1,699.48"): never a phone number. */
const AMOUNT_SHAPE = /^\d{1,3}(,\d{3})+(\.\d{2})?$|^\d+[.,]\d{2}$/;

/** Words of identifiers' labels: a number after one is that identifier, not a phone. */
const IDENTIFIER_LABEL =
  /\b(invoice|inv|quote|quotation|order|po|account|acct|ref|reference|receipt|ticket|policy|serial|gstin|gst|abn|acn|pan|vat|tin|ein|ssn|id|no|number|nr)\b\.?\s*[:#]?\s*$|#\s*$/i;

/** Labels of a phone number. */
const PHONE_LABEL = /\b(phone|tel|telephone|ph|mob|mobile|cell|fax|call|contact)\b\.?\s*[:#]?\s*$/i;

/**
 * Whether a number read without a phone label is shaped like a phone number: a leading
 * +country code, a bracketed area code, or 10 digits or more. A short number ("2045-112",
 * a quote number's tail; "567-1234", a number OCR broke) is a phone only under its label.
 */
function phoneShaped(value: string): boolean {
  return /^\+\d|^\(\d{2,5}\)/.test(value) || digits(value) >= 10;
}

/**
 * A phone number as printed: 7–15 digits with spaces, dots, dashes, brackets, a leading +.
 * Never part of a longer token ("QT-2045-112": a quote number), an amount ("118000.00"),
 * a date or a year range, nor a number after another identifier's label ("Invoice No.
 * 2045112"). `labelled`: a phone label led to the text; without one, the number must also
 * be phone-shaped (phoneShaped) or follow a phone label on its own line.
 */
export function fitPhone(text: string, labelled = true): string | undefined {
  for (const match of text.matchAll(/\+?\(?\d[\d\s().-]{5,}\d/g)) {
    const value = match[0].trim();
    const count = digits(value);
    if (count < 7 || count > 15) continue;
    const before = text.slice(0, match.index);
    const after = text.slice(match.index + match[0].length);
    // Glued to letters: a part of another identifier ("QT-2045-112", "INV2045112").
    // After a bracket or a digit: the tail of a number OCR broke ("+1 (1I1) 567-1234").
    if (/[\p{L}\d][-–/]?$|[\d)]\s?$/u.test(before) || /^[-–/]?[\p{L}\d]/u.test(after)) continue;
    // An amount, or a bracketed area code of one digit ("+1 (1) 123-4567": OCR lost digits).
    if (AMOUNT_SHAPE.test(value) || /\(\d?\)/.test(value)) continue;
    // Dates and year ranges ("2017 - 2021") are digits with separators too.
    if (findDates(value).length > 0 || /^(19|20)\d\d\s*[-–]\s*(19|20)\d\d$/.test(value)) continue;
    const phoneLabel = PHONE_LABEL.test(before);
    if (!phoneLabel && IDENTIFIER_LABEL.test(before)) continue;
    if (!labelled && !phoneLabel && !phoneShaped(value)) continue;
    return value;
  }
  return undefined;
}

export function fitUrl(text: string, requireScheme: boolean): string | undefined {
  const withScheme = /\bhttps?:\/\/[^\s,;]+/i.exec(text)?.[0];
  if (withScheme || requireScheme) return withScheme;
  return /\b(www\.[^\s,;@]+|[a-z0-9-]+(\.[a-z0-9-]+)*\.(com|org|net|io|co|edu|gov|info|biz|[a-z]{2})\b[^\s,;@]*)/i.exec(
    text,
  )?.[0];
}

const CURRENCY_WORDS: Array<[RegExp, string]> = [
  [/\brupees?\b/i, 'INR'],
  [/\beuros?\b/i, 'EUR'],
  [/\bpounds? sterling\b/i, 'GBP'],
  [/\byen\b/i, 'JPY'],
];

export function fitCurrency(text: string): string | undefined {
  const code = findCurrency(text);
  if (code) return code;
  return CURRENCY_WORDS.find(([re]) => re.test(text))?.[1];
}

/** HH:MM[:SS], from 24-hour or am/pm text. */
export function fitTime(text: string): string | undefined {
  const match = /\b([01]?\d|2[0-3])[:.]([0-5]\d)(?::([0-5]\d))?\s*([ap]\.?m\.?)?/i.exec(text);
  if (!match) return undefined;
  let hours = Number(match[1]);
  const meridiem = match[4]?.toLowerCase()[0];
  if (meridiem && hours > 12) return undefined;
  if (meridiem === 'p' && hours < 12) hours += 12;
  if (meridiem === 'a' && hours === 12) hours = 0;
  return `${String(hours).padStart(2, '0')}:${match[2]}${match[3] ? `:${match[3]}` : ''}`;
}

function closestEnum(text: string, options: ReadonlyArray<string | number | boolean | null>) {
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

/** Free text: letters or digits, not a label, not a paragraph. */
function fitText(text: string): string | undefined {
  const value = cleaned(text);
  if (value === '' || !/[\p{L}\p{N}]/u.test(value) || value.length > 120) return undefined;
  if (/:$/.test(value)) return undefined;
  return value;
}

/** Tokens and runs of up to three tokens, joined with and without spaces. */
function pieces(text: string): string[] {
  const tokens = cleaned(text).split(/\s+/).filter(Boolean);
  const out = [cleaned(text)];
  for (let size = 1; size <= 3; size++)
    for (let i = 0; i + size <= tokens.length; i++) {
      const run = tokens.slice(i, i + size);
      out.push(run.join(' '), run.join(''));
    }
  return out.map((p) => p.replace(/^[#№:(]+|[:),;.]+$/g, ''));
}

/** The first piece of `text` that passes the field's schema (a regular expression or a format). */
function fitBySchema(text: string, node: SchemaNode): string | undefined {
  return pieces(text).find((piece) => piece !== '' && issuesAgainst(node, piece).length === 0);
}

function readKind(kind: FieldKind, text: string, node: SchemaNode, ctx: FitContext): FieldValue | undefined {
  switch (kind) {
    case 'boolean':
      return parseBoolean(text);
    case 'integer':
    case 'number':
    case 'amount': {
      const numbers = findNumbers(text);
      // "TOTAL .... 45.20": on the label's own line the amount is the last number.
      const value = ctx.position === 'after' ? numbers.at(-1) : numbers[0];
      if (value === undefined) return undefined;
      if (kind === 'integer' && !Number.isInteger(value)) return undefined;
      // A string field that holds an amount gets the plain number, as a string.
      return node.type === 'string' || (Array.isArray(node.type) && node.type.includes('string'))
        ? String(value)
        : value;
    }
    case 'enum':
      return closestEnum(cleaned(text), node.enum ?? []);
    case 'date':
      return findDates(text, ctx.order)[0]?.iso;
    case 'datetime': {
      const date = findDates(text, ctx.order)[0]?.iso;
      const time = date ? fitTime(text.replace(/\b\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}\b/, ' ')) : undefined;
      return date && time ? `${date}T${time.length === 5 ? `${time}:00` : time}` : undefined;
    }
    case 'time':
      return fitTime(text);
    case 'email':
      return fitEmail(text);
    case 'url':
      return fitUrl(text, node.format === 'uri');
    case 'phone':
      // Read under or beside its label, a number is a phone by the label; elsewhere by its shape.
      return fitPhone(text, ctx.position !== 'anywhere');
    case 'vin':
      return fitVin(text, ctx.position !== 'anywhere');
    case 'plate':
      return fitPlate(text);
    case 'currency':
      return fitCurrency(text);
    case 'identifier':
      return fitIdentifier(text);
    case 'name':
      return fitName(text);
    case 'place':
      return fitPlace(text);
    case 'formatted':
    case 'patterned':
      return fitBySchema(text, node);
    case 'text':
      return fitText(text);
  }
}

/**
 * `text` read as a value of `kind` that the field's schema accepts, or undefined.
 * `node` is the field's normalised schema (constraints included).
 */
export function fitValue(
  kind: FieldKind,
  text: string,
  node: SchemaNode,
  ctx: FitContext,
): FieldValue | undefined {
  if (text.trim() === '') return undefined;
  // A page's running marker is what the page says about itself, never a field's value.
  if (PAGE_MARKER.test(text.trim())) return undefined;
  const value = readKind(kind, text, node, ctx);
  if (value !== undefined && issuesAgainst(node, value).length === 0) return value;
  // The field's own regular expression or format can still find the value in the text.
  // Not for VINs and plates: their reader is the judge ("MAKECHECKSPAYABLE" fits a VIN's
  // regular expression and is no VIN).
  const bySchema =
    (node.pattern !== undefined || node.format !== undefined) && kind !== 'vin' && kind !== 'plate';
  return bySchema && typeof value !== 'number' ? fitBySchema(text, node) : undefined;
}
