/**
 * XML with fast-xml-parser's XMLBuilder: an XML declaration, the root element from the
 * `xmlRoot` hint (an XML pattern's own root) or the sanitised pattern name, one child
 * element per property in schema order, arrays as repeated elements (an empty array
 * writes nothing), null as an empty element, nested arrays wrapped in `<item>`
 * elements. Keys that are not XML names are sanitised (`unit price` → `unit_price`,
 * `2nd` → `_2nd`, names starting with `xml` get a `_`), deduplicated with `_2`.
 * Text is escaped here rather than by the builder so that `&`, `<`, `>`, both quotes
 * and carriage returns (`&#13;`, which parsers would otherwise turn into `\n`) survive
 * a round trip; characters XML 1.0 cannot carry at all (NUL and other C0 controls,
 * lone surrogates) are dropped.
 */
import type { XMLBuilder } from 'fast-xml-parser';
import { fastXmlParser } from '../on-first-use.js';
import { isPlainObject, setOwn } from './objects.js';
import type { Pattern } from './types.js';

const NAME_START =
  'A-Z_a-z\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C-\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD\\u{10000}-\\u{EFFFF}';
const NAME_CHAR = `${NAME_START}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F-\\u2040`;
const INVALID_NAME_CHARS = new RegExp(`[^${NAME_CHAR}]`, 'gu');
const VALID_START = new RegExp(`^[${NAME_START}]`, 'u');
// Characters XML 1.0 cannot represent, even as character references.
const INVALID_XML_CHARS =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching exactly the control characters XML forbids
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function xmlName(key: string): string {
  let name = key.normalize('NFC').replace(INVALID_NAME_CHARS, '_');
  if (!VALID_START.test(name)) name = `_${name}`;
  if (/^xml/i.test(name)) name = `_${name}`;
  return name;
}

export function escapeXmlText(text: string): string {
  return text
    .replace(INVALID_XML_CHARS, '')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&apos;')
    .replaceAll('\r', '&#13;');
}

/** The value tree the builder receives: sanitised element names, arrays as repetition. */
function toElements(value: unknown): unknown {
  if (Array.isArray(value))
    return value.map((item) => (Array.isArray(item) ? { item: toElements(item) } : toElements(item)));
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    const base = xmlName(key);
    let name = base;
    for (let n = 2; Object.hasOwn(out, name); n++) name = `${base}_${n}`;
    setOwn(out, name, toElements(child));
  }
  return out;
}

let builderInstance: XMLBuilder | undefined;

/** One builder for every render, made on the first (fast-xml-parser loads then). */
const builder = (): XMLBuilder =>
  (builderInstance ??= new (fastXmlParser().XMLBuilder)({
    format: true,
    indentBy: '  ',
    ignoreAttributes: true,
    suppressEmptyNode: false,
    processEntities: false,
    tagValueProcessor: (_name: string, value: unknown) =>
      typeof value === 'string' ? escapeXmlText(value) : String(value),
  }));

export function renderXml(
  pattern: Pick<Pattern, 'name' | 'hints'>,
  ordered: Record<string, unknown>,
): string {
  const root = pattern.hints.xmlRoot ?? xmlName(pattern.name.trim().replace(/\s+/g, '_') || 'output');
  const body = builder().build({ [root]: toElements(ordered) }) as string;
  return `<?xml version="1.0" encoding="UTF-8"?>\n${body.endsWith('\n') ? body : `${body}\n`}`;
}
