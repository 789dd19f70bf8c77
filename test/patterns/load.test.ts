import { chmod } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { listProperty, loadPattern, parsePattern } from '../../src/patterns/index.js';
import { caught, SAMPLE_FILES, samplePath, tempPatterns } from './helpers/files.js';

const files = tempPatterns();

describe('loading the sample patterns', () => {
  it.each(SAMPLE_FILES)('%s loads, with a strict object schema and a fingerprint', async (file) => {
    const pattern = await loadPattern(samplePath(file));
    expect(pattern.origin).toBe(samplePath(file));
    expect(pattern.version).toBe('1');
    expect(pattern.instructions.length).toBeGreaterThan(200);
    expect(pattern.schema.type).toBe('object');
    expect(pattern.schema.additionalProperties).toBe(false);
    expect(pattern.schema.required).toEqual(Object.keys(pattern.schema.properties));
    expect(pattern.fingerprint).toMatch(/^[0-9a-f]{64}$/);
  });

  it('reads each sample in the form its format uses', async () => {
    const invoice = await loadPattern(samplePath('invoice.json'));
    expect(invoice.format).toBe('json');
    expect(Object.keys(invoice.schema.properties)).toEqual([
      'vendor_name',
      'invoice_number',
      'invoice_date',
      'due_date',
      'currency',
      'subtotal',
      'tax',
      'total',
      'line_items',
    ]);
    expect(listProperty(invoice.schema)).toBe('line_items');

    const receipt = await loadPattern(samplePath('receipt.yaml'));
    expect(receipt.format).toBe('csv');
    expect(receipt.hints).toEqual({
      csvDelimiter: ',',
      csvColumns: ['merchant_name', 'date', 'total_amount', 'category'],
    });

    const parking = await loadPattern(samplePath('parking.yaml'));
    expect(parking.hints.xmlRoot).toBe('ParkingEvent');
    expect(parking.schema.properties.location?.properties).toHaveProperty('spot');
    expect(parking.schema.properties.permit_visible?.type).toEqual(['boolean', 'null']);

    const report = await loadPattern(samplePath('field-service.yaml'));
    expect(report.format).toBe('yaml');
    expect(listProperty(report.schema)).toBe('issues');

    const resume = await loadPattern(samplePath('resume.yaml'));
    expect(resume.format).toBe('text');
    expect(resume.hints.textHeadings?.filter((h) => h.key).map((h) => h.key)).toContain(
      'years_of_experience',
    );

    const classification = await loadPattern(samplePath('document-classification.json'));
    expect(classification.schema.properties.page_count?.type).toEqual(['integer', 'null']);
    expect(classification.schema.properties.document_type?.description).toContain('invoice|receipt');
  });
});

