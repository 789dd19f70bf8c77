/**
 * Inputs refused before any provider call (issue 13): a text file under an image name, a
 * JPEG cut short, a missing file. Their records say `cache: null` (no lookup worth
 * counting: neither a hit nor a miss) and carry `input_bytes`; the records, the summary
 * (text and `--json`) and `cache stats` count the same hits and misses, in a first run
 * and in a rerun answered from the cache. Real CLI, loopback OpenAI-compatible server,
 * real corpus images by path.
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/pipeline/record.js';
import type { Summary } from '../../src/runs/summary.js';
import { readRecords, runCli, runOpenAiCompatible } from '../support/cli.js';
import { corpus, tempDir } from '../support/images.js';
import {
  type CompatibleServer,
  startCompatibleServer,
  writeSimplePattern,
} from '../support/openai-compatible.js';

let server: CompatibleServer;
let work: string;
let inputs: { images: string[]; text: string; cut: string; pdf: string; missing: string };

beforeAll(async () => {
  server = await startCompatibleServer('{"vendor_name": "Shop", "total": 3}');
  work = await tempDir('visionpipe-refused-cache-');
  const text = path.join(work, 'notes.jpg');
  await writeFile(text, 'meeting notes, not a picture\n'.repeat(10));
  // A real JPEG cut after its first 3000 bytes: it sniffs as a JPEG and does not decode.
  const cut = path.join(work, 'cut.jpg');
  await writeFile(cut, (await readFile(corpus('invoice3.jpg'))).subarray(0, 3000));
  // A PDF header over bytes PDFium cannot open: refused whole by the document reader.
  const pdf = path.join(work, 'broken.pdf');
  await writeFile(pdf, Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(2000, 0x41)]));
  inputs = {
    images: [corpus('invoice4.jpg'), corpus('car-plate2.jpg')],
    text,
    cut,
    pdf,
    missing: path.join(work, 'nothere.jpg'),
  };
});

afterAll(async () => {
  await server?.close();
});

interface Lookups {
  lookups: Record<string, { hits: number; misses: number }>;
}

async function run(out: string): Promise<{ records: RunRecord[]; summary: Summary; text: string }> {
  const args = [...inputs.images, inputs.text, inputs.cut, inputs.pdf, inputs.missing];
  const common = {
    pattern: await writeSimplePattern(work),
    baseUrl: server.baseUrl,
    cwd: work,
  };
  const json = await runOpenAiCompatible(args, {
    ...common,
    out: path.join(work, `${out}.jsonl`),
    extra: ['--no-progress', '--json'],
  });
  const summary = JSON.parse(json.stdout.trim().split('\n').at(-1) ?? '') as Summary;
  const text = await runOpenAiCompatible(args, {
    ...common,
    out: path.join(work, `${out}-text.jsonl`),
    extra: ['--no-progress'],
  });
  return { records: await readRecords(path.join(work, `${out}.jsonl`)), summary, text: text.stdout };
}

const count = (records: RunRecord[], cache: RunRecord['cache']) =>
  records.filter((r) => r.cache === cache).length;

describe('inputs refused before any call', () => {
  it('say cache null and their size; records, summary and cache stats agree', async () => {
    const first = await run('first');
    const byInput = new Map(first.records.map((r) => [r.input, r]));
    for (const [file, code] of [
      [inputs.text, 'UNSUPPORTED_FORMAT'],
      [inputs.cut, 'IMAGE_DECODE'],
      [inputs.pdf, 'DOCUMENT_DAMAGED'],
    ] as const) {
      const record = byInput.get(file);
      expect(record, file).toMatchObject({ status: 'error', cache: null, error: { code } });
      expect(record?.input_bytes).toBe((await stat(file)).size);
    }
    expect(byInput.get(inputs.missing)).toMatchObject({
      cache: null,
      input_bytes: null,
      error: { code: 'NOT_FOUND' },
    });
    for (const image of inputs.images) expect(byInput.get(image)?.cache).toBe('miss');
    expect(byInput.get(inputs.images[0] as string)).not.toHaveProperty('input_bytes');

    // The first --json run missed on the two images; the text run after it hit on them.
    expect(first.summary.cache).toMatchObject({ hits: 0, misses: 2 });
    expect(first.summary.refused).toBe(3);
    expect(first.text).toContain('cache 2 hits · 0 misses');
    const stats = JSON.parse((await runCli(['cache', 'stats', '--json'], { cwd: work })).stdout) as Lookups;
    expect(stats.lookups.result).toMatchObject({ hits: 2, misses: 2 });

    // A rerun: the refused inputs stay out of the counts (through the stat memo too).
    const again = await run('again');
    expect(count(again.records, 'hit')).toBe(2);
    expect(count(again.records, 'miss')).toBe(0);
    expect(count(again.records, null)).toBe(4);
    expect(again.summary.cache).toMatchObject({ hits: 2, misses: 0 });
    const after = JSON.parse((await runCli(['cache', 'stats', '--json'], { cwd: work })).stdout) as Lookups;
    expect(after.lookups.result).toMatchObject({ hits: 6, misses: 2 });
  }, 120_000);
});
