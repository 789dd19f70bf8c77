/**
 * What kind of value a field holds, read from everything the pattern says about it: its
 * type, format, enum and pattern first, then its name, title and description
 * (`invoice_date` holds a date even when typed a plain string; `vendor_name` a name;
 * `invoice_number` an identifier). The local engine only keeps text that fits the kind
 * (fit-value.ts): a date field never receives "email.", a name never "PUSA ROAD,NEW
 * DELHI-110005".
 */
import type { SchemaNode } from '../../patterns/types.js';

export type FieldKind =
  | 'boolean'
  | 'integer'
  | 'number'
  | 'enum'
  | 'date'
  | 'datetime'
  | 'time'
  | 'email'
  | 'url'
  | 'formatted'
  | 'patterned'
  | 'vin'
  | 'plate'
  | 'phone'
  | 'currency'
  | 'amount'
  | 'identifier'
  | 'name'
  | 'place'
  | 'text';

const FORMAT_KINDS: Record<string, FieldKind> = {
  date: 'date',
  'date-time': 'datetime',
  time: 'time',
  email: 'email',
  uri: 'url',
};

/** Name patterns, tried in order on `key title description` (lowercase, `_` as a space). */
const NAMED: Array<[FieldKind, RegExp]> = [
  ['vin', /\bvin\b|vehicle identification/],
  ['plate', /\bplate\b|\bregistration (number|no)\b|\blicen[cs]e (plate|number)\b/],
  ['email', /\be ?mail\b/],
  ['phone', /\b(phone|tel|telephone|mobile|cell|fax)\b/],
  ['url', /\b(url|website|web site|homepage)\b/],
  ['currency', /\bcurrency\b/],
  ['date', /\b(date|dated|dob|birthday|birth)\b|\byyyy mm dd\b|\b(issued|expires|expiry|expiration) on\b/],
  [
    'amount',
    /\b(total|amount|subtotal|sub total|tax|vat|gst|price|cost|fee|fees|balance|sum|charge|charges|paid|tip)\b/,
  ],
  [
    'identifier',
    /\b(number|no|num|nr|id|code|reference|ref|serial|sku|account|acct|lot|policy|order|ticket|invoice id|receipt id)\b/,
  ],
  [
    'name',
    /\b(name|vendor|merchant|company|store|business|seller|issuer|shop|supplier|customer|client|buyer|payee|patient|prescriber|doctor|physician|manufacturer|maker|employer|candidate)\b/,
  ],
  ['place', /\b(address|street|city|location|region|country|state|province)\b/],
];

function words(node: SchemaNode, key: string): string {
  return [key, node.title ?? '', node.description ?? '']
    .join(' ')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replace(/[_\-/.]+/g, ' ')
    .toLowerCase();
}

/** Kinds that a word anywhere in the key decides (`plate_number` is a plate, not any number). */
const SPECIFIC = new Set<FieldKind>(['vin', 'plate', 'email', 'phone', 'url', 'currency']);

/**
 * A string field's kind from its name: a specific kind named anywhere in the key, then
 * the key's last word (the head of an English compound: `account_name` is a name,
 * `name_id` an identifier), then the whole key, then title and description.
 */
function kindByName(key: string, node: SchemaNode): FieldKind {
  const keyText = words({ type: 'string' }, key);
  const last = keyText.trim().split(' ').at(-1) ?? '';
  const tries: Array<[string, (kind: FieldKind) => boolean]> = [
    [keyText, (kind) => SPECIFIC.has(kind)],
    [last, () => true],
    [keyText, () => true],
    [words(node, key), () => true],
  ];
  for (const [text, allowed] of tries) {
    const found = NAMED.find(([kind, re]) => allowed(kind) && re.test(text));
    if (found) return found[0];
  }
  return 'text';
}

function valueTypes(node: SchemaNode): string[] {
  return (Array.isArray(node.type) ? node.type : [node.type]).filter((t) => t !== 'null');
}

/** The kind of a scalar field; undefined for objects and arrays. */
export function fieldKind(key: string, node: SchemaNode): FieldKind | undefined {
  const types = valueTypes(node);
  if (types.some((t) => t === 'object' || t === 'array')) return undefined;
  if (node.enum?.some((v) => typeof v === 'string')) return 'enum';
  if (types.includes('string')) {
    const byFormat = node.format === undefined ? undefined : FORMAT_KINDS[node.format];
    if (byFormat) return byFormat;
    // A name that says more than "text" reads the value (a VIN, an identifier); the
    // field's regular expression or format still has the last word (fit-value.ts).
    const named = kindByName(key, node);
    if (named !== 'text') return named;
    return node.format !== undefined ? 'formatted' : node.pattern !== undefined ? 'patterned' : 'text';
  }
  if (types.includes('integer')) return 'integer';
  if (types.includes('number')) return 'number';
  if (types.includes('boolean')) return 'boolean';
  return undefined;
}
