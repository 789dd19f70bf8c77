import { copyFile, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { startServer, type TestServer } from '../support/http.js';
import { corpus, orientedJpeg, pngBomb, tempDir } from '../support/images.js';

interface Summary {
  files: Array<{
    input: string;
    output: string | null;
    status: 'ok' | 'error';
    error: { code: string; message: string } | null;
    before: { bytes: number; width: number; height: number; format: string } | null;
    after: { bytes: number; width: number; height: number; format: string } | null;
  }>;
  total: {
    before_bytes: number;
    after_bytes: number;
    reduction_pct: number | null;
    ok: number;
    errors: number;
  };
}

let batch: string;
let bombDir: string;

beforeAll(async () => {
  batch = await tempDir('visionpipe-batch-');
  bombDir = path.join(path.dirname(batch), 'visionpipe-fixtures');
  await mkdir(path.join(batch, 'nested/deeper'), { recursive: true });
  await copyFile(corpus('inventory2.jpg'), path.join(batch, 'inventory2.jpg'));
  await copyFile(corpus('resume4.png'), path.join(batch, 'nested/resume4.png'));
  await copyFile(corpus('prescription1.jpg'), path.join(batch, 'nested/really-a-png.jpg'));
  await writeFile(path.join(batch, 'nested/deeper/oriented.jpg'), await orientedJpeg());
  const good = await readFile(corpus('inventory1.jpg'));
  await writeFile(path.join(batch, 'truncated.jpg'), good.subarray(0, Math.floor(good.length * 0.6)));
  await writeFile(path.join(batch, 'zero.jpg'), Buffer.alloc(0));
  await writeFile(path.join(batch, 'login.jpg'), '<!DOCTYPE html><html><body>Please sign in</body></html>');
  await copyFile(await pngBomb(bombDir), path.join(batch, 'bomb.png'));
});

function byName(summary: Summary, name: string) {
  const file = summary.files.find((f) => path.basename(f.input) === name);
  expect(file, name).toBeDefined();
  return file!;
}

describe('visionpipe optimize', () => {
  it('optimizes the good files of a mixed batch and reports each bad one with its code', async () => {
    const out = await tempDir('visionpipe-out-');
    const result = await runCli(['optimize', batch, '--out-dir', out, '--json']);
    expect(result.code).toBe(1);
    const summary = JSON.parse(result.stdout) as Summary;
    expect(summary.files).toHaveLength(8);
    expect(byName(summary, 'truncated.jpg').error?.code).toBe('IMAGE_DECODE');
    expect(byName(summary, 'zero.jpg').error?.code).toBe('EMPTY_INPUT');
    expect(byName(summary, 'login.jpg').error?.code).toBe('UNSUPPORTED_FORMAT');
    expect(byName(summary, 'login.jpg').error?.message).toContain('HTML');
    expect(byName(summary, 'bomb.png').error?.code).toBe('PIXEL_LIMIT');
    for (const failed of summary.files.filter((f) => f.status === 'error')) {
      expect(failed.output).toBeNull();
      expect(failed.error?.message).toContain(failed.input);
    }

    const inventory = byName(summary, 'inventory2.jpg');
    expect(inventory.status).toBe('ok');
    expect(inventory.before).toMatchObject({ width: 2336, height: 4160, format: 'jpeg' });
    expect(inventory.after).toMatchObject({ width: 1150, height: 2048, format: 'jpeg' });
    expect(byName(summary, 'really-a-png.jpg').before?.format).toBe('png');
    expect(byName(summary, 'oriented.jpg').after).toMatchObject({ width: 200, height: 300 });

    // Relative paths are kept, extensions follow the output format, only good files are written.
    const written = (await readdir(out, { recursive: true })).filter((f) => f.endsWith('.jpg')).sort();
    expect(written).toEqual([
      'inventory2.jpg',
      path.join('nested', 'deeper', 'oriented.jpg'),
      path.join('nested', 'really-a-png.jpg'),
      path.join('nested', 'resume4.jpg'),
    ]);
    const meta = await sharp(path.join(out, 'inventory2.jpg')).metadata();
    expect([meta.width, meta.height, meta.exif]).toEqual([1150, 2048, undefined]);
    expect(summary.total).toMatchObject({ ok: 4, errors: 4 });
    expect(summary.total.after_bytes).toBeLessThan(summary.total.before_bytes);
    expect(summary.total.reduction_pct).toBeGreaterThan(0);
  });

  it('prints a table with per-file sizes, failure codes and the total reduction', async () => {
    const out = await tempDir('visionpipe-out-');
    const result = await runCli([
      'optimize',
      path.join(batch, 'inventory2.jpg'),
      path.join(batch, 'zero.jpg'),
      '--out-dir',
      out,
    ]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/ok\s+2336×4160\s+1\.0 MB →\s+1150×2048/);
    expect(result.stdout).toMatch(/ERR\s+EMPTY_INPUT/);
    expect(result.stdout).toMatch(/2 files: 1 ok, 1 failed \(EMPTY_INPUT 1\)/);
    expect(result.stdout).toMatch(/1\.0 MB → .* \(-\d+(\.\d)?%\)/);
    expect(result.stderr).toMatch(/optimize: 2\/2 \(100%\)/); // plain progress when not a TTY
  });

  it('prints a rate over the images optimized only: none when nothing was (issue 13)', async () => {
    const out = await tempDir('visionpipe-out-');
    const one = await runCli(['optimize', path.join(batch, 'inventory2.jpg'), '--out-dir', out]);
    expect(one.stdout).toMatch(/ in [\d.ms ]+ \([\d.,]+ images\/s\)\n/);
    const missing = await runCli([
      'optimize',
      path.join(batch, 'nothere-1.jpg'),
      path.join(batch, 'zero.jpg'),
      '--out-dir',
      out,
    ]);
    expect(missing.stdout).toMatch(/2 files: 0 ok, 2 failed/);
    expect(missing.stdout).not.toMatch(/images\/s/);
    // Nothing optimized: no "0 B → 0 B (-0%)", and a failure (1), not a usage error (one input exists).
    expect(missing.stdout).toContain('nothing optimized');
    expect(missing.stdout).not.toMatch(/-0%/);
    expect(missing.code).toBe(1);
  });

  it('exits 2 as run does when every input is missing, with no reduction over nothing', async () => {
    const out = await tempDir('visionpipe-out-');
    const args = [
      'optimize',
      path.join(batch, 'nothere-1.jpg'),
      path.join(batch, 'nothere-2.jpg'),
      '--out-dir',
      out,
    ];
    const text = await runCli(args);
    expect(text.code, text.stderr).toBe(2);
    expect(text.stderr).toMatch(/none of the 2 inputs exists/);
    const json = await runCli([...args, '--json']);
    expect(json.code).toBe(2);
    expect((JSON.parse(json.stdout) as Summary).total).toMatchObject({
      ok: 0,
      errors: 2,
      reduction_pct: null,
    });
    const pattern = 'samples/patterns/invoice.json';
    const run = await runCli(['run', ...args.slice(1, 3), '-p', pattern, '-o', `${out}/r.jsonl`]);
    expect(run.code).toBe(text.code);
  });

  it('exits 0 when every input succeeds and honours profile, format and quality', async () => {
    const out = await tempDir('visionpipe-out-');
    const result = await runCli([
      'optimize',
      corpus('inventory4.jpg'),
      '--out-dir',
      out,
      '--profile',
      'openai-high',
      '--format',
      'webp',
      '--quality',
      '70',
      '--json',
    ]);
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout) as Summary;
    expect(summary.files[0]!.after).toMatchObject({ width: 768, height: 1024, format: 'webp' });
    expect((await stat(path.join(out, 'inventory4.webp'))).size).toBe(summary.files[0]!.after!.bytes);
  });

  it('re-running overwrites its own earlier outputs; two inputs mapping to one name both survive', async () => {
    const dir = await tempDir('visionpipe-collide-');
    await copyFile(corpus('car-plate1.jpg'), path.join(dir, 'plate.jpg'));
    await copyFile(corpus('resume4.png'), path.join(dir, 'plate.png'));
    const out = await tempDir('visionpipe-out-');
    for (let run = 0; run < 2; run++) {
      const result = await runCli(['optimize', dir, '--out-dir', out, '--json']);
      expect(result.code).toBe(0);
      // The list of what visionpipe wrote (.visionpipe-outputs.jsonl) lives beside the outputs.
      expect((await readdir(out)).filter((n) => !n.startsWith('.')).sort()).toEqual([
        'plate-1.jpg',
        'plate.jpg',
      ]);
    }
  });

  it('never writes over an input, even when the output folder holds inputs', async () => {
    const out = await tempDir('visionpipe-out-');
    const input = path.join(out, 'keep.jpg');
    await copyFile(corpus('inventory1.jpg'), input);
    const before = await readFile(input);
    const result = await runCli(['optimize', input, '--out-dir', out, '--json']);
    const summary = JSON.parse(result.stdout) as Summary;
    expect(result.code).toBe(1);
    expect(summary.files[0]!.error?.code).toBe('OUTPUT_CONFLICT');
    expect((await readFile(input)).equals(before)).toBe(true);
  });

  it('skips its own output folder when it lives inside an input folder', async () => {
    const dir = await tempDir('visionpipe-inside-');
    await copyFile(corpus('car-plate2.jpg'), path.join(dir, 'a.jpg'));
    const out = path.join(dir, 'optimized');
    for (let run = 0; run < 2; run++) {
      const result = await runCli(['optimize', dir, '--out-dir', out, '--json']);
      expect((JSON.parse(result.stdout) as Summary).files).toHaveLength(1);
    }
  });

  it('fetches URL inputs only when private addresses are allowed', async () => {
    const image = await readFile(corpus('car-plate1.jpg'));
    const server: TestServer = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'image/jpeg' });
      res.end(image);
    });
    try {
      const out = await tempDir('visionpipe-out-');
      const url = `${server.url}/cars/plate%201.jpg`;
      const refused = JSON.parse(
        (await runCli(['optimize', url, '--out-dir', out, '--json'])).stdout,
      ) as Summary;
      expect(refused.files[0]!.error?.code).toBe('URL_BLOCKED');
      const allowed = await runCli(['optimize', url, '--out-dir', out, '--json', '--allow-private-urls']);
      expect(allowed.code).toBe(0);
      const output = (JSON.parse(allowed.stdout) as Summary).files[0]!.output!;
      expect(path.relative(out, output)).toBe(path.join(`127.0.0.1_${server.port}`, 'cars', 'plate_1.jpg'));
    } finally {
      await server.close();
    }
  });

  it('exits 2 on usage errors, naming the flag', async () => {
    const out = await tempDir('visionpipe-out-');
    const quality = await runCli(['optimize', batch, '--out-dir', out, '--quality', '500']);
    expect(quality.code).toBe(2);
    expect(quality.stderr).toContain('--quality');
    const profile = await runCli(['optimize', batch, '--out-dir', out, '--profile', 'huge']);
    expect(profile.code).toBe(2);
    expect(profile.stderr).toContain('profile');
    const crop = await runCli(['optimize', batch, '--out-dir', out, '--crop', '1,2']);
    expect(crop.code).toBe(2);
    expect(crop.stderr).toContain('crop');
    const same = await runCli(['optimize', batch, '--out-dir', batch]);
    expect(same.code).toBe(2);
    expect(same.stderr).toContain('--out-dir');
    const missing = await runCli(['optimize', batch]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--out-dir');
  });

  it('documents every option with examples in --help', async () => {
    const help = await runCli(['optimize', '--help']);
    expect(help.code).toBe(0);
    for (const flag of [
      '--out-dir',
      '--profile',
      '--max-size',
      '--format',
      '--quality',
      '--crop',
      '--concurrency',
      '--json',
    ]) {
      expect(help.stdout).toContain(flag);
    }
    expect(help.stdout).toContain('Examples:');
    // The example form and the default's form agree (was "(e.g. 100MP)" beside "100000000").
    expect(help.stdout.replace(/\s+/g, ' ')).toContain(
      '--max-pixels <n> refuse images with more pixels: 100MP or 100000000 (default: 100MP)',
    );
  });
});
