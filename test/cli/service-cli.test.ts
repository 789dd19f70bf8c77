/**
 * The service's commands as users run them: keys shown once and stored hashed, listed
 * and revoked; migrations idempotent; every command documented with examples; settings
 * from flags, the environment or the config file, and bad ones named before anything
 * starts (exit 2).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { startServer } from '../support/http.js';
import { tempDir } from '../support/images.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

let database: TestDatabase;
let env: Record<string, string>;

beforeAll(async () => {
  database = await createTestDatabase('cli');
  env = { DATABASE_URL: database.url };
});

afterAll(async () => {
  await database?.drop();
});

describe('migrate', () => {
  it('applies the schema once, then says it is up to date', async () => {
    const first = await runCli(['migrate', '--json'], { env });
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({
      applied: [
        '0001-initial',
        '0002-pattern-snapshots',
        '0003-job-documents',
        '0004-webhook-replays',
        '0005-job-work',
        '0006-job-queue-prefix',
      ],
      current: [
        '0001-initial',
        '0002-pattern-snapshots',
        '0003-job-documents',
        '0004-webhook-replays',
        '0005-job-work',
        '0006-job-queue-prefix',
      ],
    });
    const again = await runCli(['migrate'], { env });
    expect(again.stdout).toBe(
      'the database is up to date (0001-initial, 0002-pattern-snapshots, 0003-job-documents, 0004-webhook-replays, 0005-job-work, 0006-job-queue-prefix)\n',
    );
  });
});

describe('keys', () => {
  it('creates a key shown once, lists it without the key, revokes it by prefix', async () => {
    const created = await runCli(['keys', 'create', '--name', 'ci', '--scopes', 'patterns:read,jobs:read'], {
      env,
    });
    expect(created.code, created.stderr).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^vpk_[A-Za-z0-9_-]{40}$/);
    expect(created.stderr).toMatch(/store it now, it is not shown again/);

    const listed = await runCli(['keys', 'list', '--json'], { env });
    const keys = JSON.parse(listed.stdout) as Array<{ key_prefix: string; scopes: string[] }>;
    expect(listed.stdout).not.toContain(key);
    const mine = keys.find((k) => key.startsWith(k.key_prefix))!;
    expect(mine.scopes).toEqual(['patterns:read', 'jobs:read']);

    const revoked = await runCli(['keys', 'revoke', mine.key_prefix], { env });
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toMatch(/^revoked vpk_/);
    expect((await runCli(['keys', 'list'], { env })).stdout).toMatch(
      /ci {2}revoked {2}patterns:read,jobs:read/,
    );
    const twice = await runCli(['keys', 'revoke', mine.key_prefix], { env });
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain('no active API key');
  });

  it("gives ImgGo's default scopes without --scopes, and JSON with --json", async () => {
    const created = await runCli(['keys', 'create', '--name', 'defaults', '--json', '--expires', '30d'], {
      env,
    });
    const record = JSON.parse(created.stdout) as { key: string; scopes: string[]; expires_at: string };
    expect(record.scopes).toEqual(['patterns:read', 'patterns:ingest', 'jobs:read']);
    expect(new Date(record.expires_at).getTime()).toBeGreaterThan(Date.now() + 29 * 86_400_000);
  });

  it('refuses an unknown scope, naming it (exit 2)', async () => {
    const bad = await runCli(['keys', 'create', '--name', 'x', '--scopes', 'patterns:read,jobs:write'], {
      env,
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('"jobs:write" is not a scope');
  });

  it('takes the database from the config file when neither flag nor environment sets it', async () => {
    const dir = await tempDir('service-config');
    await writeFile(path.join(dir, 'visionpipe.config.yaml'), `databaseUrl: ${database.url}\n`);
    await runCli(['keys', 'create', '--name', 'via-config'], { env });
    const saved = process.env.DATABASE_URL;
    delete process.env.DATABASE_URL;
    const listed = await runCli(['keys', 'list', '--json'], { cwd: dir }).finally(() => {
      if (saved !== undefined) process.env.DATABASE_URL = saved;
    });
    expect(listed.code, listed.stderr).toBe(0);
    expect((JSON.parse(listed.stdout) as Array<{ name: string }>).map((k) => k.name)).toContain('via-config');
  });

  it('an empty DATABASE_URL is unset: the config file fills it', async () => {
    const dir = await tempDir('service-config-empty');
    await writeFile(path.join(dir, 'visionpipe.config.yaml'), `databaseUrl: ${database.url}\n`);
    const listed = await runCli(['keys', 'list', '--json'], { cwd: dir, env: { DATABASE_URL: '' } });
    expect(listed.code, listed.stderr).toBe(0);
  });
});

describe('settings are checked before anything starts', () => {
  const cases: Array<[string, string[], Record<string, string>, RegExp]> = [
    [
      'no database',
      ['keys', 'list'],
      { DATABASE_URL: '' },
      /no database URL: set DATABASE_URL or --database-url/,
    ],
    [
      'a database URL of the wrong form',
      ['migrate', '--database-url', 'mysql://root:hunter2@db/x'],
      {},
      /database URL "mysql:\/\/\[redacted\]@db\/x" is not a postgres:/,
    ],
    [
      'an unreachable database',
      ['migrate', '--database-url', 'postgres://postgres@127.0.0.1:1/none'],
      {},
      /database postgres:\/\/\[redacted\]@127\.0\.0\.1:1\/none is not reachable/,
    ],
    ['no Redis for serve', ['serve'], { REDIS_URL: '' }, /no Redis URL: set REDIS_URL or --redis-url/],
    [
      'a bad rate limit',
      ['serve', '--rate-limit', 'lots'],
      { REDIS_URL: 'redis://127.0.0.1:6379' },
      /--rate-limit "lots"/,
    ],
    [
      'an unreachable Redis for worker',
      ['worker', '--redis-url', 'redis://127.0.0.1:1'],
      {},
      /Redis redis:\/\/127\.0\.0\.1:1 is not reachable/,
    ],
    [
      'a bad webhook schedule',
      ['worker', '--webhook-retries', '5s,soon'],
      { REDIS_URL: 'redis://127.0.0.1:6379' },
      /--webhook-retries "soon" is not a duration/,
    ],
    ...(['0', '1ms', '10d'] as const).map((value): [string, string[], Record<string, string>, RegExp] => [
      `a webhook timeout of ${value}`,
      ['worker', '--webhook-timeout', value],
      { REDIS_URL: 'redis://127.0.0.1:6379' },
      /--webhook-timeout \S+: must be between 1s and 1m/,
    ]),
    ...(['0s', '5s,1ms', '8d'] as const).map((value): [string, string[], Record<string, string>, RegExp] => [
      `a webhook retry wait of ${value}`,
      ['serve', '--webhook-retries', value],
      { REDIS_URL: 'redis://127.0.0.1:6379' },
      /--webhook-retries "\S+": each wait must be between 1s and 7d/,
    ]),
    [
      'a bad queue prefix',
      ['worker', '--queue-prefix', 'a:b'],
      { REDIS_URL: 'redis://127.0.0.1:6379' },
      /queuePrefix/,
    ],
    [
      'a public URL that is not http(s)',
      ['serve', '--public-url', 'notaurl'],
      { REDIS_URL: 'redis://127.0.0.1:6379' },
      /--public-url "notaurl" must be an http\(s\) URL/,
    ],
    [
      'a public URL that already ends in /api',
      ['serve', '--public-url', 'https://vision.example.com/api'],
      { REDIS_URL: 'redis://127.0.0.1:6379' },
      /--public-url "https:\/\/vision\.example\.com\/api" must be the URL the API's \/api is under, without \/api/,
    ],
    [
      'a host that is not an address of this machine (TEST-NET-1)',
      ['serve', '--workers', '0', '--host', '192.0.2.1', '--port', '0'],
      { REDIS_URL: 'redis://127.0.0.1:6379', VISIONPIPE_QUEUE_PREFIX: `vps-host-${process.pid}` },
      /--host 192\.0\.2\.1: 192\.0\.2\.1:0 is not an address of this machine/,
    ],
  ];
  for (const [name, args, extra, message] of cases) {
    it(name, async () => {
      const result = await runCli(args, { env: { ...env, ...extra }, timeoutMs: 60_000 });
      expect(result.code, result.stdout).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toContain('hunter2');
    });
  }
});

describe('the listening address', () => {
  it('a port another process holds is a usage error naming --port (exit 2), not an internal failure', async () => {
    const holder = await startServer((_req, res) => res.end());
    try {
      const port = new URL(holder.url).port;
      const result = await runCli(['serve', '--workers', '0', '--port', port], {
        env: {
          ...env,
          REDIS_URL: 'redis://127.0.0.1:6379',
          VISIONPIPE_QUEUE_PREFIX: `vps-port-${process.pid}`,
        },
        timeoutMs: 60_000,
      });
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toMatch(new RegExp(`--port ${port}: 127\\.0\\.0\\.1:${port} is already in use`));
    } finally {
      await holder.close();
    }
  });
});

describe('--help', () => {
  for (const command of [
    ['serve'],
    ['worker'],
    ['keys'],
    ['keys', 'create'],
    ['keys', 'list'],
    ['keys', 'revoke'],
    ['migrate'],
  ]) {
    it(`visionpipe ${command.join(' ')} --help shows examples`, async () => {
      const help = await runCli([...command, '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain('Examples:');
      expect(help.stdout).toContain(`$ visionpipe ${command[0]}`);
    });
  }
});
