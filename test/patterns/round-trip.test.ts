/**
 * Each sample pattern, an output full of tricky values, rendered in every format and
 * read back by an independent parser. How each format is compared is documented in
 * helpers/parse-back.ts (JSON/YAML exactly; XML typed per the schema; CSV as strings;
 * text as the string under each heading).
 */
import * as jsYaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { listProperty, loadPattern, PATTERN_FORMATS, renderAs } from '../../src/patterns/index.js';
import type { SchemaNode } from '../../src/patterns/types.js';
import { SAMPLE_FILES, samplePath } from './helpers/files.js';
import {
  flattenCells,
  parseCsvBack,
  parseTextBack,
  parseXmlBack,
  type ReadHeading,
} from './helpers/parse-back.js';
import { trickyOutput } from './helpers/tricky.js';

function typesOf(node: SchemaNode): string[] {
  return Array.isArray(node.type) ? node.type : [node.type];
}

/** Keys of every object in `value`, depth first: renderers must follow schema order. */
function keyOrder(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(keyOrder);
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => [k, ...keyOrder(v)]);
}

function typedText(node: SchemaNode, text: string | null): unknown {
  if (text === null) return null;
  const types = typesOf(node);
  if (types.includes('number') || types.includes('integer')) return Number(text);
  if (types.includes('boolean')) return text === 'true';
  return text;
}

/** Reads headings derived from a schema back into a value (the inverse of the schema walk). */
function readDerived(node: SchemaNode, headings: ReadHeading[], level: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    const heading = headings.shift()!;
    expect(heading.level, key).toBe(level);
    const types = typesOf(child);
    if (types.includes('object') && child.properties) out[key] = readDerived(child, headings, level + 1);
    else if (types.includes('array') && child.items?.properties) {
      const items: unknown[] = [];
      while (headings[0]?.level === level + 1) {
        headings.shift();
        items.push(readDerived(child.items, headings, level + 2));
      }
      out[key] = items;
    } else out[key] = typedText(child, heading.value);
  }
  return out;
}

describe.each(SAMPLE_FILES)('%s round trips', (file) => {
  it.each(PATTERN_FORMATS)('as %s', async (format) => {
    const pattern = await loadPattern(samplePath(file));
    // Shuffled key order in: the renderers must restore schema order.
    const output = trickyOutput(pattern.schema);
    const shuffled = Object.fromEntries(Object.entries(output).reverse());
    const text = renderAs(format, pattern, shuffled);

    switch (format) {
      case 'json': {
        const back = JSON.parse(text);
        expect(back).toEqual(output);
        expect(keyOrder(back)).toEqual(keyOrder(output));
        break;
      }
      case 'yaml': {
        for (const schema of [jsYaml.CORE_SCHEMA, jsYaml.YAML11_SCHEMA]) {
          const back = jsYaml.load(text, { schema });
          expect(back).toEqual(output);
          expect(keyOrder(back)).toEqual(keyOrder(output));
        }
        break;
      }
      case 'xml': {
        const back = parseXmlBack(text, pattern.schema);
        expect(back.root).toBe(pattern.hints.xmlRoot ?? pattern.name.replace(/\s+/g, '_'));
        expect(back.value).toEqual(output);
        break;
      }
      case 'csv': {
        const { header, rows } = parseCsvBack(text, pattern.hints.csvDelimiter ?? ',');
        const list = listProperty(pattern.schema);
        const { [list ?? '']: items, ...root } = output;
        const expected = list
          ? (items as Record<string, unknown>[]).map((item) => ({
              ...flattenCells(root),
              ...flattenCells(item),
            }))
          : [flattenCells(output)];
        expect(header).toEqual(Object.keys(expected[0]!));
        expect(rows).toEqual(expected);
        break;
      }
      case 'text': {
        const headings = parseTextBack(text);
        const outline = pattern.hints.textHeadings;
        if (outline) {
          expect(headings.map(({ level, text }) => ({ level, text }))).toEqual(
            outline.map(({ level, text }) => ({ level, text })),
          );
          const values = Object.fromEntries(
            outline.flatMap((h, i) => (h.key ? [[h.key, headings[i]!.value]] : [])),
          );
          expect(values).toEqual(output);
        } else {
          expect(readDerived(pattern.schema, headings, 1)).toEqual(output);
          expect(headings).toEqual([]);
        }
        break;
      }
    }
  });
});
