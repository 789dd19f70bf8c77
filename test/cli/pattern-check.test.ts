import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../support/cli.js';
import { tempDir } from '../support/images.js';

const INVOICE = path.join(ROOT, 'samples/patterns/invoice.json');
const RECEIPT = path.join(ROOT, 'samples/patterns/receipt.yaml');

/** Writes a JSON pattern with this schema into a new temp folder; returns its path. */
async function jsonPattern(name: string, schema: Record<string, unknown>): Promise<string> {
  const file = path.join(await tempDir('visionpipe-pcheck-'), `${name.toLowerCase()}.json`);
  await writeFile(
    file,
    JSON.stringify({ name, format: 'json', instructions: 'Read it.', json_schema: schema }),
  );
  return file;
}

describe('visionpipe pattern check', () => {
  it('shows the normalised schema, what each provider receives and what cannot be enforced', async () => {
    const file = await jsonPattern('Plate', {
      type: 'object',
      properties: {
        plate: { type: 'string', minLength: 4, maxLength: 8, pattern: '^[A-Z0-9]+$' },
        country: { type: 'string', contentEncoding: 'base64' },
      },
      required: ['plate'],
    });
    const result = await runCli(['pattern', 'check', file]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`${file}: valid json pattern "Plate"`);
    expect(result.stdout).toContain('"additionalProperties": false');
    // OpenAI strict mode takes `pattern` but not string lengths: those go in words.
    expect(result.stdout).toMatch(
      /openai .*\n.*sent as words, not keywords \(still checked\): \/plate minLength, \/plate maxLength\n/,
    );
    expect(result.stdout).toContain('Cannot be enforced:');

    const json = await runCli(['pattern', 'check', file, '--json']);
    const report = JSON.parse(json.stdout) as {
      valid: boolean;
      required_fields: string[];
      providers: Record<string, { described: Array<{ path: string; rule: string }> }>;
      warnings: string[];
    };
    expect(report.valid).toBe(true);
    expect(report.required_fields).toEqual(['/plate']);
    expect(report.providers.openai!.described).toEqual([
      { path: '/plate', rule: 'minLength' },
      { path: '/plate', rule: 'maxLength' },
    ]);
    expect(report.providers.gemini!.described).not.toContainEqual({ path: '/plate', rule: 'minLength' });
    expect(report.warnings.join(' ')).toContain('contentEncoding');
  });

  it('lists the required objects and lists a plain null answer is read as not found for', async () => {
    const file = await jsonPattern('Order', {
      type: 'object',
      properties: {
        ship_to: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
        lines: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              sku: { type: 'string' },
              dims: { type: 'object', properties: { w: { type: 'number' } } },
            },
            required: ['sku', 'dims'],
          },
        },
        note: { type: 'object', properties: { text: { type: 'string' } } },
      },
      required: ['ship_to', 'lines'],
    });
    const json = JSON.parse((await runCli(['pattern', 'check', file, '--json'])).stdout) as {
      not_found_when_null: string[];
    };
    // `note` is optional, so normalisation makes it nullable: a null there is just null.
    expect(json.not_found_when_null).toEqual(['/ship_to', '/lines', '/lines/*', '/lines/*/dims']);
    const text = await runCli(['pattern', 'check', file]);
    expect(text.stdout).toContain(
      'read as not found when answered null (object: its fields null; list: []): /ship_to, /lines, /lines/*, /lines/*/dims',
    );
    // A pattern without such fields prints no such line.
    const flat = await jsonPattern('Flat', {
      type: 'object',
      properties: { a: { type: 'string' } },
      required: ['a'],
    });
    expect((await runCli(['pattern', 'check', flat])).stdout).not.toContain('read as not found');
  });

  it('an invalid pattern is one typed line naming the file and the place, exit 2', async () => {
    const bad = await jsonPattern('Bad', { type: 'object', properties: { total: { type: 'money' } } });
    const dir = path.dirname(bad);
    const result = await runCli(['pattern', 'check', bad]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`^error \\[INVALID_PATTERN\\]: ${bad}: .*total.*money`, 'm'));
    expect(result.stderr).not.toContain('    at ');
    const missing = await runCli(['pattern', 'check', path.join(dir, 'nothere.yaml')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^error \[NOT_FOUND\]: .*nothere\.yaml/m);
  });

  it('--sample tries the pattern on one image with the local engine; a failing sample exits 1', async () => {
    const ok = await runCli([
      'pattern',
      'check',
      RECEIPT,
      '--sample',
      path.join(ROOT, 'samples/images/receipt-002.png'),
    ]);
    expect(ok.stdout).toMatch(
      /Sample .*receipt-002\.png \(local engine\): ok\n {2}output: \{"merchant_name"/,
    );
    expect(ok.code).toBe(0);
    const dir = await tempDir('visionpipe-pcheck-');
    const text = path.join(dir, 'notes.png');
    await writeFile(text, 'not an image\n');
    const failed = await runCli(['pattern', 'check', INVOICE, '--sample', text]);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/: error\n {2}error \[UNSUPPORTED_FORMAT\]/);
    const missing = await runCli(['pattern', 'check', INVOICE, '--sample', path.join(dir, 'nothere.png')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^error \[NOT_FOUND\]: --sample/m);
  }, 120_000);

  it('--help documents exit codes with examples', async () => {
    const help = await runCli(['pattern', 'check', '--help']);
    expect(help.stdout).toContain('Exit codes: 0 valid');
    expect(help.stdout).toContain('$ visionpipe pattern check samples/patterns/invoice.json');
    const group = await runCli(['pattern', '--help']);
    expect(group.stdout).toContain('Examples:');
  });
});
