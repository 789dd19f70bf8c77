/**
 * What visionpipe renders for people to open (issue 12, trial): `--format-dir` files and
 * `--combine` documents are outputs like results.jsonl, so a key echoed by the far side
 * must be hidden there too, and a CSV cell must never split a row in a reader that ends
 * rows at a lone carriage return (Python's csv, spreadsheets).
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePattern, render } from '../../src/patterns/index.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/images.js';
import { type CompatibleServer, startCompatibleServer } from '../support/openai-compatible.js';

/** An Azure-style key: no shape, hidden only because it is known. */
const KEY = '7c2e9a4b1d3f5e6a8b0c2d4e6f8a0b1c';

describe('rendered outputs never carry an echoed key', () => {
  let gateway: CompatibleServer;
  beforeAll(async () => {
    gateway = await startCompatibleServer(() => JSON.stringify({ vendor_name: `ACME ${KEY}`, total: 12.5 }));
  });
  afterAll(async () => {
    await gateway.close();
  });

  it.each(['json', 'yaml', 'xml', 'csv', 'text'])('--format-dir and --combine in %s', async (format) => {
    const dir = await tempDir();
    const image = path.join(dir, 'scan.png');
    await sharp({ create: { width: 64, height: 48, channels: 3, background: '#abc' } })
      .png()
      .toFile(image);
    const pattern = path.join(dir, 'simple.yaml');
    await writeFile(
      pattern,
      `name: Simple\nformat: ${format}\njson_schema:\n  vendor_name: string\n  total: number\ninstructions: Extract.\n`,
    );
    const combine = path.join(dir, `all.${format === 'text' ? 'json' : format}`);
    const result = await runCli(
      [
        'run',
        image,
        '-p',
        pattern,
        '--provider',
        'openai',
        '--base-url',
        gateway.baseUrl,
        '-o',
        path.join(dir, 'results.jsonl'),
        '--state-dir',
        path.join(dir, 'state'),
        '--format-dir',
        path.join(dir, 'out'),
        '--combine',
        combine,
        '--max-attempts',
        '1',
        '--no-progress',
      ],
      { env: { OPENAI_API_KEY: KEY }, cwd: dir },
    );
    expect(result.code, result.stderr).toBe(0);
    const rendered = await readdir(path.join(dir, 'out'));
    const files = rendered.filter((name) => !name.startsWith('.')).map((name) => path.join(dir, 'out', name));
    expect(files).toHaveLength(1);
    for (const file of [...files, combine]) {
      const text = await readFile(file, 'utf8');
      expect(text).toContain('ACME');
      expect(text, file).not.toContain(KEY);
    }
  });
});

describe('CSV cells with carriage returns and line feeds stay in their row', () => {
  const pattern = parsePattern(
    {
      name: 'Row',
      format: 'csv',
      instructions: 'x',
      json_schema: { type: 'object', properties: { a: { type: 'string' }, b: { type: 'string' } } },
    },
    'row.json',
  );

  it.each(['\r=1+1', 'x\ry', '\r', 'a\r\nb', '\n=1+1'])('%j is one quoted cell', (text) => {
    const csv = render(pattern, { a: text, b: 'after' });
    // A reader that ends rows at CR, LF or CRLF (csv-parse, like Python's csv) sees 2 rows.
    const rows = parseCsv(csv, {
      relax_column_count: true,
      record_delimiter: ['\r\n', '\n', '\r'],
    }) as string[][];
    expect(rows).toHaveLength(2);
    expect(rows[1]?.[1]).toBe('after');
    expect(rows[1]?.[0]?.replace(/^'/, '')).toBe(text);
  });
});
