/**
 * Nothing a dependency prints reaches the terminal: tesseract's core writes
 * `Error in boxClipToRectangle: box outside rectangle` on some photos (vin1.jpg of the
 * corpus does it every time), through the progress line before. It is captured and shown
 * in the summary (each kind of line once, with its count, and in --json as
 * `dependency_notes`), and line by line only with VISIONPIPE_DEBUG=ocr. Real CLI processes, the real corpus image.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, ROOT, runCli, runCommand } from '../support/cli.js';
import { corpus, tempDir } from '../support/images.js';

const args = [
  'run',
  corpus('vin1.jpg'),
  '-p',
  path.join(ROOT, 'samples/patterns/receipt.yaml'),
  '--cache',
  'off',
];

describe('on a terminal (a TTY, through script(1))', () => {
  it('the progress line is never broken by tesseract: its lines come once, in the summary', async () => {
    const cwd = await tempDir('visionpipe-noise-tty-');
    const command = [process.execPath, BIN, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
    const tty = await runCommand('script', ['-qec', command, '/dev/null'], {
      cwd,
      env: { ...process.env, NO_COLOR: '1' } as Record<string, string>,
    });
    expect(tty.code, tty.stdout).toBe(0);
    const lines = tty.stdout.split(/\r\n|\n|\r/);
    const noisy = lines.filter((line) => /boxClipToRectangle|Error in |Warning: /.test(line));
    expect(noisy).toHaveLength(1);
    expect(noisy[0]).toMatch(/^ {2}tesseract printed \d+ lines? \(captured, not errors of this run\)/);
    expect(tty.stdout).toMatch(/run [█░]+ 1\/1 \|/); // the progress bar was drawn
  });
});

describe('dependency output', () => {
  it('never reaches stdout or stderr, and shows at debug level when asked', async () => {
    const quiet = await runCli(args, { cwd: await tempDir('visionpipe-noise-') });
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stderr).not.toMatch(/Error in |Warning: |boxClipToRectangle/);
    // Shown once, in the summary, apart from the progress line: each kind of line with its count.
    expect(quiet.stdout).toMatch(
      /^ {2}tesseract printed \d+ lines? \(captured, not errors of this run\): .*Error in boxClipToRectangle: box outside rectangle ×1.* \(VISIONPIPE_DEBUG=ocr shows each\)$/m,
    );
    expect(quiet.stdout.match(/boxClipToRectangle/g)).toHaveLength(1);
    const json = await runCli([...args, '--json', '--no-progress'], {
      cwd: await tempDir('visionpipe-noise-'),
    });
    const summary = JSON.parse(json.stdout) as {
      dependency_notes?: { count: number; lines: Array<{ text: string }> };
    };
    expect(summary.dependency_notes?.count).toBeGreaterThanOrEqual(1);
    expect(summary.dependency_notes?.lines.map((line) => line.text)).toContain(
      'Error in boxClipToRectangle: box outside rectangle',
    );
    const debug = await runCli(args, {
      cwd: await tempDir('visionpipe-noise-'),
      env: { VISIONPIPE_DEBUG: 'ocr' },
    });
    expect(debug.stderr).toContain('debug ocr: Error in boxClipToRectangle');
    expect(debug.stderr.match(/debug ocr: Error in boxClipToRectangle/g)).toHaveLength(1);
  });
});
