import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { INIT_CONFIG_FILE, INIT_PATTERN_FILE } from '../../src/cli/init-files.js';
import { loadConfig } from '../../src/config/file.js';
import { loadPattern } from '../../src/patterns/index.js';
import type { RunRecord } from '../../src/pipeline/record.js';
import { ROOT, runCli } from '../support/cli.js';
import { tempDir } from '../support/images.js';

const SAMPLE = path.join(ROOT, 'samples/images/receipt-002.png');

describe('visionpipe init', () => {
  it('writes a config and a pattern that validate, and run works with them offline right away', async () => {
    const dir = await tempDir('visionpipe-init-');
    const init = await runCli(['init'], { cwd: dir });
    expect(init.code).toBe(0);
    expect(init.stdout).toContain(`wrote ${INIT_CONFIG_FILE}`);
    expect(init.stdout).toContain(`wrote ${INIT_PATTERN_FILE}`);
    const { config, file } = await loadConfig(undefined, dir);
    expect(file).toBe(path.join(dir, INIT_CONFIG_FILE));
    expect(config).toMatchObject({ provider: 'local', cache: 'sqlite', cacheTtl: 24 * 3600 * 1000 });
    const pattern = await loadPattern(path.join(dir, INIT_PATTERN_FILE));
    expect(Object.keys(pattern.schema.properties)).toEqual(['merchant_name', 'date', 'total_amount']);

    const check = await runCli(['pattern', 'check', INIT_PATTERN_FILE], { cwd: dir });
    expect(check.code).toBe(0);

    const run = await runCli(['run', SAMPLE, '--pattern', INIT_PATTERN_FILE, '--json', '--no-progress'], {
      cwd: dir,
      env: { OPENAI_API_KEY: '', ANTHROPIC_API_KEY: '', GEMINI_API_KEY: '' },
    });
    expect(run.stderr).toContain(`note: using ${path.join(dir, INIT_CONFIG_FILE)}`);
    expect(run.code).toBe(0);
    const [record] = (await readFile(path.join(dir, 'results.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as RunRecord);
    expect(record).toMatchObject({ status: 'ok', provider: 'local' });
    // The config's state folder is used: the cache lives under the project.
    const stats = await runCli(['cache', 'stats', '--json'], { cwd: dir });
    expect(JSON.parse(stats.stdout)).toMatchObject({ results: { entries: 1 } });
  }, 120_000);

  it('refuses to overwrite without --force, writing nothing; --force replaces', async () => {
    const dir = await tempDir('visionpipe-init-');
    await writeFile(path.join(dir, INIT_CONFIG_FILE), 'provider: openai\n');
    const refused = await runCli(['init'], { cwd: dir });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /error \[INVALID_OPTION\]: visionpipe\.config\.yaml already exists .*--force/,
    );
    expect(await readFile(path.join(dir, INIT_CONFIG_FILE), 'utf8')).toBe('provider: openai\n');
    await expect(readFile(path.join(dir, INIT_PATTERN_FILE))).rejects.toThrow(/ENOENT/);

    const forced = await runCli(['init', '--force'], { cwd: dir });
    expect(forced.code).toBe(0);
    expect(await readFile(path.join(dir, INIT_CONFIG_FILE), 'utf8')).toContain('provider: local');
  });

  it('--dir writes into another folder; --help has examples', async () => {
    const dir = await tempDir('visionpipe-init-');
    const result = await runCli(['init', '--dir', 'project'], { cwd: dir });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('cd project');
    await expect(readFile(path.join(dir, 'project', INIT_PATTERN_FILE), 'utf8')).resolves.toContain(
      'yaml_schema',
    );
    const help = await runCli(['init', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Examples:');
    expect(help.stdout).toContain('$ visionpipe init --force');
  });
});
