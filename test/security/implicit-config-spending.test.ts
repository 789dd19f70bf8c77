/**
 * A found (implicit) visionpipe.config.yaml changed what is sent or paid without saying so
 * (issue 12): its `route` replaced -p and --model, its `model`, `maxCostUsd`, `maxAttempts`,
 * `detail` and `concurrency` were applied silently. The announcement now lists each.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkImplicitConfig } from '../../src/config/implicit.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/images.js';

describe('an implicit config announces what it changes in what is sent or paid', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir();
    await sharp({ create: { width: 32, height: 32, channels: 3, background: '#fff' } })
      .png()
      .toFile(path.join(dir, 'scan.png'));
    await writeFile(
      path.join(dir, 'p.json'),
      JSON.stringify({
        name: 'p',
        format: 'json',
        instructions: 'Read it.',
        json_schema: { type: 'object', properties: { total: { type: 'number' } } },
      }),
    );
    await writeFile(
      path.join(dir, 'visionpipe.config.yaml'),
      'provider: local\nmodel: big-model\nmaxCostUsd: 500\nmaxAttempts: 9\ndetail: high\nconcurrency: 3\n',
    );
  });

  it('visionpipe estimate names the file and every such setting on stderr', async () => {
    const result = await runCli(['estimate', 'scan.png', '-p', 'p.json', '--json'], { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    const note = result.stderr.split('\n').find((line) => line.includes('found in the working folder'));
    expect(note, result.stderr).toContain('visionpipe.config.yaml');
    for (const part of [
      'model big-model (from the file)',
      'maxAttempts 9 (from the file)',
      'detail high (from the file)',
    ])
      expect(note).toContain(part);
    // estimate has no spending cap or concurrency: the file's are not applied, so not announced.
    expect(note).not.toContain('maxCostUsd');
  });

  it('a setting given on the command line is not announced as the file’s', async () => {
    const result = await runCli(
      ['estimate', 'scan.png', '-p', 'p.json', '--json', '--model', 'small-model'],
      { cwd: dir },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toContain('model big-model');
    expect(result.stderr).toContain('detail high (from the file)');
  });

  it('a command with a spending cap and concurrency announces the file’s', () => {
    const note = checkImplicitConfig({
      config: { provider: 'local', maxCostUsd: 500, concurrency: 3 },
      file: 'visionpipe.config.yaml',
      baseUrlFlag: undefined,
      providerFlag: undefined,
    });
    expect(note).toContain('maxCostUsd 500 (from the file)');
    expect(note).toContain('concurrency 3 (from the file)');
  });

  it('a route says it replaces -p and --model', () => {
    const note = checkImplicitConfig({
      config: { provider: 'local', route: 'routes.yaml' },
      file: 'visionpipe.config.yaml',
      baseUrlFlag: undefined,
      providerFlag: undefined,
    });
    expect(note).toContain(
      'route routes.yaml (its rules choose the pattern and model, replacing -p and --model)',
    );
  });
});
