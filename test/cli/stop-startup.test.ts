/**
 * Ctrl-C or SIGTERM while `run` is still starting (issue 13): before, the process died with
 * no summary (Node's default action: the run's handler was not installed yet while the
 * modules, the pattern and the providers loaded). Now the signal is kept from the first
 * moment and the run prints the same stopped summary as later: 0 processed, N not
 * processed, exit 130. The pattern file is a FIFO, so the signal is sent exactly while the
 * run is reading its pattern: no timing involved.
 */
import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { corpus, tempDir } from '../support/images.js';

const NAMES = ['invoice1.jpg', 'invoice2.jpg', 'car-plate1.jpg'];
const PATTERN = JSON.stringify({
  name: 'doc',
  format: 'json',
  instructions: 'Read.',
  json_schema: { total: 'number' },
});

let work: string;

beforeAll(async () => {
  work = await tempDir('visionpipe-stop-startup-');
  await mkdir(path.join(work, 'inputs'));
  for (const name of NAMES) await copyFile(corpus(name), path.join(work, 'inputs', name));
});

/** Runs `run` with its pattern behind a FIFO and sends `signal` while the run waits to read it. */
async function stoppedWhileStarting(signal: NodeJS.Signals, extra: string[]) {
  const dir = await tempDir('visionpipe-stop-startup-run-');
  const fifo = path.join(dir, 'pattern.json');
  execFileSync('mkfifo', [fifo]);
  return runCli(['run', path.join(work, 'inputs'), '-p', fifo, '--no-progress', ...extra], {
    cwd: dir,
    onSpawn: (child) => {
      void (async () => {
        // Opening for writing completes once the run opened the pattern for reading.
        const writer = await open(fifo, 'w');
        child.kill(signal);
        await writer.writeFile(PATTERN);
        await writer.close();
      })();
    },
  });
}

describe('a signal during start-up', () => {
  it('Ctrl-C: the stopped summary (0 processed, 3 not processed), exit 130', async () => {
    const result = await stoppedWhileStarting('SIGINT', []);
    expect(result, result.stderr).toMatchObject({ code: 130, signal: null });
    expect(result.stderr).toContain('Stopping');
    expect(result.stdout).toContain('no image processed');
    expect(result.stdout).toContain('stopped early (Ctrl-C/SIGTERM): 3 inputs not processed');
    // The first line says it stopped, and no "success 100 %" over nothing.
    expect(result.stdout).toMatch(/^stopped \(Ctrl-C\/SIGTERM\) after 0 of 3 inputs, 3 not processed: /m);
    expect(result.stdout).toContain('success – (nothing attempted)');
    expect(result.stdout).not.toContain('100.0 %');
  });

  it('SIGTERM with --json: stopped "signal", not_processed 3, and an empty results file', async () => {
    const result = await stoppedWhileStarting('SIGTERM', ['--json']);
    expect(result, result.stderr).toMatchObject({ code: 130, signal: null });
    const summary = JSON.parse(result.stdout.trim()) as {
      total: number;
      processed: number;
      stopped: string;
      not_processed: number;
      success_rate: number | null;
    };
    expect(summary).toMatchObject({ total: 0, processed: 0, stopped: 'signal', not_processed: 3 });
    expect(summary.success_rate).toBeNull(); // nothing attempted: no rate, not 1
  });
});
