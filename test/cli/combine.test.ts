/**
 * Outputs people can use directly: --format-dir keeps the inputs' folders, --combine
 * writes one file for the whole run in CSV, JSON, YAML or XML. Real CLI processes, the
 * local engine, real receipts rendered as images.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { XMLParser } from 'fast-xml-parser';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ROOT, runCli } from '../support/cli.js';
import { tempDir, textImage } from '../support/images.js';

const RECEIPT = path.join(ROOT, 'samples/patterns/receipt.yaml');
let work: string;

beforeAll(async () => {
  work = await tempDir('visionpipe-combine-');
  for (const [folder, merchant, total] of [
    ['north', 'HARBOUR CAFE', '$3.50'],
    ['south', 'CORNER DELI', '$7.25'],
  ] as const) {
    await mkdir(path.join(work, folder), { recursive: true });
    await writeFile(
      path.join(work, folder, 'r.png'),
      await textImage([{ text: merchant, bold: true, size: 40 }, '2024-05-02', `TOTAL        ${total}`], {
        width: 900,
      }),
    );
  }
});

describe('outputs people can use directly', () => {
  it('--format-dir keeps the folders of two same-named inputs; --combine .csv has an input column and a row per image', async () => {
    const result = await runCli(
      ['run', 'north/r.png', 'south/r.png', '-p', RECEIPT, '--format-dir', 'out', '--combine', 'all.csv'],
      { cwd: work },
    );
    expect(result.code, result.stderr).toBe(0);
    // .visionpipe-outputs.jsonl: the list of files visionpipe wrote there (never overwrite others').
    expect((await readdir(path.join(work, 'out'), { recursive: true })).sort()).toEqual([
      '.visionpipe-outputs.jsonl',
      'north',
      'north/r.csv',
      'south',
      'south/r.csv',
    ]);
    const rows = parseCsv(await readFile(path.join(work, 'all.csv'), 'utf8'), { columns: true }) as Array<
      Record<string, string>
    >;
    expect(Object.keys(rows[0] ?? {})).toEqual([
      'input',
      'merchant_name',
      'date',
      'total_amount',
      'category',
    ]);
    expect(rows.map((r) => [r.input, r.merchant_name]).sort()).toEqual([
      ['north/r.png', 'HARBOUR CAFE'],
      ['south/r.png', 'CORNER DELI'],
    ]);
    expect(result.stdout).toContain('combined 2 outputs in all.csv');
  });

  it('--combine .json, .yaml and .xml write one document each (resumed records included)', async () => {
    const args = ['run', 'north', 'south', '-p', RECEIPT];
    const json = await runCli([...args, '--combine', 'all.json'], { cwd: work });
    expect(json.code, json.stderr).toBe(0);
    const array = JSON.parse(await readFile(path.join(work, 'all.json'), 'utf8')) as Array<{
      input: string;
      pattern: string;
      output: { merchant_name: string };
    }>;
    expect(array.map((a) => a.output.merchant_name).sort()).toEqual(['CORNER DELI', 'HARBOUR CAFE']);
    expect(array[0]?.pattern).toBe('Receipt');
    // Same command again resumes; the combined file still holds the whole run.
    await runCli([...args, '--combine', 'all.yaml'], { cwd: work });
    const yamlText = await readFile(path.join(work, 'all.yaml'), 'utf8');
    const list = parseYaml(yamlText) as Array<{ input: string }>;
    expect(list).toHaveLength(2);
    // A date string is quoted: a YAML 1.1 reader (PyYAML) would otherwise make it a date.
    expect(yamlText).toMatch(/: "2024-05-02"$/m);
    expect(yamlText).not.toMatch(/: 2024-05-02$/m);
    await runCli([...args, '--combine', 'all.xml'], { cwd: work });
    const xml = await readFile(path.join(work, 'all.xml'), 'utf8');
    const doc = new XMLParser({ ignoreAttributes: false }).parse(xml) as {
      results: Record<string, Array<Record<string, unknown>>>;
    };
    const [root] = Object.keys(doc.results);
    expect(doc.results[root!]).toHaveLength(2);
    expect(xml.match(/<\?xml/g)).toHaveLength(1);
    const bad = await runCli([...args, '--combine', 'all.txt'], { cwd: work });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--combine all.txt');
  });
});
