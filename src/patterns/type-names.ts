/**
 * ImgGo's simple schema form writes a type name where a value goes:
 * `{"vendor_name": "string", "invoice_date": "date", "total": "number"}`. This table
 * reads those names (case-insensitive), optionally followed by a description in
 * parentheses or after a colon or dash: `"string (invoice|receipt|other)"`,
 * `"number: total in the document's currency"`.
 */
import type { JsonType } from './types.js';

export interface TypeName {
  type: JsonType;
  format?: string;
}

const TYPE_NAMES: Record<string, TypeName> = {
  string: { type: 'string' },
  str: { type: 'string' },
  text: { type: 'string' },
  number: { type: 'number' },
  float: { type: 'number' },
  double: { type: 'number' },
  decimal: { type: 'number' },
  integer: { type: 'integer' },
  int: { type: 'integer' },
  boolean: { type: 'boolean' },
  bool: { type: 'boolean' },
  date: { type: 'string', format: 'date' },
  datetime: { type: 'string', format: 'date-time' },
  'date-time': { type: 'string', format: 'date-time' },
  timestamp: { type: 'string', format: 'date-time' },
  time: { type: 'string', format: 'time' },
  email: { type: 'string', format: 'email' },
  url: { type: 'string', format: 'uri' },
  uri: { type: 'string', format: 'uri' },
};

// A word, then optionally "(description)" or ": description" / " - description".
const TYPE_NAME_RE = /^\s*([a-z][a-z-]*?)\s*(?:\((.*)\)|(?:[:–—]|\s-)\s*(.+?))?\s*$/is;

/** The type a string example stands for, or undefined when it is an ordinary example value. */
export function readTypeName(value: string): (TypeName & { description?: string }) | undefined {
  const match = TYPE_NAME_RE.exec(value);
  if (!match) return undefined;
  const known = TYPE_NAMES[match[1]!.toLowerCase()];
  if (!known) return undefined;
  const description = (match[2] ?? match[3])?.trim();
  return description ? { ...known, description } : { ...known };
}

/** Formats a normalised schema keeps and checks (formats.ts); others are reported as not enforced. */
export const KEPT_FORMATS: ReadonlySet<string> = new Set([
  'date',
  'date-time',
  'time',
  'duration',
  'email',
  'hostname',
  'ipv4',
  'ipv6',
  'uuid',
  'uri',
]);

/** `YYYY-MM-DD`: an example that looks like this is a date. */
export const ISO_DATE_RE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;