describe('pattern file errors', () => {
  const base = 'name: Test\ninstructions: Extract the fields.\n';

  /** Loads `text` from a real file and returns the error, which must be INVALID_PATTERN naming the file. */
  async function invalid(name: string, text: string): Promise<string> {
    const file = await files.write(name, text);
    const error = await caught(() => loadPattern(file));
    expect(error.code).toBe('INVALID_PATTERN');
    expect(error.retryable).toBe(false);
    expect(error.input).toBe(file);
    expect(error.message.startsWith(`${file}: `)).toBe(true);
    return error.message.slice(file.length + 2);
  }

  it('names a missing name, instructions or format', async () => {
    expect(await invalid('no-name.yaml', 'instructions: x\nformat: json\njson_schema: {a: string}\n')).toBe(
      '"name" is required',
    );
    expect(await invalid('no-instructions.yaml', 'name: x\nformat: json\njson_schema: {a: string}\n')).toBe(
      '"instructions" is required',
    );
    expect(await invalid('no-format.yaml', `${base}json_schema: {a: string}\n`)).toBe('"format" is required');
    expect(
      await invalid('blank-name.yaml', `name: "  "\ninstructions: x\nformat: json\njson_schema: {a: 1}\n`),
    ).toBe('"name" must not be empty');
    expect(await invalid('number-name.json', '{"name": 42, "instructions": "x", "format": "json"}')).toBe(
      '"name" must be a string (got 42)',
    );
  });

  it('names a bad format and its value', async () => {
    expect(await invalid('pdf.yaml', `${base}format: pdf\njson_schema: {a: string}\n`)).toBe(
      '"format" must be one of json, yaml, xml, csv, text (got "pdf")',
    );
    expect(await invalid('delim.yaml', `${base}format: csv\ncsv_schema: a,b\ncsv_delimiter: tab\n`)).toBe(
      '"csv_delimiter" must be one of comma, semicolon (got "tab")',
    );
    expect(await invalid('version.yaml', `${base}format: json\nversion: [1]\njson_schema: {a: 1}\n`)).toMatch(
      /^"version" must be a non-empty string or a number/,
    );
    expect(await invalid('json-list.yaml', `${base}format: json\njson_schema: [1, 2]\n`)).toMatch(
      /^"json_schema" must be an object/,
    );
  });

  it('names the schema field a format needs', async () => {
    expect(await invalid('no-csv.yaml', `${base}format: csv\n`)).toBe(
      'format is csv but no csv_schema or json_schema is given',
    );
    expect(await invalid('no-json.yaml', `${base}format: json\nyaml_schema: ""\nxml_schema: null\n`)).toBe(
      'format is json but no json_schema is given',
    );
  });

  it('reports malformed files and schemas with the field and the parser message', async () => {
    expect(await invalid('bad.json', '{"name": "x",')).toMatch(/^not valid JSON: /);
    expect(await invalid('bad.yaml', 'name: [unclosed\n')).toMatch(/^not valid YAML: .*line 2/);
    expect(await invalid('list.yaml', '- a\n- b\n')).toMatch(
      /^a pattern must be an object .* \(got a list\)$/,
    );
    expect(await invalid('empty.yaml', '')).toMatch(/^a pattern must be an object .* \(got null\)$/);
    expect(await invalid('bad-yaml-schema.yaml', `${base}format: yaml\nyaml_schema: "a: [1, 2"\n`)).toMatch(
      /^yaml_schema is not valid YAML: /,
    );
    expect(await invalid('scalar-yaml-schema.yaml', `${base}format: yaml\nyaml_schema: "just text"\n`)).toBe(
      'yaml_schema must describe an object with named fields (got "just text")',
    );
    expect(await invalid('bad-xml.yaml', `${base}format: xml\nxml_schema: "<a><b></a>"\n`)).toMatch(
      /^xml_schema is not well-formed XML: Expected closing tag 'b'.*\(line 1, column \d+\)$/,
    );
    expect(await invalid('two-roots.yaml', `${base}format: xml\nxml_schema: "<a>1</a><b>2</b>"\n`)).toMatch(
      /^xml_schema (is not well-formed XML: Multiple possible root nodes|must have exactly one root element)/,
    );
    expect(await invalid('text-root.yaml', `${base}format: xml\nxml_schema: "<a>1</a>"\n`)).toBe(
      'xml_schema root element <a> has no child elements to become fields',
    );
    expect(await invalid('bad-json-text.yaml', `${base}format: json\njson_schema: "{not json"\n`)).toMatch(
      /^json_schema is not valid JSON: /,
    );
  });

  it('refuses malformed CSV headers, empty and duplicate columns', async () => {
    const csv = (header: string, extra = '') =>
      `${base}format: csv\ncsv_schema: ${JSON.stringify(header)}\n${extra}`;
    expect(await invalid('dup.yaml', csv('date, total ,date'))).toBe(
      'csv_schema has a duplicate column "date" (columns 1 and 3)',
    );
    expect(await invalid('empty-col.yaml', csv('a,,b'))).toBe('csv_schema column 2 has an empty name');
    expect(await invalid('trailing.yaml', csv('a,b,'))).toBe('csv_schema column 3 has an empty name');
    expect(await invalid('quote.yaml', csv('a,"b,c'))).toBe(
      'csv_schema has an unterminated quote in column 2',
    );
    expect(await invalid('stray.yaml', csv('a,b"c'))).toBe('csv_schema has a stray quote in column 2');
    expect(await invalid('rows.yaml', csv('a,b\n1,2'))).toBe(
      'csv_schema must be one header row (found more after column 2)',
    );
    expect(await invalid('semi.yaml', csv('a;b;c'))).toBe(
      'csv_schema has one column "a;b;c": set csv_delimiter to semicolon if ";" separates the columns',
    );
  });

  it('refuses empty headings and text without headings', async () => {
    const text = (markdown: string) =>
      `${base}format: text\nplain_text_schema: ${JSON.stringify(markdown)}\n`;
    expect(await invalid('empty-heading.yaml', text('# Person\n## Name\n##\n## Email'))).toBe(
      'plain_text_schema line 3: heading "##" has no text',
    );
    expect(await invalid('closing-only.yaml', text('# A\n## ##'))).toBe(
      'plain_text_schema line 2: heading "## ##" has no text',
    );
    expect(await invalid('no-headings.yaml', text('Name:\nEmail:'))).toMatch(
      /^plain_text_schema has no Markdown headings/,
    );
  });

  it('refuses JSON Schemas that cannot be made strict', async () => {
    const schema = (json: unknown) => `${base}format: json\njson_schema: ${JSON.stringify(json)}\n`;
    expect(
      await invalid(
        'array-root.yaml',
        schema({ type: 'array', items: { type: 'object', properties: { a: {} } } }),
      ),
    ).toBe('json_schema: the root must be an object schema (got type "array")');
    expect(
      await invalid(
        'recursive.yaml',
        schema({
          type: 'object',
          properties: { tree: { $ref: '#/definitions/node' } },
          definitions: {
            node: {
              type: 'object',
              properties: {
                name: { type: 'string' },
                children: { type: 'array', items: { $ref: '#/definitions/node' } },
              },
            },
          },
        }),
      ),
    ).toMatch(
      /^json_schema at \/properties\/tree\/properties\/children\/items: recursive \$ref "#\/definitions\/node" is not supported/,
    );
    expect(
      await invalid('root-ref.yaml', schema({ type: 'object', properties: { self: { $ref: '#' } } })),
    ).toMatch(/^json_schema at \/properties\/self: recursive \$ref "#"/);
    expect(
      await invalid(
        'remote-ref.yaml',
        schema({ type: 'object', properties: { a: { $ref: 'https://example.com/a.json' } } }),
      ),
    ).toBe(
      'json_schema at /properties/a: only local $refs such as "#/$defs/Item" are supported (got "https://example.com/a.json")',
    );
    expect(
      await invalid(
        'missing-ref.yaml',
        schema({ type: 'object', properties: { a: { $ref: '#/$defs/nope' } } }),
      ),
    ).toBe('json_schema at /properties/a: $ref "#/$defs/nope" points to nothing');
    expect(
      await invalid('free-object.yaml', schema({ type: 'object', properties: { meta: { type: 'object' } } })),
    ).toMatch(/^json_schema at \/properties\/meta: an object needs "properties"/);
    expect(
      await invalid('no-items.yaml', schema({ type: 'object', properties: { tags: { type: 'array' } } })),
    ).toMatch(/^json_schema at \/properties\/tags: an array needs "items"/);
    expect(
      await invalid('no-type.yaml', schema({ type: 'object', properties: { a: { description: 'x' } } })),
    ).toBe('json_schema at /properties/a: has no "type" (give one: strict schemas cannot accept any value)');
    expect(
      await invalid('bad-type.yaml', schema({ type: 'object', properties: { a: { type: 'text' } } })),
    ).toMatch(/^json_schema at \/properties\/a: "type" must be one of object, array, .* \(got "text"\)$/);
    expect(
      await invalid(
        'any-of.yaml',
        schema({
          type: 'object',
          properties: {
            a: { anyOf: [{ type: 'string' }, { type: 'object', properties: { b: { type: 'string' } } }] },
          },
        }),
      ),
    ).toMatch(/^json_schema at \/properties\/a: anyOf is only supported as "X or null"/);
    expect(await invalid('empty-example.yaml', `${base}format: json\njson_schema: {a: {}}\n`)).toMatch(
      /^json_schema at \/a: an empty object gives no fields/,
    );
  });

  it('refuses other extensions, and reports a missing file as NOT_FOUND', async () => {
    const txt = await files.write('pattern.txt', 'name: x');
    const error = await caught(() => loadPattern(txt));
    expect(error.code).toBe('INVALID_PATTERN');
    expect(error.message).toBe(`${txt}: a pattern file must be .json, .yaml or .yml (got ".txt")`);

    const missing = await caught(() => loadPattern('/nonexistent/pattern.yaml'));
    expect(missing.code).toBe('NOT_FOUND');
    expect(missing.message).toBe('/nonexistent/pattern.yaml: pattern file not found');
  });

  it.skipIf(process.getuid?.() === 0)('reports an unreadable file as READ_FAILED', async () => {
    const file = await files.write('locked.yaml', `${base}format: json\njson_schema: {a: 1}\n`);
    await chmod(file, 0o000);
    const error = await caught(() => loadPattern(file));
    expect(error.code).toBe('READ_FAILED');
  });
});

