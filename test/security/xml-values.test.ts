/**
 * XML values round-trip exactly (issue 12, third trial): `--combine out.xml` indented every
 * line of each document under `<results>`, so a value holding newlines gained two spaces per
 * line. A value with newlines, leading and trailing spaces, tabs and a carriage return now
 * reads back identical through two common parsers (fast-xml-parser without trimming, and the
 * DOM parser of @xmldom/xmldom), both per image and combined.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { DOMParser } from '@xmldom/xmldom';
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { loadPattern, renderAs } from '../../src/patterns/index.js';
import { CombinedWriter } from '../../src/runs/combine.js';
import { tempDir } from '../support/images.js';
import { writeSimplePattern } from '../support/openai-compatible.js';

const VALUE = 'ACME Ltd\n  Unit 4\n\tDock Road  \r\n   ';

/** The text of every `vendor_name` element, read by the DOM parser and by fast-xml-parser. */
function readBack(xml: string): { dom: string[]; fast: unknown } {
  const document = new DOMParser().parseFromString(xml, 'text/xml');
  const elements = document.getElementsByTagName('vendor_name');
  const dom = Array.from({ length: elements.length }, (_, i) => elements.item(i)?.textContent ?? '');
  const fast = new XMLParser({ trimValues: false, ignoreAttributes: false, htmlEntities: true }).parse(xml);
  return { dom, fast };
}

describe('XML values with newlines and leading spaces', () => {
  it('per image and in --combine, every value reads back exactly', async () => {
    const dir = await tempDir();
    const pattern = await loadPattern(await writeSimplePattern(dir));
    const output = { vendor_name: VALUE, total: 12.5 };

    const single = readBack(renderAs('xml', pattern, output));
    expect(single.dom).toEqual([VALUE]);
    expect((single.fast as { Simple: { vendor_name: string } }).Simple.vendor_name).toBe(VALUE);

    const file = path.join(dir, 'all.xml');
    const writer = await CombinedWriter.open(file, () => {});
    await writer.add('a.png', pattern, output);
    await writer.add('b.png', pattern, output);
    await writer.close();
    const combined = readBack(await readFile(file, 'utf8'));
    expect(combined.dom).toEqual([VALUE, VALUE]);
    const results = (
      combined.fast as { results: { Simple: Array<{ vendor_name: string; '@_input': string }> } }
    ).results.Simple;
    expect(results.map((item) => [item['@_input'], item.vendor_name])).toEqual([
      ['a.png', VALUE],
      ['b.png', VALUE],
    ]);
  });
});
