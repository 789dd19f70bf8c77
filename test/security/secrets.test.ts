/**
 * Secrets (issue 12): API keys of every provider's real shape, Authorization headers and
 * credentials in URLs never reach a record, a cache, a log, an error or a summary, whoever
 * echoes them (a gateway's refusal, a non-JSON answer, a value in the output).
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { VisionpipeError } from '../../src/errors.js';
import {
  ENV_RESCAN_MS,
  knownSecrets,
  REDACTED,
  redactDeep,
  redactSecrets,
  redactUrl,
  registerSecret,
  rescanEnvironmentSecrets,
  urlHasCredentials,
} from '../../src/secrets.js';
import { runCli } from '../support/cli.js';
import { startServer, type TestServer } from '../support/http.js';
import { tempDir } from '../support/images.js';
import {
  type CompatibleServer,
  startCompatibleServer,
  writeSimplePattern,
} from '../support/openai-compatible.js';

/** Keys as each provider issues them (made-up values of the real length and alphabet). */
const KEYS = {
  openai: `sk-proj-${'Ab1'.repeat(32)}`,
  anthropic: `sk-ant-api03-${'x9Y'.repeat(30)}-AA`,
  gemini: `AIzaSy${'B7c'.repeat(11)}d0`,
  imggo: `imggo_live_${'k3'.repeat(16)}`,
  aws: 'AKIAIOSFODNN7EXAMPLE',
  github: `ghp_${'z'.repeat(36)}`,
  jwt: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
} as const;
/** An Azure OpenAI key: 32 hex digits, no recognisable shape. Only known secrets hide it. */
const AZURE_KEY = '3f9c1e7a5b2d4c6e8f0a1b2c3d4e5f60';

describe('redactSecrets: shapes', () => {
  it.each(Object.entries(KEYS))('hides a %s key anywhere in a text', (_name, key) => {
    const out = redactSecrets(`refused: ${key} is not valid`);
    expect(out).not.toContain(key);
    expect(out).toContain(REDACTED);
    expect(out.startsWith('refused: ')).toBe(true);
    expect(out.endsWith(' is not valid')).toBe(true);
  });

  it.each([
    ['Authorization: Bearer abc.def.ghi', 'abc.def.ghi'],
    ['authorization: Basic dXNlcjpwYXNzd29yZA==', 'dXNlcjpwYXNzd29yZA=='],
    ['{"x-api-key": "plain-gateway-key-123"}', 'plain-gateway-key-123'],
    ['api-key=azure-like-value-999', 'azure-like-value-999'],
    ['x-goog-api-key: goog-value-777', 'goog-value-777'],
    ['Cookie: session=abcdef123456', 'abcdef123456'],
  ])('hides the value of a credential header in %s', (text, value) => {
    expect(redactSecrets(text)).not.toContain(value);
  });

  it.each([
    ['http://user:hunter2pass@host/scan.png', 'hunter2pass'],
    ['https://user@host/scan.png', 'user@'],
    ['https://host/scan.png?token=t0ps3cr3t&w=1', 't0ps3cr3t'],
    ['https://host/scan.png?w=1&api_key=k3yk3y', 'k3yk3y'],
    ['https://bucket.s3.amazonaws.com/x.png?X-Amz-Signature=abc123sig&X-Amz-Credential=cred99', 'abc123sig'],
    ['https://bucket.s3.amazonaws.com/x.png?X-Amz-Signature=abc123sig&X-Amz-Credential=cred99', 'cred99'],
    ['https://storage.googleapis.com/x.png?X-Goog-Signature=goog5ig', 'goog5ig'],
    ['https://host/x.png?sig=sasSig%3D', 'sasSig'],
    ['https://host/x.png?%6Bey=encodedname', 'encodedname'],
  ])('hides URL credentials in %s', (url, secret) => {
    expect(redactUrl(url)).not.toContain(secret);
    expect(redactSecrets(`fetching ${url} failed`)).not.toContain(secret);
  });

  it('keeps what is not a secret', () => {
    const text = 'https://host/scan.png?w=1&page=2 total 12.50 sk vendor ACME key: value';
    expect(redactSecrets(text)).toBe(text);
    expect(redactUrl('https://host/a.png?width=100')).toBe('https://host/a.png?width=100');
  });

  it('urlHasCredentials names URLs that must never be forwarded', () => {
    expect(urlHasCredentials('http://u:p@h/x.png')).toBe(true);
    expect(urlHasCredentials('http://u@h/x.png')).toBe(true);
    expect(urlHasCredentials('http://h/x.png?Token=1')).toBe(true);
    expect(urlHasCredentials('http://h/x.png?w=1')).toBe(false);
    expect(urlHasCredentials('not a url')).toBe(false);
  });
});

