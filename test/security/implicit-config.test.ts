/**
 * A config file planted in the working folder (issue 12): announced (file, provider,
 * endpoint), and unable to send the API key and images to its own endpoint unless the file is
 * named (--config) or the endpoint given on the command line (--base-url).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type VisionpipeConfig } from '../../src/config/file.js';
import { checkImplicitConfig, implicitPrices } from '../../src/config/implicit.js';
import { VisionpipeError } from '../../src/errors.js';
import { costUsd, loadPriceTable } from '../../src/providers/pricing.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/images.js';
import {
  type CompatibleServer,
  startCompatibleServer,
  writeSimplePattern,
} from '../support/openai-compatible.js';

describe('checkImplicitConfig', () => {
  const file = '/work/visionpipe.config.yaml';
  it('refuses an endpoint nobody confirmed, naming the file and the endpoint', () => {
    expect(() =>
      checkImplicitConfig({
        config: { provider: 'openai', baseUrl: 'https://u:pw@collector.example/v1' },
        file,
        baseUrlFlag: undefined,
        providerFlag: undefined,
      }),
    ).toThrow(
      /visionpipe\.config\.yaml was found in the working folder and sets the openai endpoint to https:\/\/\[redacted\]@collector\.example\/v1/,
    );
  });

  it('announces the file, provider, endpoint and shared stores', () => {
    const line = checkImplicitConfig({
      config: { provider: 'openai', cache: 'redis://:secretpw@127.0.0.1:6379', limiter: 'memory' },
      file,
      baseUrlFlag: undefined,
      providerFlag: undefined,
      sends: false, // estimate: a found file's cloud provider is refused where images are sent
    });
    expect(line).toContain(file);
    expect(line).toContain('provider openai (from the file)');
    expect(line).toContain('endpoint default');
    expect(line).toContain('cache redis://[redacted]@127.0.0.1:6379');
    expect(line).not.toContain('secretpw');
    expect(line).toContain('limiter memory');
  });

  it('announces where alerts go, where /metrics listens and where files are written', () => {
    const line = checkImplicitConfig({
      config: {
        alertWebhook: ['http://127.0.0.1:9099/T0/abc?token=hooksecret1'],
        metricsHost: '::1',
        logFile: '../../elsewhere/run.log',
        stateDir: '/srv/shared/state',
      },
      file,
      baseUrlFlag: undefined,
      providerFlag: undefined,
    });
    expect(line).toContain('alertWebhook http://127.0.0.1:9099/T0/abc');
    expect(line).not.toContain('hooksecret1');
    expect(line).toContain('metricsHost ::1');
    expect(line).toContain('logFile ../../elsewhere/run.log');
    expect(line).toContain('stateDir /srv/shared/state');
  });

  it('an endpoint given with --base-url wins and is announced as such', () => {
    const line = checkImplicitConfig({
      config: { provider: 'openai', baseUrl: 'https://collector.example/v1' },
      file,
      baseUrlFlag: 'http://127.0.0.1:8080/v1',
      providerFlag: 'openai',
    });
    expect(line).toContain('provider openai,');
    expect(line).toContain('endpoint http://127.0.0.1:8080/v1 (--base-url)');
    expect(line).not.toContain('collector');
  });
});

describe('checkImplicitConfig: settings that send data off this machine', () => {
  const file = '/work/visionpipe.config.yaml';
  const check = (config: VisionpipeConfig, given?: (key: keyof VisionpipeConfig) => boolean) => () =>
    checkImplicitConfig({
      config,
      file,
      baseUrlFlag: undefined,
      providerFlag: undefined,
      ...(given ? { given } : {}),
    });

  it.each([
    ['cache', { cache: 'redis://:pw-000000@cache.example:6379' }, 'cache.example'],
    ['limiter', { limiter: 'rediss://limits.example:6380/2' }, 'limits.example'],
    ['databaseUrl', { databaseUrl: 'postgres://vp:pw-000000@db.example:5432/vp' }, 'db.example'],
    ['databaseUrl', { databaseUrl: 'postgres://vp@/vp?host=db.example' }, 'db.example'],
    ['redisUrl', { redisUrl: 'redis://10.1.2.3:6379' }, '10.1.2.3'],
    [
      'alertWebhook',
      { alertWebhook: ['http://127.0.0.1:9/ok', 'https://hooks.example/T0'] },
      'hooks.example',
    ],
    ['metricsHost', { metricsHost: '0.0.0.0' }, undefined],
    ['metricsHost', { metricsHost: '::' }, undefined],
  ] as Array<[keyof VisionpipeConfig, VisionpipeConfig, string | undefined]>)(
    'refuses %s pointing off this machine, naming the file, the setting and the fix',
    (key, config, host) => {
      let error: unknown;
      try {
        check(config)();
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(VisionpipeError);
      const { code, message } = error as VisionpipeError;
      expect(code).toBe('INVALID_OPTION');
      expect(message).toContain(`${file} was found in the working folder and sets ${key} to`);
      if (host) expect(message).toContain(`data would go to ${host}`);
      else expect(message).toContain('it would serve data to other machines');
      expect(message).toContain('--config FILE or VISIONPIPE_CONFIG=FILE');
      expect(message).not.toContain('pw-000000');
      // Given on the command line (or its environment variable), the file's value is not used.
      expect(check(config, (given) => given === key)).not.toThrow();
    },
  );

  it.each([
    { cache: 'sqlite' },
    { cache: 'off' },
    { cache: 'redis://127.0.0.1:6379' },
    { limiter: 'memory' },
    { limiter: 'redis://localhost:6379/1' },
    { redisUrl: 'redis://[::1]:6379' },
    { databaseUrl: 'postgres://vp@127.0.0.1:5432/vp' },
    { databaseUrl: 'postgres://vp@/vp?host=/run/postgresql' },
    { alertWebhook: ['http://127.0.0.1:9/alert'] },
    { metricsHost: '127.0.0.1' },
    { metricsHost: 'localhost' },
    { logFile: '/var/log/vp.log', stateDir: '/srv/state', publicUrl: 'https://vp.example' },
  ] as VisionpipeConfig[])('lets %j through: it stays on this machine (announced)', (config) => {
    expect(check(config)()).toContain('found in the working folder');
  });
});

describe('visionpipe in a folder whose config points the cache at another host', () => {
  let dir: string;
  let pattern: string;
  beforeAll(async () => {
    dir = await tempDir();
    pattern = await writeSimplePattern(dir);
    await sharp({ create: { width: 40, height: 40, channels: 3, background: '#fff' } })
      .png()
      .toFile(path.join(dir, 'scan.png'));
    await writeFile(
      path.join(dir, 'visionpipe.config.yaml'),
      'provider: local\ncache: redis://:planted-pw-0000@cache.collector.example:6379\n',
    );
  });

  it('stops before connecting: INVALID_OPTION names the file, the setting and the fix', async () => {
    const result = await runCli(['run', 'scan.png', '-p', pattern, '-o', 'out.jsonl', '--no-progress'], {
      cwd: dir,
    });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain('error [INVALID_OPTION]');
    expect(result.stderr).toContain(
      `${path.join(dir, 'visionpipe.config.yaml')} was found in the working folder and sets cache to redis://[redacted]@cache.collector.example:6379`,
    );
    expect(result.stderr).toContain('--config FILE or VISIONPIPE_CONFIG=FILE');
    expect(result.stderr).not.toContain('planted-pw');
    await expect(readFile(path.join(dir, 'out.jsonl'))).rejects.toThrow();
  });

  it('runs when the command line gives the cache itself (--cache wins over the file)', async () => {
    const result = await runCli(
      ['run', 'scan.png', '-p', pattern, '-o', 'own.jsonl', '--cache', 'off', '--no-progress'],
      { cwd: dir },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('found in the working folder');
    expect(result.stderr).not.toContain('cache.collector.example');
  });

  it('the service commands apply the same rule (worker with a planted databaseUrl)', async () => {
    const other = await tempDir();
    await writeFile(
      path.join(other, 'visionpipe.config.yaml'),
      'databaseUrl: postgres://vp@db.collector.example/vp\n',
    );
    const result = await runCli(['migrate'], { cwd: other, env: { DATABASE_URL: '' } });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain('sets databaseUrl to postgres://[redacted]@db.collector.example/vp');
  });

  it('serve: a planted model profile endpoint or a public listen address stops it; run ignores them', async () => {
    const other = await tempDir();
    const config = path.join(other, 'visionpipe.config.yaml');
    const env = { DATABASE_URL: 'postgres://vp@127.0.0.1:1/none', REDIS_URL: 'redis://127.0.0.1:1' };
    await writeFile(
      config,
      'modelProfiles:\n  cheap:\n    id: openai\n    model: gpt-4o-mini\n    baseUrl: https://u:pw-000000@collector.example/v1\n',
    );
    const profile = await runCli(['serve', '--workers', '0'], { cwd: other, env });
    expect(profile.code, profile.stderr).toBe(2);
    expect(profile.stderr).toContain(
      `${config} was found in the working folder and sets modelProfiles.cheap.baseUrl to https://[redacted]@collector.example/v1`,
    );
    expect(profile.stderr).toContain('--model-profiles');
    expect(profile.stderr).not.toContain('pw-000000');

    await writeFile(config, 'host: 0.0.0.0\n');
    const open = await runCli(['serve', '--workers', '0'], { cwd: other, env });
    expect(open.code, open.stderr).toBe(2);
    expect(open.stderr).toContain(`${config} was found in the working folder and sets host to 0.0.0.0`);

    // run has no listen address: the same file is announced, not refused.
    const pattern = await writeSimplePattern(other);
    await sharp({ create: { width: 40, height: 40, channels: 3, background: '#fff' } })
      .png()
      .toFile(path.join(other, 'scan.png'));
    const run = await runCli(
      ['run', 'scan.png', '-p', pattern, '-o', 'out.jsonl', '--cache', 'off', '--no-progress'],
      {
        cwd: other,
      },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('host 0.0.0.0');
  });
});

describe('visionpipe run in a folder with a planted config', () => {
  let collector: CompatibleServer;
  let dir: string;
  let pattern: string;
  beforeAll(async () => {
    collector = await startCompatibleServer('{"vendor_name": "X", "total": 1}');
    dir = await tempDir();
    pattern = await writeSimplePattern(dir);
    await sharp({ create: { width: 40, height: 40, channels: 3, background: '#fff' } })
      .png()
      .toFile(path.join(dir, 'scan.png'));
    await writeFile(
      path.join(dir, 'visionpipe.config.yaml'),
      `provider: openai\nmodel: gpt-4.1-mini\nbaseUrl: ${collector.baseUrl}\ncache: off\n`,
    );
  });
  afterAll(() => collector.close());

  const env = { OPENAI_API_KEY: 'sk-user-own-key-000000000' };

  it('stops before the key or an image leaves the machine', async () => {
    const result = await runCli(['run', 'scan.png', '-p', pattern, '-o', 'out.jsonl', '--no-progress'], {
      cwd: dir,
      env,
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('error [INVALID_OPTION]');
    expect(result.stderr).toContain('visionpipe.config.yaml was found in the working folder');
    expect(result.stderr).toContain(collector.baseUrl);
    expect(collector.calls).toHaveLength(0);
    await expect(readFile(path.join(dir, 'out.jsonl'))).rejects.toThrow();
  });

  it('runs when the file is named with --config', async () => {
    const result = await runCli(
      [
        'run',
        'scan.png',
        '-p',
        pattern,
        '-o',
        'named.jsonl',
        '--config',
        'visionpipe.config.yaml',
        '--no-progress',
      ],
      { cwd: dir, env },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toContain('found in the working folder');
    expect(collector.calls).toHaveLength(1);
  });

  it('announces an implicit config that sets no endpoint', async () => {
    const other = await tempDir();
    await writeFile(path.join(other, 'visionpipe.config.yaml'), 'provider: local\nconcurrency: 2\n');
    const result = await runCli(['estimate', path.join(dir, 'scan.png'), '-p', pattern, '--json'], {
      cwd: other,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(
      /note: using .*visionpipe\.config\.yaml, found in the working folder.*provider local \(from the file\), endpoint default/,
    );
  });

  it('is not searched for in parent folders: a subfolder neither uses nor announces it', async () => {
    // Only the working folder is looked in, so the key-to-endpoint rule has one place to hold.
    const child = path.join(dir, 'sub', 'deeper');
    await mkdir(child, { recursive: true });
    expect(await loadConfig(undefined, child)).toEqual({ config: {}, file: undefined });
    expect((await loadConfig(undefined, dir)).file).toBe(path.join(dir, 'visionpipe.config.yaml'));
    const before = collector.calls.length;
    const result = await runCli(['estimate', path.join(dir, 'scan.png'), '-p', pattern, '--json'], {
      cwd: child,
      env,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toContain('visionpipe.config.yaml');
    expect(collector.calls).toHaveLength(before);
  });
});

describe('prices in a config found implicitly cannot lower the budget guard', () => {
  it('keeps entries at or above the built-in table, drops lower, unknown and mode-changing ones', () => {
    const { overrides, used, ignored } = implicitPrices({
      openai: {
        source: 'team sheet',
        batchDiscount: 0.9,
        models: {
          'gpt-4o': { input: 0, output: 0 },
          'gpt-4o-mini': { input: 0.15, output: 0.7 },
          'gpt-4.1-mini': { input: 0.5 },
          'gpt-4.1-mini-2025-04-14': { output: 1.5 },
          'gpt-4.1': { perImage: 0.00001 },
          'brand-new-model': { input: 0.000001, output: 0.000001 },
        },
      },
      anthropic: { batchDiscount: 0.25 },
      imggo: { models: { 'managed-default': { perImage: 0 } } },
      gemini: { models: { 'gemini-2.5-flash': { input: 0.3, output: 2.5 } } },
    });
    expect(used.sort()).toEqual(
      [
        'anthropic batchDiscount',
        'gemini/gemini-2.5-flash',
        'openai/gpt-4.1-mini',
        'openai/gpt-4o-mini',
      ].sort(),
    );
    expect(ignored.sort()).toEqual(
      [
        'imggo/managed-default', // unknown built-in price: a planted figure is not used
        'openai batchDiscount', // 0.9 off is cheaper than the built-in 0.5
        'openai/brand-new-model', // not in the built-in table
        'openai/gpt-4.1', // per-image instead of per-token: not comparable
        'openai/gpt-4.1-mini-2025-04-14', // output below the built-in snapshot's price
        'openai/gpt-4o', // free
      ].sort(),
    );
    expect(overrides.openai).toEqual({
      source: 'team sheet',
      models: { 'gpt-4o-mini': { input: 0.15, output: 0.7 }, 'gpt-4.1-mini': { input: 0.5 } },
    });
    const table = loadPriceTable(overrides);
    const usage = { input_tokens: 1_000_000, output_tokens: 0, image_tokens: 0, estimated: false };
    expect(costUsd('openai', 'gpt-4o', usage, { table })).toBe(2.5);
    expect(costUsd('openai', 'gpt-4.1-mini', usage, { table })).toBe(0.5);
    expect(costUsd('openai', 'brand-new-model', usage, { table })).toBeNull();
    expect(costUsd('openai', 'gpt-4o', usage, { table, batch: true })).toBe(1.25);
  });

  it('a price table that is not one is still INVALID_OPTION', () => {
    expect(() => implicitPrices({ openai: { models: { 'gpt-4o': { input: -1 } } } })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION' }),
    );
  });

  it('the announcement lists the prices used and the ones that are not', () => {
    const line = checkImplicitConfig({
      config: {
        prices: {
          openai: { models: { 'gpt-4o': { input: 0, output: 0 }, 'gpt-4o-mini': { input: 1, output: 1 } } },
        },
      },
      file: '/work/visionpipe.config.yaml',
      baseUrlFlag: undefined,
      providerFlag: undefined,
    });
    expect(line).toContain('prices openai/gpt-4o-mini (not below the built-in table)');
    expect(line).toContain('prices NOT used: openai/gpt-4o (below the built-in table or not in it;');
    expect(line).toContain('name the file with --config to use them');
  });

  describe('visionpipe run with a planted free price and --max-cost-usd', () => {
    let server: CompatibleServer;
    let dir: string;
    let pattern: string;
    beforeAll(async () => {
      // 1 000 prompt tokens a call: $0.0004 at gpt-4.1-mini's built-in $0.40 per million.
      server = await startCompatibleServer('{"vendor_name": "X", "total": 1}');
      dir = await tempDir();
      pattern = await writeSimplePattern(dir);
      await mkdir(path.join(dir, 'images'));
      for (let i = 0; i < 6; i++)
        await sharp({
          create: { width: 40, height: 40, channels: 3, background: { r: i * 30, g: 90, b: 9 } },
        })
          .png()
          .toFile(path.join(dir, 'images', `scan-${i}.png`));
      await writeFile(
        path.join(dir, 'visionpipe.config.yaml'),
        'prices:\n  openai:\n    models:\n      gpt-4.1-mini: { input: 0, output: 0 }\n',
      );
    });
    afterAll(() => server.close());

    const args = (out: string, ...more: string[]) => [
      'run',
      'images',
      '-p',
      pattern,
      '-o',
      out,
      '--provider',
      'openai',
      '--model',
      'gpt-4.1-mini',
      '--base-url',
      server.baseUrl,
      '--cache',
      'off',
      '--concurrency',
      '1',
      '--max-cost-usd',
      '0.001',
      '--no-progress',
      ...more,
    ];
    const env = { OPENAI_API_KEY: 'sk-user-own-key-000000000' };
    const records = async (file: string) =>
      (await readFile(path.join(dir, file), 'utf8'))
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { cost_usd: number | null });

    it('found in the working folder: announced, not used, and the budget still stops the run', async () => {
      const result = await runCli(args('found.jsonl'), { cwd: dir, env });
      expect(result.stderr).toContain('prices NOT used: openai/gpt-4.1-mini');
      expect(result.code, result.stderr).toBe(4);
      const done = await records('found.jsonl');
      expect(done.length).toBeLessThan(6);
      for (const record of done) expect(record.cost_usd).toBeGreaterThan(0);
    });

    it('named with --config: the team price is used (the user chose the file)', async () => {
      const result = await runCli(args('named.jsonl', '--config', 'visionpipe.config.yaml'), {
        cwd: dir,
        env,
      });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).not.toContain('found in the working folder');
      const done = await records('named.jsonl');
      expect(done).toHaveLength(6);
      for (const record of done) expect(record.cost_usd).toBe(0);
    });
  });
});
