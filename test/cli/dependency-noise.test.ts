/**
 * Nothing a dependency prints reaches the terminal: tesseract's core writes
 * `Error in boxClipToRectangle: box outside rectangle` on some photos (vin1.jpg of the
 * corpus does it every time), through the progress line before. It is captured and shown
 * only with VISIONPIPE_DEBUG=ocr. Real CLI processes, the real corpus image.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../support/cli.js';
import { corpus, tempDir } from '../support/images.js';

const args = [
  'run',
  corpus('vin1.jpg'),
  '-p',
  path.join(ROOT, 'samples/patterns/receipt.yaml'),
  '--cache',
  'off',
];

describe('dependency output', () => {
  it('never reaches stdout or stderr, and shows at debug level when asked', async () => {
    const quiet = await runCli(args, { cwd: await tempDir('visionpipe-noise-') });
    expect(quiet.code, quiet.stderr).toBe(0);
    for (const stream of [quiet.stdout, quiet.stderr]) {
      expect(stream).not.toMatch(/Error in |Warning: |boxClipToRectangle/);
    }
    const debug = await runCli(args, {
      cwd: await tempDir('visionpipe-noise-'),
      env: { VISIONPIPE_DEBUG: 'ocr' },
    });
    expect(debug.stderr).toContain('debug ocr: Error in boxClipToRectangle');
    expect(debug.stdout).not.toContain('boxClipToRectangle');
  });
});