describe('pattern fields', () => {
  const source = { name: 'T', instructions: 'Extract.', format: 'json', json_schema: { a: 'string' } };

  it('ignores unknown top-level fields, as ImgGo exports carry them', () => {
    const pattern = parsePattern(
      { ...source, metadata: { owner: 'x' }, webhook_url: 'https://example.com/hook', id: 7 },
      'inline',
    );
    expect(pattern.schema.properties).toEqual({ a: { type: ['string', 'null'] } });
    expect(pattern).not.toHaveProperty('metadata');
  });

  it('defaults version to "1" and stores it as a string', () => {
    expect(parsePattern(source, 'inline').version).toBe('1');
    expect(parsePattern({ ...source, version: 3 }, 'inline').version).toBe('3');
    expect(parsePattern({ ...source, version: ' 2.1 ' }, 'inline').version).toBe('2.1');
  });

  it('trims name and instructions, forgives the case of format', () => {
    const pattern = parsePattern(
      { ...source, name: ' T ', instructions: '\nExtract.\n', format: 'JSON' },
      'x',
    );
    expect([pattern.name, pattern.instructions, pattern.format]).toEqual(['T', 'Extract.', 'json']);
  });

  it("uses the format's own schema, or another one when it is absent", () => {
    const both = parsePattern(
      { ...source, format: 'yaml', yaml_schema: 'b: 1', json_schema: { a: 'string' } },
      'inline',
    );
    expect(Object.keys(both.schema.properties)).toEqual(['b']);

    const csvFromJson = parsePattern(
      {
        ...source,
        format: 'csv',
        csv_delimiter: 'semicolon',
        json_schema: { store: 'string', items: [{ name: 'string', price: 'number' }] },
      },
      'inline',
    );
    expect(listProperty(csvFromJson.schema)).toBe('items');
    expect(csvFromJson.hints).toEqual({ csvDelimiter: ';' });

    const xmlFromText = parsePattern(
      { ...source, format: 'xml', json_schema: null, plain_text_schema: '# A' },
      'x',
    );
    expect(xmlFromText.hints.textHeadings).toEqual([{ level: 1, text: 'A', key: 'a' }]);
  });

  it('accepts json_schema as JSON text (as YAML files sometimes carry it)', () => {
    const pattern = parsePattern({ ...source, json_schema: '{"total": "number"}' }, 'inline');
    expect(pattern.schema.properties.total?.type).toEqual(['number', 'null']);
  });

  it('names the origin given to parsePattern', async () => {
    const error = await caught(() => parsePattern({ ...source, format: 'pdf' }, 'api:pattern/42'));
    expect(error.message).toBe(
      'api:pattern/42: "format" must be one of json, yaml, xml, csv, text (got "pdf")',
    );
  });
});
