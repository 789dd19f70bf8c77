/**
 * A planted config (issue 12, second and third trials) with `triage: anthropic:…`,
 * `escalateTo: openai:…`, its own `provider: openai` or a `route:` file whose rules name a
 * cloud provider sent images to that provider while the command line asked for nothing but
 * the local engine. Now every one of them is announced, and a run the command line left local
 * refuses them unless confirmed (the file named, or the setting given by a flag).
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkImplicitConfig } from '../../src/config/implicit.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/images.js';
import {
  type CompatibleServer,
  startCompatibleServer,
  writeSimplePattern,
} from '../support/openai-compatible.js';

const check = (
  config: Record<string, unknown>,
  given: (key: string) => boolean = () => false,
  more: { providerFlag?: string; sends?: boolean; routeProviders?: string[] } = {},
) =>
  checkImplicitConfig({
    config,
    file: 'visionpipe.config.yaml',
    baseUrlFlag: undefined,
    providerFlag: more.providerFlag,
    given,
    ...(more.sends === undefined ? {} : { sends: more.sends }),
    ...(more.routeProviders === undefined ? {} : { routeProviders: more.routeProviders }),
  });

describe('cloud providers in an implicit config', () => {
  it.each([
    ['triage', 'anthropic:claude-3-5-haiku-latest', 'anthropic'],
    ['escalateTo', 'openai:gpt-4o', 'openai'],
    ['provider', 'openai', 'openai'],
  ])('%s naming a cloud provider stops a local run', (key, value, target) => {
    expect(() => check({ [key]: value })).toThrow(
      `sets ${key} to ${value}: the run is local, but images would go to ${target}`,
    );
  });

  it('route rules naming a cloud provider stop a local run, naming the routes file and the provider', () => {
    expect(() =>
      check({ route: '/w/routes.yaml' }, undefined, { routeProviders: ['local', 'gemini'] }),
    ).toThrow(
      'sets route to /w/routes.yaml (a rule uses provider gemini): the run is local, but images would go to gemini',
    );
    expect(check({ route: '/w/routes.yaml' }, undefined, { routeProviders: ['local'] })).toContain(
      'route /w/routes.yaml',
    );
  });

  it('confirmed on the command line, chosen by --provider, local, or estimate: used and announced', () => {
    expect(check({ triage: 'local' })).toContain('triage local');
    const line = check(
      { provider: 'openai', triage: 'openai:gpt-4o-mini', escalateTo: 'anthropic:claude' },
      undefined,
      { providerFlag: 'openai' },
    );
    expect(line).toContain('triage openai:gpt-4o-mini');
    expect(line).toContain('escalateTo anthropic:claude');
    expect(() => check({ escalateTo: 'openai:gpt-4o' }, (key) => key === 'escalateTo')).not.toThrow();
    expect(() =>
      check({ route: 'r.yaml' }, (key) => key === 'route', { routeProviders: ['openai'] }),
    ).not.toThrow();
    expect(check({ provider: 'openai' }, undefined, { sends: false })).toContain(
      'provider openai (from the file)',
    );
    // --provider local on the command line is still a local run.
    expect(() => check({ triage: 'openai:gpt-4o' }, undefined, { providerFlag: 'local' })).toThrow(
      'images would go to openai',
    );
  });
});

describe('visionpipe run in a folder whose config routes images to a cloud provider', () => {
  let server: CompatibleServer;
  let dir: string;
  let pattern: string;
  beforeAll(async () => {
    server = await startCompatibleServer('{"vendor_name": "X", "total": 1}');
    dir = await tempDir();
    pattern = await writeSimplePattern(dir);
    await sharp({ create: { width: 40, height: 40, channels: 3, background: '#fff' } })
      .png()
      .toFile(path.join(dir, 'scan.png'));
    await writeFile(
      path.join(dir, 'routes.yaml'),
      `routes:\n  - when: { path: "*.png" }\n    use: { provider: openai, model: gpt-4.1-mini }\n`,
    );
    await writeFile(path.join(dir, 'visionpipe.config.yaml'), 'route: routes.yaml\ncache: off\n');
  });
  afterAll(() => server.close());

  it('stops before any image leaves: INVALID_OPTION names the file, route and provider', async () => {
    const result = await runCli(['run', 'scan.png', '-p', pattern, '-o', 'out.jsonl', '--no-progress'], {
      cwd: dir,
      env: { OPENAI_API_KEY: 'sk-user-own-key-000000000' },
    });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(
      /error \[INVALID_OPTION\]: .*visionpipe\.config\.yaml was found in the working folder and sets route to .*routes\.yaml \(a rule uses provider openai\)/,
    );
    expect(server.calls).toHaveLength(0);
    await expect(readFile(path.join(dir, 'out.jsonl'))).rejects.toThrow();
  });

  it('a planted provider: openai stops a local run too; --provider openai confirms it', async () => {
    const other = await tempDir();
    const otherPattern = await writeSimplePattern(other);
    await writeFile(path.join(other, 'visionpipe.config.yaml'), 'provider: openai\ncache: off\n');
    const stopped = await runCli(
      ['run', path.join(dir, 'scan.png'), '-p', otherPattern, '-o', 'out.jsonl', '--no-progress'],
      { cwd: other, env: { OPENAI_API_KEY: 'sk-user-own-key-000000000' } },
    );
    expect(stopped.code, stopped.stderr).toBe(2);
    expect(stopped.stderr).toContain('sets provider to openai: the run is local');
    expect(server.calls).toHaveLength(0);
    const confirmed = await runCli(
      [
        'run',
        path.join(dir, 'scan.png'),
        '-p',
        otherPattern,
        '-o',
        'out.jsonl',
        '--no-progress',
        '--provider',
        'openai',
        '--base-url',
        server.baseUrl,
      ],
      { cwd: other, env: { OPENAI_API_KEY: 'sk-user-own-key-000000000' } },
    );
    expect(confirmed.code, confirmed.stderr).toBe(0);
    expect(server.calls).toHaveLength(1);
  });
});
