/**
 * `optimize` drops no frame or page in silence (issue 11 §4, trial): an animated GIF or
 * WebP is written as its first frame, and the result says so (`frames`, `frame`, `warning`
 * in --json; a `warning:` line on stderr naming the file and the frame count; the table
 * row); a multi-page TIFF is written page by page, each row naming its page. Real files
 * made with sharp, the real CLI.
 */
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { multiPageTiff } from '../support/documents.js';
import { tempDir } from '../support/images.js';

interface FileResult {
  input: string;
  output: string | null;
  status: 'ok' | 'error';
  frames?: number;
  frame?: number;
  warning?: string;
  page?: number;
  pages?: number;
}

let dir: string;
let frames: Buffer[];

beforeAll(async () => {
  dir = await tempDir('visionpipe-optimize-frames-');
  frames = await Promise.all(
    ['#ff0000', '#0000ff', '#00ff00'].map((background) =>
      sharp({ create: { width: 96, height: 64, channels: 3, background } })
        .png()
        .toBuffer(),
    ),
  );
  for (const format of ['gif', 'webp'] as const)
    await writeFile(
      path.join(dir, `sale.${format}`),
      await sharp(frames, { join: { animated: true } })
        .toFormat(format)
        .toBuffer(),
    );
  await writeFile(path.join(dir, 'still.png'), frames[0]!);
  await writeFile(path.join(dir, 'scan.tiff'), await multiPageTiff(frames.slice(0, 2)));
});

async function optimize(input: string, json: boolean) {
  const out = await tempDir('visionpipe-optimize-frames-out-');
  const result = await runCli(
    ['optimize', path.join(dir, input), '--out-dir', out, '--no-progress', ...(json ? ['--json'] : [])],
    { cwd: dir },
  );
  expect(result.code, result.stderr).toBe(0);
  return { ...result, out };
}

describe('optimize on animated images', () => {
  it.each(['gif', 'webp'])(
    'an animated %s: frame 1 of 3 written, said in --json and on stderr',
    async (format) => {
      const { stdout, stderr } = await optimize(`sale.${format}`, true);
      const [file] = (JSON.parse(stdout) as { files: FileResult[] }).files;
      expect(file).toMatchObject({ status: 'ok', frames: 3, frame: 1 });
      expect(file!.warning).toContain(`sale.${format}: frame 1 of 3 written`);
      expect(stderr).toContain(`warning: ${file!.warning}`);
    },
  );

  it('the table row says which frame, and stderr warns', async () => {
    const { stdout, stderr } = await optimize('sale.gif', false);
    expect(stdout).toMatch(/sale\.gif → .*\(frame 1 of 3\)/);
    expect(stderr).toMatch(/warning: .*sale\.gif: frame 1 of 3 written; the other 2 frames were not/);
  });

  it('a still image has no frame fields and no warning', async () => {
    const { stdout, stderr } = await optimize('still.png', true);
    const [file] = (JSON.parse(stdout) as { files: FileResult[] }).files;
    expect(file).not.toHaveProperty('frames');
    expect(file).not.toHaveProperty('warning');
    expect(stderr).not.toContain('warning:');
  });
});

describe('optimize on a multi-page TIFF', () => {
  it('writes every page, each result naming its page of the count', async () => {
    const { stdout, out } = await optimize('scan.tiff', true);
    const files = (JSON.parse(stdout) as { files: FileResult[] }).files;
    expect(files.map((f) => [f.page, f.pages])).toEqual([
      [1, 2],
      [2, 2],
    ]);
    expect((await readdir(out)).filter((f) => f.endsWith('.jpg')).sort()).toEqual([
      'scan.p001.jpg',
      'scan.p002.jpg',
    ]);
    expect(files.some((f) => f.warning !== undefined)).toBe(false);
  });
});
