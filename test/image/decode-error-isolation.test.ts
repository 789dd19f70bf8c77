/**
 * A decode error's message is a function of its input alone (issue 12, new-user trial):
 * libvips' error buffer is process-wide, so a truncated PNG decoded in a batch read
 * "VipsJpeg: premature end of JPEG image" (another input's line) and another "(Unknown
 * error)". Real CLI runs on truncated copies of the sample invoices, together and alone.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DAMAGED_DATA, DAMAGED_HEADER, decodeError } from '../../src/image/decode-error.js';
import { openAiFlags, ROOT, readRecords, runCli } from '../support/cli.js';
import { tempDir } from '../support/images.js';
import { writeSimplePattern } from '../support/openai-compatible.js';

const SAMPLES = path.join(ROOT, 'samples/images');

describe('decode error wording', () => {
  it('drops lines about other formats and reads the same whatever the buffer held', () => {
    const png = (message: string) => decodeError(new Error(message), 'a.png', 'png').message;
    expect(png('vipspng: libpng read error')).toBe(`a.png: cannot decode this png (${DAMAGED_DATA})`);
    expect(png('VipsJpeg: premature end of JPEG image')).toBe(png('vipspng: libpng read error'));
    expect(png('(Unknown error)')).toBe(png('vipspng: libpng read error'));
    expect(png('vipspng: libpng read error\nVipsJpeg: premature end of JPEG image')).toBe(
      png('vipspng: libpng read error'),
    );
    expect(png('Input file has corrupt header: VipsJpeg: premature end of JPEG image')).toBe(
      `a.png: cannot decode this png (${DAMAGED_HEADER})`,
    );
    expect(png('Input file has corrupt header:')).toBe(`a.png: cannot decode this png (${DAMAGED_HEADER})`);
    expect(decodeError(new Error('Input image exceeds pixel limit'), 'b.jpg', 'jpeg').code).toBe(
      'PIXEL_LIMIT',
    );
  });

  it('through the CLI: each broken input fails with the same message in a batch and alone', async () => {
    const dir = await tempDir('vp-decode-isolation-');
    const jpeg = await readFile(path.join(SAMPLES, 'invoice-003.jpg'));
    const png = await readFile(path.join(SAMPLES, 'invoice-001.png'));
    const inputs: Record<string, Buffer> = {
      'trunc10.jpg': jpeg.subarray(0, 600),
      'hdronly.png': png.subarray(0, 40),
      'trunc.png': png.subarray(0, Math.floor(png.length / 3)),
      'trunc.jpg': jpeg.subarray(0, Math.floor(jpeg.length / 3)),
    };
    for (const [name, bytes] of Object.entries(inputs)) await writeFile(path.join(dir, name), bytes);
    const pattern = await writeSimplePattern(dir);
    const messages = async (names: string[], out: string): Promise<Map<string, string>> => {
      const run = await runCli(
        [
          'run',
          ...names.map((name) => path.join(dir, name)),
          '-p',
          pattern,
          '-o',
          path.join(dir, out),
          '--state-dir',
          path.join(dir, `state-${out}`),
          ...openAiFlags('http://127.0.0.1:9/v1'),
          '--concurrency',
          '4',
          '--no-progress',
        ],
        { env: { OPENAI_API_KEY: 'sk-test-decode-isolation-0000' } },
      );
      expect(run.signal, run.stderr).toBeNull();
      const records = await readRecords(path.join(dir, out));
      return new Map(records.map((r) => [path.basename(r.input), r.error?.message ?? '(no error)']));
    };
    const names = Object.keys(inputs);
    const together = await messages(names, 'batch.jsonl');
    expect([...together.keys()].sort()).toEqual([...names].sort());
    for (const name of names) {
      const alone = await messages([name], `${name}.jsonl`);
      expect(together.get(name), name).toBe(alone.get(name));
      expect(alone.get(name), name).toMatch(/cannot decode this (png|jpeg) \(/);
    }
  }, 180_000);
});
