/**
 * Two runs on the same results file (issue 12): the second stops with RUN_LOCKED naming the
 * first, instead of paying for the same images again and interleaving two journals.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireRunLock, lockPath } from '../../src/runs/run-lock.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/images.js';
import {
  type CompatibleServer,
  startCompatibleServer,
  writeSimplePattern,
} from '../support/openai-compatible.js';

describe('acquireRunLock', () => {
  it('refuses a second holder while the first lives, and frees the lock on release', async () => {
    const state = await tempDir();
    const first = acquireRunLock(state, 'out.jsonl', () => {});
    expect(() => acquireRunLock(state, 'out.jsonl', () => {})).toThrow(
      expect.objectContaining({ code: 'RUN_LOCKED', message: expect.stringContaining(`pid ${process.pid}`) }),
    );
    const other = acquireRunLock(state, 'other.jsonl', () => {}); // another results file: its own lock
    first.release();
    first.release(); // twice is harmless
    expect(existsSync(first.file)).toBe(false);
    acquireRunLock(state, 'out.jsonl', () => {}).release();
    other.release();
  });

  it('takes over a lock whose process is gone, or that cannot be read, with a warning', async () => {
    const state = await tempDir();
    const file = lockPath(state, 'out.jsonl');
    await mkdir(path.dirname(file), { recursive: true });
    for (const content of [
      JSON.stringify({ pid: 2 ** 22 + 12345, host: os.hostname(), started: '2026-01-01T00:00:00Z' }),
      'not json',
    ]) {
      await writeFile(file, content);
      const warnings: string[] = [];
      const lock = acquireRunLock(state, 'out.jsonl', (m) => warnings.push(m));
      expect(warnings.join(' ')).toContain('taking over the lock of a run that is gone');
      expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ pid: process.pid });
      lock.release();
    }
  });

  it('never takes over a lock held on another host', async () => {
    const state = await tempDir();
    const file = lockPath(state, 'out.jsonl');
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, JSON.stringify({ pid: 2 ** 22 + 1, host: 'another-machine', started: 'then' }));
    expect(() => acquireRunLock(state, 'out.jsonl', () => {})).toThrow(/another-machine/);
  });
});

describe('the same command started twice', () => {
  let server: CompatibleServer;
  let dir: string;
  beforeAll(async () => {
    server = await startCompatibleServer(() => ({
      content: '{"vendor_name": "X", "total": 1}',
      delayMs: 1500,
    }));
    dir = await tempDir();
    for (const colour of ['#100', '#010', '#001']) {
      await sharp({ create: { width: 20, height: 20, channels: 3, background: colour } })
        .png()
        .toFile(path.join(dir, `${colour.slice(1)}.png`));
    }
  });
  afterAll(() => server.close());

  it('the second stops with RUN_LOCKED; every image is paid once', async () => {
    const pattern = await writeSimplePattern(dir);
    const args = [
      'run',
      dir,
      '-p',
      pattern,
      '-o',
      path.join(dir, 'out', 'r.jsonl'),
      '--state-dir',
      path.join(dir, 's'),
      '--provider',
      'openai',
      '--base-url',
      server.baseUrl,
      '--concurrency',
      '1',
      '--no-progress',
    ];
    const env = { OPENAI_API_KEY: 'sk-test-lock-00000000' };
    const first = runCli(args, { env });
    // Start the second once the first holds the lock.
    const lock = lockPath(path.join(dir, 's'), path.join(dir, 'out', 'r.jsonl'));
    for (let i = 0; i < 200 && !existsSync(lock); i++) await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(lock)).toBe(true);
    const second = await runCli(args, { env });
    expect(second.code).toBe(2);
    expect(second.stderr).toContain('error [RUN_LOCKED]');
    const done = await first;
    expect(done.code, done.stderr).toBe(0);
    expect(server.calls).toHaveLength(3);
    expect(existsSync(lock)).toBe(false);
  });
});
