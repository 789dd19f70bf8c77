/**
 * Reading rendered outputs back with parsers that share no code with the renderers
 * (js-yaml, @xmldom/xmldom, csv-parse, JSON.parse and a small Markdown heading reader),
 * so a round trip proves the text is valid for other tools, not only for our own code.
 * How each format is compared:
 * - JSON, YAML: deep equality with the original output (types included).
 * - XML: elements are read back by walking the schema, text typed per the schema
 *   (number → Number, boolean → "true"), an empty element is null; so '' cannot round
 *   trip (tricky outputs never use it), and an empty nullable list element reads as null.
 * - CSV: every cell is compared as a string: null → '', numbers and booleans as JSON
 *   writes them, rows keyed by the header.
 * - Text: headings (level, text) and the value under each leaf heading as a string,
 *   null for an empty value.
 */
import { DOMParser, type Element } from '@xmldom/xmldom';
import { parse as parseCsv } from 'csv-parse/sync';
import type { SchemaNode } from '../../../src/patterns/types.js';

function typesOf(node: SchemaNode): string[] {
  return Array.isArray(node.type) ? node.type : [node.type];
}

// ---------------------------------------------------------------- XML

function childElements(parent: Element, name: string): Element[] {
  const out: Element[] = [];
  for (let n = parent.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === 1 && n.nodeName === name) out.push(n as Element);
  }
  return out;
}

function isEmptyElement(el: Element): boolean {
  return el.firstChild === null;
}

function readXmlValue(el: Element, node: SchemaNode): unknown {
  const types = typesOf(node);
  if (types.includes('object') && node.properties) {
    if (isEmptyElement(el) && types.includes('null')) return null;
    return readXmlObject(el, node);
  }
  const text = el.textContent ?? '';
  if (text === '') return null;
  if (types.includes('number') || types.includes('integer')) return Number(text);
  if (types.includes('boolean')) return text === 'true';
  return text;
}

function readXmlObject(el: Element, node: SchemaNode): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    const found = childElements(el, key);
    if (typesOf(child).includes('array')) {
      if (found.length === 1 && isEmptyElement(found[0]!) && typesOf(child).includes('null')) out[key] = null;
      else out[key] = found.map((e) => readXmlValue(e, child.items!));
    } else {
      if (found.length !== 1) throw new Error(`expected one <${key}> element, found ${found.length}`);
      out[key] = readXmlValue(found[0]!, child);
    }
  }
  return out;
}

export function parseXmlBack(
  xml: string,
  schema: SchemaNode,
): { root: string; value: Record<string, unknown> } {
  const doc = new DOMParser({
    onError: (level, message) => {
      throw new Error(`xmldom ${level}: ${message}`);
    },
  }).parseFromString(xml, 'text/xml');
  const root = doc.documentElement!;
  return { root: root.nodeName, value: readXmlObject(root, schema) };
}

// ---------------------------------------------------------------- CSV

export function parseCsvBack(
  text: string,
  delimiter: string,
): { header: string[]; rows: Record<string, string>[] } {
  const records = parseCsv(text, { delimiter, relax_column_count: false }) as string[][];
  const [header, ...data] = records;
  return {
    header: header!,
    rows: data.map((r) => Object.fromEntries(header!.map((h, i) => [h, r[i]!]))),
  };
}

export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The value flattened to dotted keys, each cell as a CSV string. */
export function flattenCells(value: Record<string, unknown>, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) {
    if (v !== null && typeof v === 'object' && !Array.isArray(v))
      Object.assign(out, flattenCells(v as Record<string, unknown>, `${prefix}${key}.`));
    else out[`${prefix}${key}`] = csvCell(v);
  }
  return out;
}

// ---------------------------------------------------------------- text

export interface ReadHeading {
  level: number;
  text: string;
  /** The text under the heading, null when empty. */
  value: string | null;
}

/** A minimal Markdown reader: ATX headings and the lines under each, one backslash before `#` removed. */
export function parseTextBack(markdown: string): ReadHeading[] {
  const headings: Array<{ level: number; text: string; lines: string[] }> = [];
  for (const line of markdown.split('\n')) {
    const match = /^(#{1,6}) (.*)$/.exec(line);
    if (match) headings.push({ level: match[1]!.length, text: match[2]!, lines: [] });
    else headings.at(-1)?.lines.push(line.replace(/^(\s*)\\(\\*#)/, '$1$2'));
  }
  return headings.map(({ level, text, lines }) => {
    while (lines.length > 0 && lines.at(-1) === '') lines.pop();
    const value = lines.join('\n');
    return { level, text, value: value === '' ? null : value };
  });
}
