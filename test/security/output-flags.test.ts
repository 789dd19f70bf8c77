/**
 * Every output flag goes through the guard -o has (issue 12): `--combine p.json` replaced the
 * pattern, `--failures` truncated the pattern or an input image even when nothing failed,
 * `--report` replaced them with HTML, `--log-file` appended JSON to an input image, and
 * `report r.jsonl -o r.jsonl` replaced the results it read. Each is refused with
 * OUTPUT_CONFLICT (exit 2) before anything is opened, and the file is left as it was.
 */
import { copyFile, link, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../support/cli.js';
import { tempDir } from '../support/images.js';

let dir: string;
let pattern: string;
const env = { OPENAI_API_KEY: 'sk-test-output-flags-0000' };

/** `run in -p p.json -o out/r.jsonl …extra` against a closed port: a refusal comes before any call. */
function run(extra: string[]) {
  return runCli(
    [
      'run',
      path.join(dir, 'in'),
      '-p',
      pattern,
      '-o',
      path.join(dir, 'out', 'r.jsonl'),
      '--state-dir',
      path.join(dir, 'state'),
      '--provider',
      'openai',
      '--base-url',
      'http://127.0.0.1:9/v1',
      '--max-attempts',
      '1',
      '--cache',
      'off',
      '--no-progress',
      ...extra,
    ],
    { env, cwd: dir },
  );
}

beforeAll(async () => {
  dir = await tempDir();
  await mkdir(path.join(dir, 'in'));
  await mkdir(path.join(dir, 'out'));
  pattern = path.join(dir, 'p.json');
  await copyFile(path.join(ROOT, 'samples/patterns/invoice.json'), pattern);
  for (const name of ['a', 'b']) {
    await sharp({
      create: { width: 16, height: 16, channels: 3, background: name === 'a' ? '#f00' : '#0f0' },
    })
      .png()
      .toFile(path.join(dir, 'in', `${name}.png`));
  }
  await writeFile(path.join(dir, 'notes.txt'), 'my notes\n');
  await symlink(pattern, path.join(dir, 'pattern-link.log'));
  await link(pattern, path.join(dir, 'hard-p.html'));
});

describe('run: every output flag is guarded like -o', () => {
  it.each([
    ['--combine naming the pattern', () => ['--combine', pattern], () => pattern, 'the pattern file'],
    ['--failures naming the pattern', () => ['--failures', pattern], () => pattern, 'the pattern file'],
    [
      '--failures naming an image of the input folder, even with --overwrite',
      () => ['--failures', path.join(dir, 'in', 'b.png'), '--overwrite'],
      () => path.join(dir, 'in', 'b.png'),
      'inside the input folder',
    ],
    ['--report naming the pattern', () => ['--report', pattern], () => pattern, 'the pattern file'],
    [
      '--report naming an input image',
      () => ['--report', path.join(dir, 'in', 'a.png')],
      () => path.join(dir, 'in', 'a.png'),
      'inside the input folder',
    ],
    [
      '--report through a hard link to the pattern, even with --overwrite',
      () => ['--report', path.join(dir, 'hard-p.html'), '--overwrite'],
      () => pattern,
      'the pattern file',
    ],
    [
      '--log-file naming an input image',
      () => ['--log-file', path.join(dir, 'in', 'a.png')],
      () => path.join(dir, 'in', 'a.png'),
      'inside the input folder',
    ],
    [
      '--log-file through a symlink to the pattern',
      () => ['--log-file', path.join(dir, 'pattern-link.log')],
      () => pattern,
      'the pattern file',
    ],
    [
      '--failures naming the results file',
      () => ['--failures', path.join(dir, 'out', 'r.jsonl')],
      () => path.join(dir, 'out', 'r.jsonl'),
      'also -o',
    ],
    [
      '--combine naming a file visionpipe did not write, without --overwrite',
      () => ['--combine', path.join(dir, 'notes.txt').replace(/txt$/, 'json')],
      () => path.join(dir, 'notes.json'),
      'is not a file visionpipe combined',
    ],
    [
      '--failures naming a file visionpipe did not write, without --overwrite',
      () => ['--failures', path.join(dir, 'notes.txt')],
      () => path.join(dir, 'notes.txt'),
      'is not a visionpipe failures file',
    ],
  ])('refuses %s, which is left intact', async (_name, extra, target, why) => {
    await writeFile(path.join(dir, 'notes.json'), '{"mine": true}\n');
    await writeFile(path.join(dir, 'out', 'r.jsonl'), '');
    const before = await readFile(target());
    const result = await run(extra());
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain('error [OUTPUT_CONFLICT]');
    expect(result.stderr).toContain(why);
    expect((await readFile(target())).equals(before)).toBe(true);
  });

  it('replaces a file visionpipe did not write with --overwrite, and its own files without', async () => {
    const failures = path.join(dir, 'out', 'failed.jsonl');
    await writeFile(failures, 'my notes\n');
    const forced = await run([
      '--failures',
      failures,
      '--overwrite',
      '--log-file',
      path.join(dir, 'out', 'run.log'),
    ]);
    expect(forced.code, forced.stderr).toBe(0);
    expect(await readFile(failures, 'utf8')).toContain('"status":"error"');
    // Its own failures file and log: no --overwrite needed.
    const again = await run(['--failures', failures, '--log-file', path.join(dir, 'out', 'run.log')]);
    expect(again.code, again.stderr).toBe(0);
  });
});

describe('report -o', () => {
  beforeAll(async () => {
    // Real records to report on: two CONNECTION_FAILED ones.
    const made = await run(['--overwrite']);
    expect(made.code, made.stderr).toBe(0);
  });

  it('refuses the results file it reads, which is left intact', async () => {
    const results = path.join(dir, 'out', 'r.jsonl');
    const before = await readFile(results);
    const result = await runCli(['report', results, '--out', results], { env });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('error [OUTPUT_CONFLICT]: --out');
    expect((await readFile(results)).equals(before)).toBe(true);
  });

  it("replaces its own report, and someone else's only with --overwrite", async () => {
    const results = path.join(dir, 'out', 'r.jsonl');
    const html = path.join(dir, 'out', 'page.html');
    await writeFile(html, '<p>my page</p>\n');
    const refused = await runCli(['report', results, '--out', html], { env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('is not a visionpipe report');
    expect(await readFile(html, 'utf8')).toBe('<p>my page</p>\n');
    const forced = await runCli(['report', results, '--out', html, '--overwrite'], { env });
    expect(forced.code, forced.stderr).toBe(0);
    const again = await runCli(['report', results, '--out', html], { env });
    expect(again.code, again.stderr).toBe(0);
  });
});
