/**
 * Two runs on the same results file (issue 12): the second stops with RUN_LOCKED naming the
 * first, instead of paying for the same images again and interleaving two journals.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireRunLock, lockPath } from '../../src/runs/run-lock.js';
import { readRecords, runCli } from '../support/cli.js';
import { tempDir } from '../support/images.js';
import {
  type CompatibleServer,
  startCompatibleServer,
  writeSimplePattern,
} from '../support/openai-compatible.js';

describe('acquireRunLock', () => {
  it('refuses a second holder while the first lives, and frees the lock on release', async () => {
    const state = await tempDir();
    const first = acquireRunLock(path.join(state, 'out.jsonl'), () => {});
    expect(() => acquireRunLock(path.join(state, 'out.jsonl'), () => {})).toThrow(
      expect.objectContaining({ code: 'RUN_LOCKED', message: expect.stringContaining(`pid ${process.pid}`) }),
    );
    const other = acquireRunLock(path.join(state, 'other.jsonl'), () => {}); // another results file: its own lock
    first.release();
    first.release(); // twice is harmless
    expect(existsSync(first.file)).toBe(false);
    acquireRunLock(path.join(state, 'out.jsonl'), () => {}).release();
    other.release();
  });

  it('takes over a lock whose process is gone, or that cannot be read, with a warning', async () => {
    const state = await tempDir();
    const file = lockPath(path.join(state, 'out.jsonl'));
    await mkdir(path.dirname(file), { recursive: true });
    for (const content of [
      JSON.stringify({ pid: 2 ** 22 + 12345, host: os.hostname(), started: '2026-01-01T00:00:00Z' }),
      'not json',
    ]) {
      await writeFile(file, content);
      const warnings: string[] = [];
      const lock = acquireRunLock(path.join(state, 'out.jsonl'), (m) => warnings.push(m));
      expect(warnings.join(' ')).toContain('taking over the lock of a run that is gone');
      expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ pid: process.pid });
      lock.release();
    }
  });

  it('never takes over a lock held on another host', async () => {
    const state = await tempDir();
    const file = lockPath(path.join(state, 'out.jsonl'));
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, JSON.stringify({ pid: 2 ** 22 + 1, host: 'another-machine', started: 'then' }));
    expect(() => acquireRunLock(path.join(state, 'out.jsonl'), () => {})).toThrow(/another-machine/);
  });
});

describe('the same command started twice', () => {
  let server: CompatibleServer;
  let dir: string;
  beforeAll(async () => {
    server = await startCompatibleServer(() => ({
      content: '{"vendor_name": "X", "total": 1}',
      // 5 s a call, 15 s a run: the second CLI must start while the first still holds the
      // lock, and on a loaded machine a CLI takes several seconds to start.
      delayMs: 5000,
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
    const lock = lockPath(path.join(dir, 'out', 'r.jsonl'));
    for (let i = 0; i < 200 && !existsSync(lock); i++) await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(lock)).toBe(true);
    const second = await runCli(args, { env });
    expect(second.code, second.stderr + second.stdout).toBe(2);
    expect(second.stderr).toContain('error [RUN_LOCKED]');
    const done = await first;
    expect(done.code, done.stderr).toBe(0);
    expect(server.calls).toHaveLength(3);
    expect(existsSync(lock)).toBe(false);
  });

  it('a symlink to the results file and another --state-dir meet the same lock', async () => {
    const pattern = await writeSimplePattern(dir);
    const results = path.join(dir, 'out2', 'r.jsonl');
    await mkdir(path.dirname(results), { recursive: true });
    await writeFile(results, '');
    const link = path.join(dir, 'link.jsonl');
    await symlink(results, link);
    const args = (out: string, state: string) => [
      'run',
      dir,
      '-p',
      pattern,
      '-o',
      out,
      '--state-dir',
      path.join(dir, state),
      '--provider',
      'openai',
      '--base-url',
      server.baseUrl,
      '--concurrency',
      '1',
      '--no-progress',
    ];
    const env = { OPENAI_API_KEY: 'sk-test-lock-00000000' };
    const calls = server.calls.length;
    const first = runCli(args(results, 's-one'), { env });
    const lock = `${results}.lock`;
    for (let i = 0; i < 200 && !existsSync(lock); i++) await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(lock)).toBe(true);
    // --fresh: nothing else (the resume check of another state folder) stops it but the lock.
    const second = await runCli([...args(link, 's-two'), '--fresh'], { env });
    expect(second.code, second.stderr).toBe(2);
    expect(second.stderr).toContain('error [RUN_LOCKED]');
    const done = await first;
    expect(done.code, done.stderr).toBe(0);
    expect(server.calls.length - calls).toBe(3); // each image paid once
    // One journal, not two interleaved: one record per input.
    const inputs = (await readRecords(results)).map((r) => r.input);
    expect(new Set(inputs).size).toBe(inputs.length);
    expect(inputs.filter((input) => input.endsWith('.png'))).toHaveLength(3);
    expect(existsSync(lock)).toBe(false);
  });
});
