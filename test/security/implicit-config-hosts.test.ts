/**
 * Database and Redis URLs in an implicit config (issue 12, second trial): the check read the
 * first `host=` query parameter while node-postgres uses the last, so
 * `postgres://u:pw@localhost/vp?host=/tmp&host=evil.example` was announced as local and
 * connected out. Every host a URL names must now be local, a host given twice is never
 * trusted, and PostgreSQL URLs are also read by node-postgres's own parser.
 */
import { describe, expect, it } from 'vitest';
import { remoteHostOf } from '../../src/config/implicit.js';

describe('PostgreSQL URLs: the host node-postgres connects to', () => {
  it.each([
    [
      'postgres://u:pw@localhost/vp?host=/tmp&host=evil.example',
      '/tmp, evil.example (host given more than once)',
    ],
    [
      'postgres://u:pw@localhost/vp?host=evil.example&host=/tmp',
      'evil.example, /tmp (host given more than once)',
    ],
    ['postgres://u:pw@localhost/vp?host=evil.example', 'evil.example'],
    ['postgres://u:pw@evil.example/vp?host=/tmp', 'evil.example'],
    ['postgres://u:pw@localhost/vp?hostaddr=203.0.113.9', '203.0.113.9'],
    ['postgresql://u@localhost,evil.example/vp', 'evil.example'],
    ['socket://u:pw@evil.example/run/postgresql?db=vp', 'evil.example'],
  ])('%s is not local', (url, host) => {
    expect(remoteHostOf('url', url)).toBe(host);
  });

  it.each([
    'postgres://u:pw@localhost/vp',
    'postgres://u:pw@127.0.0.1:5432/vp',
    'postgres://u@/vp?host=/run/postgresql',
    'postgres://u@%2Frun%2Fpostgresql/vp',
    'postgres://u:pw@localhost/vp?host=127.0.0.1',
  ])('%s is local', (url) => {
    expect(remoteHostOf('url', url)).toBeUndefined();
  });
});

describe('Redis URLs: the same rule', () => {
  it.each([
    // ioredis: the authority wins over a query host, which the old check believed.
    ['redis://evil.example:6379?host=localhost', 'evil.example'],
    // ioredis: an empty authority takes the (last) query host.
    ['redis://:pw@/0?host=evil.example', 'evil.example'],
    [
      'redis://localhost?host=127.0.0.1&host=evil.example',
      '127.0.0.1, evil.example (host given more than once)',
    ],
  ])('%s is not local', (url, host) => {
    expect(remoteHostOf('store', url)).toBe(host);
    expect(remoteHostOf('url', url)).toBe(host);
  });

  it.each(['redis://127.0.0.1:6379/0', 'redis://:pw@localhost', 'rediss://[::1]:6380'])(
    '%s is local',
    (url) => {
      expect(remoteHostOf('url', url)).toBeUndefined();
    },
  );
});