describe('redactSecrets: keys known by value', () => {
  it('hides an Azure-style key only because it is known (no shape matches it)', () => {
    const text = `gateway: key ${AZURE_KEY} refused`;
    expect(redactSecrets(text, [])).toContain(AZURE_KEY); // nothing shaped like a key
    expect(redactSecrets(text, [AZURE_KEY])).not.toContain(AZURE_KEY);
  });

  it('the environment keys are known: *_API_KEY, *_TOKEN, *_SECRET, *_PASSWORD', () => {
    const env = {
      AZURE_OPENAI_API_KEY: AZURE_KEY,
      SOME_TOKEN: 'tok-1234567890',
      DB_PASSWORD: 'pw-1234567890',
      APP_SECRET: 'sec-1234567890',
      SHORT_API_KEY: 'x',
      HOME: '/home/someone-long',
    };
    const known = knownSecrets(env);
    expect(known).toEqual(
      expect.arrayContaining([AZURE_KEY, 'tok-1234567890', 'pw-1234567890', 'sec-1234567890']),
    );
    expect(known).not.toContain('x');
    expect(known).not.toContain('/home/someone-long');
  });

  it('a key in the environment is hidden without being passed', () => {
    process.env.VISIONPIPE_TEST_GATEWAY_API_KEY = AZURE_KEY;
    rescanEnvironmentSecrets();
    try {
      expect(redactSecrets(`echo ${AZURE_KEY}`)).toBe(`echo ${REDACTED}`);
    } finally {
      delete process.env.VISIONPIPE_TEST_GATEWAY_API_KEY;
    }
  });

  it('the environment is listed at most once per ENV_RESCAN_MS, but a listed key changed in place is hidden at once', () => {
    vi.useFakeTimers();
    try {
      process.env.VISIONPIPE_TEST_ROTATED_API_KEY = 'first-key-1234567890';
      rescanEnvironmentSecrets();
      expect(redactSecrets('a first-key-1234567890')).toBe(`a ${REDACTED}`);
      process.env.VISIONPIPE_TEST_ROTATED_API_KEY = 'second-key-1234567890';
      expect(redactSecrets('a second-key-1234567890')).toBe(`a ${REDACTED}`); // same name: read each call
      process.env.VISIONPIPE_TEST_LATE_API_KEY = 'late-key-1234567890';
      expect(redactSecrets('a late-key-1234567890')).toBe('a late-key-1234567890'); // not listed yet
      vi.advanceTimersByTime(ENV_RESCAN_MS + 1);
      expect(redactSecrets('a late-key-1234567890')).toBe(`a ${REDACTED}`);
    } finally {
      delete process.env.VISIONPIPE_TEST_ROTATED_API_KEY;
      delete process.env.VISIONPIPE_TEST_LATE_API_KEY;
      vi.useRealTimers();
    }
  });

  it('a registered key is hidden everywhere afterwards; short values are never registered', () => {
    const key = 'c0ffee00c0ffee00c0ffee00c0ffee01';
    expect(redactSecrets(key)).toBe(key);
    registerSecret(key);
    registerSecret('short');
    expect(redactSecrets(`a ${key} b`)).toBe(`a ${REDACTED} b`);
    expect(redactSecrets('a short b')).toBe('a short b');
  });

  it('a key that contains another known key is hidden whole', () => {
    const inner = 'abcdefgh12345678';
    const outer = `${inner}ZZZZZZZZ`;
    expect(redactSecrets(`x ${outer} y`, [inner, outer])).toBe(`x ${REDACTED} y`);
  });

  it('redactDeep hides secrets in every string and key of a record, and returns the same object when clean', () => {
    const clean = { a: ['x', { b: 1 }], c: null };
    expect(redactDeep(clean)).toBe(clean);
    const dirty = {
      output: { vendor: `ACME ${AZURE_KEY}`, list: ['ok', KEYS.openai], [AZURE_KEY]: 1 },
      n: 2,
    };
    const out = JSON.stringify(redactDeep(dirty, [AZURE_KEY]));
    expect(out).not.toContain(AZURE_KEY);
    expect(out).not.toContain(KEYS.openai);
    expect(out).toContain('ACME');
    expect(dirty.output.vendor).toContain(AZURE_KEY); // the input is not modified
  });

  it('every VisionpipeError message and input is redacted when it is made', () => {
    const error = new VisionpipeError('FETCH_FAILED', `http://u:pw12345678@h/x?token=${KEYS.openai}`, {
      input: 'http://u:pw12345678@h/x',
    });
    expect(error.message).not.toContain('pw12345678');
    expect(error.message).not.toContain(KEYS.openai);
    expect(error.input).not.toContain('pw12345678');
    expect(JSON.stringify(error.toJSON())).not.toContain('pw12345678');
  });
});

