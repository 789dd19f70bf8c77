/**
 * `csv_schema`: one CSV header row, e.g. `merchant_name,date,total_amount,category`.
 * A CSV pattern is one flat row: each column is a nullable property, typed by its name
 * (ImgGo gives no types): amounts, totals, prices, costs, taxes and quantities are
 * numbers, columns named `date` or `…_date` are ISO dates, the rest strings. Names are
 * split into words first, so `Total Amount` and `totalAmount` read like `total_amount`,
 * and `candidate` or `update` are not dates.
 * The header is parsed with RFC 4180 quoting (`"a,b"` is one column) by a few lines of
 * code here: csv-parse is a test-only dependency and the header is one short line.
 */
import { invalidPattern } from './invalid.js';
import { strictObject } from './schema-node.js';
import type { ObjectSchema, SchemaNode } from './types.js';

export type CsvDelimiter = ',' | ';';

const NUMBER_COLUMN_RE = /(^|_)(amount|total|price|cost|tax|subtotal|quantity|qty)(_|$)/;
const DATE_COLUMN_RE = /(^|_)date$/;

/** `Total Amount`, `totalAmount`, `total-amount` → `total_amount`, for type rules only. */
function words(name: string): string {
  return name
    .replace(/([a-z\d])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z\d]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

export function columnSchema(name: string): SchemaNode {
  const key = words(name);
  if (NUMBER_COLUMN_RE.test(key)) return { type: ['number', 'null'] };
  if (DATE_COLUMN_RE.test(key)) return { type: ['string', 'null'], format: 'date' };
  return { type: ['string', 'null'] };
}

/** Splits one header record; throws a message (without the origin) on malformed quoting. */
function splitHeader(text: string, delimiter: CsvDelimiter): string[] {
  const fields: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  let afterQuote = false;
  while (i < text.length) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
        continue;
      }
      if (ch === '"') {
        quoted = false;
        afterQuote = true;
      } else field += ch;
      i++;
      continue;
    }
    if (ch === delimiter) {
      fields.push(field);
      field = '';
      afterQuote = false;
    } else if (ch === '\n' || ch === '\r') {
      const rest = text.slice(i).trim();
      if (rest !== '')
        throw new Error(`csv_schema must be one header row (found more after column ${fields.length + 1})`);
      break;
    } else if (ch === '"') {
      if (field.trim() !== '' || afterQuote)
        throw new Error(`csv_schema has a stray quote in column ${fields.length + 1}`);
      quoted = true;
      field = '';
    } else if (afterQuote) {
      if (ch.trim() !== '')
        throw new Error(`csv_schema has text after the closing quote of column ${fields.length + 1}`);
    } else field += ch;
    i++;
  }
  if (quoted) throw new Error(`csv_schema has an unterminated quote in column ${fields.length + 1}`);
  fields.push(field);
  return fields;
}

export interface CsvSchema {
  schema: ObjectSchema;
  columns: string[];
}

export function schemaFromCsv(text: string, delimiter: CsvDelimiter, origin: string): CsvSchema {
  let raw: string[];
  try {
    raw = splitHeader(text.replace(/^\uFEFF/, '').trim(), delimiter);
  } catch (error) {
    throw invalidPattern(origin, (error as Error).message);
  }
  const columns = raw.map((c) => c.trim());
  const other = delimiter === ',' ? ';' : ',';
  if (columns.length === 1 && columns[0]!.includes(other))
    throw invalidPattern(
      origin,
      `csv_schema has one column ${JSON.stringify(columns[0])}: set csv_delimiter to ${delimiter === ',' ? 'semicolon' : 'comma'} if "${other}" separates the columns`,
    );
  const seen = new Map<string, number>();
  columns.forEach((name, index) => {
    if (name === '') throw invalidPattern(origin, `csv_schema column ${index + 1} has an empty name`);
    const previous = seen.get(name);
    if (previous !== undefined)
      throw invalidPattern(
        origin,
        `csv_schema has a duplicate column ${JSON.stringify(name)} (columns ${previous + 1} and ${index + 1})`,
      );
    seen.set(name, index);
  });
  return { schema: strictObject(columns.map((name) => [name, columnSchema(name)])), columns };
}
