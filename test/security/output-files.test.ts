/**
 * Files visionpipe writes (issue 12): `-o` never names an input or the pattern; nothing
 * visionpipe did not write is overwritten without --overwrite; symlinks are resolved before
 * the containment check; temporary files are cleaned; a resumed record whose rendered file is
 * missing is rendered again; every record names its file; same-basename inputs keep their
 * names across runs.
 */
import { existsSync } from 'node:fs';
import { link as link_, mkdir, readdir, readFile, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OUTPUTS_MANIFEST, OutputWriter } from '../../src/runs/output-paths.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/images.js';
import {
  type CompatibleServer,
  startCompatibleServer,
  writeSimplePattern,
} from '../support/openai-compatible.js';

const item = (label: string, rel: string) => ({ label, rel });

describe('OutputWriter', () => {
  it('never overwrites a file it did not write: the next free name, unless overwrite', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'x.csv'), "the user's own file");
    const writer = await OutputWriter.create(dir);
    const file = await writer.write(item('in/x.png', 'x.png'), '.csv', Buffer.from('rendered'));
    expect(path.basename(file)).toBe('x-1.csv');
    expect(await readFile(path.join(dir, 'x.csv'), 'utf8')).toBe("the user's own file");
    const forced = await OutputWriter.create(dir, [], { overwrite: true });
    const replaced = await forced.write(item('in/y/x.png', 'x.png'), '.csv', Buffer.from('forced'));
    expect(path.basename(replaced)).toBe('x.csv');
    expect(await readFile(replaced, 'utf8')).toBe('forced');
  });

  it('replaces its own file for the same input, and keeps names stable across runs', async () => {
    const dir = await tempDir();
    const first = await OutputWriter.create(dir);
    const b1 = await first.write(item('b/x.png', 'x.png'), '.csv', Buffer.from('b'));
    const a1 = await first.write(item('a/x.png', 'x.png'), '.csv', Buffer.from('a'));
    expect([path.basename(b1), path.basename(a1)]).toEqual(['x.csv', 'x-1.csv']);
    // The next run finishes them in the other order: each input keeps its name.
    const second = await OutputWriter.create(dir);
    const a2 = await second.write(item('a/x.png', 'x.png'), '.csv', Buffer.from('a2'));
    const b2 = await second.write(item('b/x.png', 'x.png'), '.csv', Buffer.from('b2'));
    expect([a2, b2]).toEqual([a1, b1]);
    expect(await readFile(a1, 'utf8')).toBe('a2');
    expect(await readFile(b1, 'utf8')).toBe('b2');
    // Another extension is another file.
    const json = await second.write(item('a/x.png', 'x.png'), '.json', Buffer.from('{}'));
    expect(path.basename(json)).toBe('x.json');
  });

  it('resolves symlinks before the containment check: a linked subfolder cannot take a write outside', async () => {
    const dir = await tempDir();
    const outside = await tempDir();
    await symlink(outside, path.join(dir, 'sub'), 'dir');
    const writer = await OutputWriter.create(dir);
    await expect(
      writer.write(item('sub/x.png', 'sub/x.png'), '.csv', Buffer.from('x')),
    ).rejects.toMatchObject({
      code: 'OUTPUT_CONFLICT',
    });
    expect(await readdir(outside)).toEqual([]);
    expect((await readdir(path.join(dir))).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('a symlinked output folder itself is fine (its real path is the root)', async () => {
    const real = await tempDir();
    const parent = await tempDir();
    await symlink(real, path.join(parent, 'out'), 'dir');
    const writer = await OutputWriter.create(path.join(parent, 'out'));
    const file = await writer.write(item('x.png', 'x.png'), '.csv', Buffer.from('x'));
    expect(existsSync(path.join(real, 'x.csv'))).toBe(true);
    expect(path.dirname(file)).toBe(await import('node:fs/promises').then((fs) => fs.realpath(real)));
  });

  it('never writes over a protected input, and never replaces a folder or link even with overwrite', async () => {
    const dir = await tempDir();
    await mkdir(path.join(dir, 'x.csv'));
    const writer = await OutputWriter.create(dir, [], { overwrite: true });
    const file = await writer.write(item('x.png', 'x.png'), '.csv', Buffer.from('x'));
    expect(path.basename(file)).toBe('x-1.csv');
  });

  it('removes temporary files a killed run left, and only those', async () => {
    const dir = await tempDir();
    await mkdir(path.join(dir, 'deep'));
    await writeFile(path.join(dir, '.x.csv.0123456789ab.tmp'), 'stray');
    await writeFile(path.join(dir, 'deep', '.y.json.abcdefabcdef.tmp'), 'stray');
    await writeFile(path.join(dir, 'notes.tmp'), "the user's");
    await OutputWriter.create(dir);
    expect(existsSync(path.join(dir, '.x.csv.0123456789ab.tmp'))).toBe(false);
    expect(existsSync(path.join(dir, 'deep', '.y.json.abcdefabcdef.tmp'))).toBe(false);
    expect(existsSync(path.join(dir, 'notes.tmp'))).toBe(true);
  });

  it('lists what it wrote, and tolerates a torn last line', async () => {
    const dir = await tempDir();
    const writer = await OutputWriter.create(dir);
    await writer.write(item('a.png', 'a.png'), '.csv', Buffer.from('a'));
    await writeFile(
      path.join(dir, OUTPUTS_MANIFEST),
      `${await readFile(path.join(dir, OUTPUTS_MANIFEST), 'utf8')}{"file":`,
    );
    const again = await OutputWriter.create(dir);
    expect(again.writtenFor('a.png', '.csv')).toBe(
      path.join(await import('node:fs/promises').then((fs) => fs.realpath(dir)), 'a.csv'),
    );
  });
});

describe('visionpipe run: -o and --format-dir', () => {
  let server: CompatibleServer;
  let dir: string;
  let pattern: string;
  const env = { OPENAI_API_KEY: 'sk-test-files-000000' };

  beforeAll(async () => {
    server = await startCompatibleServer((_call, n) => JSON.stringify({ vendor_name: `V${n}`, total: n }));
    dir = await tempDir();
    pattern = await writeSimplePattern(dir);
    for (const [name, colour] of [
      ['a/x.png', '#a00'],
      ['b/x.png', '#0a0'],
      ['c.png', '#00a'],
    ] as const) {
      await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
      await sharp({ create: { width: 30, height: 30, channels: 3, background: colour } })
        .png()
        .toFile(path.join(dir, name));
    }
  });
  afterAll(() => server.close());

  const run = (args: string[]) =>
    runCli(['run', ...args, '--provider', 'openai', '--base-url', server.baseUrl, '--no-progress'], {
      cwd: dir,
      env,
    });

  it.each([
    ['the pattern', () => pattern],
    ['an input', () => path.join(dir, 'c.png')],
  ])('refuses -o naming %s, which is left intact', async (_name, target) => {
    const before = await readFile(target());
    const result = await run(['c.png', '-p', pattern, '-o', target()]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('error [OUTPUT_CONFLICT]');
    expect((await readFile(target())).equals(before)).toBe(true);
  });

  it('refuses -o that is a symlink to the pattern', async () => {
    const link = path.join(dir, 'link.jsonl');
    await symlink(pattern, link);
    const before = await readFile(pattern);
    const result = await run(['c.png', '-p', pattern, '-o', link]);
    expect(result.code).toBe(2);
    expect((await readFile(pattern)).equals(before)).toBe(true);
    await unlink(link);
  });

  it.each([
    ['an input', () => path.join(dir, 'c.png')],
    ['the pattern', () => pattern],
  ])('refuses -o that is a hard link to %s, even with --overwrite', async (_name, target) => {
    const link = path.join(dir, 'hard-link.out');
    await link_(target(), link);
    const before = await readFile(target());
    const result = await run(['c.png', '-p', pattern, '-o', link, '--overwrite']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('error [OUTPUT_CONFLICT]');
    expect((await readFile(target())).equals(before)).toBe(true);
    await unlink(link);
  });

  it('refuses -o naming an image inside an input folder, even with --overwrite', async () => {
    // `run a -o a/x.png --overwrite` read the folder and truncated one of its images.
    const target = path.join(dir, 'a', 'x.png');
    const before = await readFile(target);
    const result = await run(['a', '-p', pattern, '-o', target, '--overwrite']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      `error [OUTPUT_CONFLICT]: -o ${target} is a file inside the input folder a`,
    );
    expect((await readFile(target)).equals(before)).toBe(true);
  });

  it('refuses an existing -o that is not a results file, unless --overwrite', async () => {
    const notes = path.join(dir, 'notes.txt');
    await writeFile(notes, 'my notes\n');
    const refused = await run(['c.png', '-p', pattern, '-o', notes, '--cache', 'off']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('not a visionpipe results file');
    expect(await readFile(notes, 'utf8')).toBe('my notes\n');
    const forced = await run(['c.png', '-p', pattern, '-o', notes, '--cache', 'off', '--overwrite']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(await readFile(notes, 'utf8')).toContain('"status":"ok"');
  });

  it('names the rendered file in every record, keeps names across runs, and re-renders a missing file on resume', async () => {
    const out = path.join(dir, 'results.jsonl');
    const formatDir = path.join(dir, 'rendered');
    await mkdir(formatDir, { recursive: true });
    await writeFile(path.join(formatDir, 'c.json'), 'a file visionpipe did not write');
    const args = [
      'a/x.png',
      'b/x.png',
      'c.png',
      '-p',
      pattern,
      '-o',
      out,
      '--format-dir',
      formatDir,
      '--state-dir',
      path.join(dir, 'state'),
    ];
    const first = await run(args);
    expect(first.code, first.stderr).toBe(0);
    const read = async () =>
      (await readFile(out, 'utf8'))
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { input: string; rendered: string | null });
    const records = await read();
    expect(records).toHaveLength(3);
    const names = new Map(records.map((r) => [r.input, r.rendered]));
    for (const [, file] of names) expect(file !== null && existsSync(path.resolve(dir, file))).toBe(true);
    expect(new Set(names.values()).size).toBe(3);
    expect(names.get('c.png')).toBe(path.join('rendered', 'c-1.json')); // c.json was someone else's
    expect(await readFile(path.join(formatDir, 'c.json'), 'utf8')).toBe('a file visionpipe did not write');

    // A render lost (killed between record and file, deleted since): the resumed run restores it, unpaid.
    const lost = names.get('b/x.png') as string;
    await rm(path.resolve(dir, lost));
    const calls = server.calls.length;
    const resumed = await run(args);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(server.calls.length).toBe(calls);
    expect(existsSync(path.resolve(dir, lost))).toBe(true);

    // A fresh run (cache off: everything processed again, finishing in any order) keeps every name.
    const fresh = await run([...args, '--fresh', '--cache', 'off']);
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(new Map((await read()).map((r) => [r.input, r.rendered]))).toEqual(names);
    const stray = (await readdir(formatDir, { recursive: true })).filter((n) => String(n).endsWith('.tmp'));
    expect(stray).toEqual([]);
  });
});