describe('the CLI with a gateway that echoes the key (results, cache, stderr, stdout)', () => {
  let gateway: CompatibleServer;
  let images: TestServer;
  beforeAll(async () => {
    const png = (background: string) =>
      sharp({ create: { width: 80, height: 60, channels: 3, background } })
        .png()
        .toBuffer();
    const first = await png('#abc');
    const other = await png('#123');
    images = await startServer((req, res) => {
      res.setHeader('content-type', 'image/png');
      res.end(req.url?.startsWith('/other') ? other : first);
    });
    // First call: the key comes back as a value; then a non-JSON answer quoting the key twice.
    gateway = await startCompatibleServer((_call, n) =>
      n === 1
        ? JSON.stringify({ vendor_name: `ACME ${AZURE_KEY}`, total: 12.5 })
        : `I cannot help. Your key ${AZURE_KEY} (Authorization: Bearer ${AZURE_KEY}) is invalid.`,
    );
  });
  afterAll(async () => {
    await gateway.close();
    await images.close();
  });

  it('hides credential query parameters of any prefix (private_token, auth_token, access_key, sessionid)', async () => {
    const dir = await tempDir();
    const pattern = await writeSimplePattern(dir);
    const out = path.join(dir, 'results.jsonl');
    const state = path.join(dir, 'state');
    const values = ['glpat-planted0001', 'tok-planted00002', 'ak-planted000003', 'sess-planted0004'];
    const url =
      `http://127.0.0.1:${images.port}/scan.png?private_token=${values[0]}&auth_token=${values[1]}` +
      `&access_key=${values[2]}&sessionid=${values[3]}&w=1`;
    const result = await runCli(
      ['run', url, '-p', pattern, '-o', out, '--state-dir', state, '--allow-private-urls', '--no-progress'],
      { cwd: dir },
    );
    expect(result.code, result.stderr).toBe(0);
    const results = await readFile(out, 'utf8');
    expect(results).toContain('private_token=[redacted]');
    expect(results).toContain('&w=1');
    const stateFiles = await readdir(state, { recursive: true });
    const stored = await Promise.all(
      stateFiles.map((name) => readFile(path.join(state, String(name))).catch(() => Buffer.alloc(0))),
    );
    for (const value of values) {
      expect(results).not.toContain(value);
      expect(result.stderr + result.stdout).not.toContain(value);
      for (const bytes of stored) expect(bytes.includes(value)).toBe(false);
    }
  });

  it('never writes the key or URL credentials anywhere', async () => {
    const dir = await tempDir();
    const pattern = await writeSimplePattern(dir);
    const out = path.join(dir, 'results.jsonl');
    const state = path.join(dir, 'state');
    const url = `http://scanner:pa55w0rd-${AZURE_KEY.slice(0, 6)}@127.0.0.1:${images.port}/scan.png?token=tok-${AZURE_KEY.slice(0, 8)}&w=1`;
    const second = `http://127.0.0.1:${images.port}/other.png?v=2`;
    const result = await runCli(
      [
        'run',
        url,
        '-p',
        pattern,
        '--provider',
        'openai',
        '--base-url',
        gateway.baseUrl,
        '-o',
        out,
        '--state-dir',
        state,
        '--allow-private-urls',
        '--max-attempts',
        '1',
        '--no-progress',
        '--json',
      ],
      { env: { OPENAI_API_KEY: AZURE_KEY }, cwd: dir },
    );
    expect(result.code, result.stderr).toBe(0);
    const results = await readFile(out, 'utf8');
    const records = results
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records[0]).toMatchObject({ status: 'ok' });
    expect(String(records[0]?.input)).toContain('127.0.0.1');
    const secrets = [AZURE_KEY, 'pa55w0rd', `tok-${AZURE_KEY.slice(0, 8)}`];
    const stateFiles = await readdir(state, { recursive: true });
    const stored = await Promise.all(
      stateFiles.map((name) => readFile(path.join(state, String(name))).catch(() => Buffer.alloc(0))),
    );
    for (const secret of secrets) {
      expect(results).not.toContain(secret);
      expect(result.stderr).not.toContain(secret);
      expect(result.stdout).not.toContain(secret);
      for (const bytes of stored) expect(bytes.includes(secret)).toBe(false);
    }
    // The second image gets the non-JSON answer that quotes the key: an error record, redacted.
    const again = await runCli(
      [
        'run',
        second,
        '-p',
        pattern,
        '--provider',
        'openai',
        '--base-url',
        gateway.baseUrl,
        '-o',
        out,
        '--state-dir',
        state,
        '--allow-private-urls',
        '--max-attempts',
        '1',
        '--no-progress',
      ],
      { env: { OPENAI_API_KEY: AZURE_KEY }, cwd: dir },
    );
    const all = await readFile(out, 'utf8');
    expect(all).toContain('"status":"error"');
    expect(all).not.toContain(AZURE_KEY);
    expect(again.stderr).not.toContain(AZURE_KEY);
    expect(again.stdout).not.toContain(AZURE_KEY);
  });
});
