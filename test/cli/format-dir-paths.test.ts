/**
 * --format-dir writes each output at its input's path below the inputs' common folder
 * (issue 13): `a/r.jpg` and `b/r.jpg` → `out/a/r.json`, `out/b/r.json`, given relative
 * or absolute, from inside the working folder or outside it: an absolute input never
 * recreates `/tmp/…` under the folder. Real CLI, loopback OpenAI-compatible server, real
 * corpus images by path (linked from two folders, so both are named `r.jpg`).
 */
import { mkdir, readdir, symlink } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRecords, runOpenAiCompatible } from '../support/cli.js';
import { corpus, tempDir } from '../support/images.js';
import {
  type CompatibleServer,
  startCompatibleServer,
  writeSimplePattern,
} from '../support/openai-compatible.js';

let server: CompatibleServer;
let work: string;
let elsewhere: string;

beforeAll(async () => {
  server = await startCompatibleServer('{"vendor_name": "Shop", "total": 3}');
  work = await tempDir('visionpipe-format-paths-');
  elsewhere = await tempDir('visionpipe-format-paths-cwd-');
  for (const [folder, image] of [
    ['a', 'invoice1.jpg'],
    ['b', 'invoice2.jpg'],
  ] as const) {
    await mkdir(path.join(work, 'in', folder), { recursive: true });
    await symlink(corpus(image), path.join(work, 'in', folder, 'r.jpg'));
  }
});

afterAll(async () => {
  await server?.close();
});

/** Every file under `dir`, relative, sorted (the outputs manifest left out). */
async function files(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && !e.name.startsWith('.'))
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

async function run(inputs: string[], cwd: string, out: string) {
  const result = await runOpenAiCompatible(inputs, {
    pattern: await writeSimplePattern(work),
    baseUrl: server.baseUrl,
    out: path.join(out, 'results.jsonl'),
    extra: ['--no-progress', '--cache', 'off', '--format-dir', path.join(out, 'formatted')],
    cwd,
  });
  expect(result.code, result.stderr).toBe(0);
  return {
    files: await files(path.join(out, 'formatted')),
    records: await readRecords(path.join(out, 'results.jsonl')),
  };
}

describe('--format-dir keeps the inputs folders below their common root', () => {
  it('relative inputs from the working folder', async () => {
    const out = path.join(work, 'rel');
    const { files: written } = await run(['in/a/r.jpg', 'in/b/r.jpg'], work, out);
    expect(written).toEqual([path.join('a', 'r.json'), path.join('b', 'r.json')]);
  }, 120_000);

  it('absolute inputs from another folder: no absolute path recreated', async () => {
    const out = path.join(work, 'abs');
    const inputs = ['a', 'b'].map((f) => path.join(work, 'in', f, 'r.jpg'));
    const { files: written, records } = await run(inputs, elsewhere, out);
    expect(written).toEqual([path.join('a', 'r.json'), path.join('b', 'r.json')]);
    const rendered = records.map((r) => r.rendered).sort();
    expect(rendered).toEqual(['a', 'b'].map((f) => path.join(out, 'formatted', f, 'r.json')));

    const one = await run([inputs[0] as string], elsewhere, path.join(work, 'one'));
    expect(one.files).toEqual(['r.json']);
  }, 120_000);
});
