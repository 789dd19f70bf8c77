/**
 * `optimize` never writes a file larger than its input (issue 13): when the requested
 * encoding comes out bigger (a flat PNG re-encoded as JPEG, a JPEG photo as PNG), the
 * input's own bytes are written under its own extension, and the result says so
 * (`kept_original`, `larger_because`; a note under the table row). A `--crop` is another
 * image and is written as asked. Real CLI, real corpus images.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { OptimizeFileResult } from '../../src/runs/optimize.js';
import { runCli } from '../support/cli.js';
import { corpus, tempDir } from '../support/images.js';

interface Summary {
  files: OptimizeFileResult[];
  total: { before_bytes: number; after_bytes: number; ok: number; kept_original: number; errors: number };
}

// resume5.png: a flat document PNG, 95 kB; as a JPEG at quality 85 it is about 2.7× larger.
const FLAT_PNG = corpus('resume5.png');
// inventory2.jpg: a 2336×4160 photo; resized to 2048 it shrinks as a JPEG, and grows as a PNG.
const PHOTO = corpus('inventory2.jpg');

async function optimize(inputs: string[], extra: string[] = []) {
  const out = await tempDir('visionpipe-never-larger-');
  const result = await runCli(['optimize', ...inputs, '--out-dir', out, '--json', ...extra]);
  expect(result.code, result.stderr).toBe(0);
  return { out, summary: JSON.parse(result.stdout) as Summary };
}

describe('optimize never writes a file larger than its input', () => {
  it('keeps a PNG whose JPEG would be larger: its own bytes, its own extension, and why', async () => {
    const { summary } = await optimize([FLAT_PNG, PHOTO]);
    const [png, photo] = [FLAT_PNG, PHOTO].map((input) => summary.files.find((f) => f.input === input)!);
    expect(png).toMatchObject({ status: 'ok', kept_original: true, after: { format: 'png' } });
    expect(path.extname(png!.output!)).toBe('.png');
    expect(await readFile(png!.output!)).toEqual(await readFile(FLAT_PNG));
    expect(png!.larger_because).toMatch(/^jpeg quality \d+ is .*% larger than the .* png input/);
    // The photo did shrink: written as asked, no note.
    expect(photo).toMatchObject({ status: 'ok', after: { format: 'jpeg', width: 1150, height: 2048 } });
    expect(photo!.kept_original).toBeUndefined();
    expect(summary.total).toMatchObject({ ok: 2, kept_original: 1 });
    for (const file of summary.files) {
      expect(file.after!.bytes).toBeLessThanOrEqual(file.before!.bytes);
      expect((await stat(file.output!)).size).toBe(file.after!.bytes);
    }
  });

  it('keeps a JPEG photo whose resized PNG would be larger, and says it was not resized', async () => {
    const { summary } = await optimize([PHOTO], ['--format', 'png']);
    const [photo] = summary.files;
    expect(photo).toMatchObject({
      kept_original: true,
      after: { format: 'jpeg', width: 2336, height: 4160, bytes: photo!.before!.bytes },
    });
    expect(photo!.larger_because).toMatch(/^png at 1150×2048 is .* larger .*kept as it is \(2336×4160\)/);
  });

  it('says so in the table, under the row and in the total', async () => {
    const out = await tempDir('visionpipe-never-larger-');
    const result = await runCli(['optimize', FLAT_PNG, '--out-dir', out, '--no-progress']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/resume5\.png → .*resume5\.png\n {6}kept the original: jpeg quality/);
    expect(result.stdout).toContain('1 ok (1 kept as given: re-encoding was larger)');
  });

  it('writes a --crop as asked: a region is another image', async () => {
    const { summary } = await optimize([FLAT_PNG], ['--crop', '0,0,100%,90%']);
    expect(summary.files[0]).toMatchObject({ status: 'ok', after: { format: 'jpeg' } });
    expect(summary.files[0]!.kept_original).toBeUndefined();
    expect(summary.files[0]!.after!.bytes).toBeGreaterThan(summary.files[0]!.before!.bytes);
  });
});
