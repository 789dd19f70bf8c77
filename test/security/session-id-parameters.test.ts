/**
 * Session ids and passwords in query parameters (issue 12, new-user trial): `?PHPSESSID=`,
 * `?JSESSIONID=`, `?ASP.NET_SessionId=`, `?connect.sid=`, `?sessid=`, `?pass=`, `?token[]=`,
 * percent-encoded names (`?token%20=`) and protocol-relative userinfo (`//u:pass@h/x`) were
 * stored whole; an image URL's `?PHPSESSID=` value reached results, log, failures file and
 * summary. Names are compared in any case, percent-decoded and without `[]`.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isSecretQueryParameter, redactSecrets, urlHasCredentials } from '../../src/secrets.js';
import { openAiFlags, runCli } from '../support/cli.js';
import { tempDir } from '../support/images.js';
import { writeSimplePattern } from '../support/openai-compatible.js';

const R = '[redacted]';
const VALUE = 'f00dfeedcafe4b1d9e7a';

describe('session ids and passwords in query parameters', () => {
  it.each([
    'PHPSESSID',
    'JSESSIONID',
    'ASP.NET_SessionId',
    'connect.sid',
    'sessid',
    'sid',
    'session',
    'sessionid',
    'pass',
    'passwd',
    'password',
    'pwd',
    'token[]',
    'token%5B%5D',
    'token%20',
    'PASS',
    '%70ass',
  ])('?%s= is hidden, alone and after another parameter', (name) => {
    expect(redactSecrets(`https://h.example/i.png?${name}=${VALUE}`)).toBe(
      `https://h.example/i.png?${name}=${R}`,
    );
    expect(redactSecrets(`see https://h.example/i.png?w=2&${name}=${VALUE} now`)).toBe(
      `see https://h.example/i.png?w=2&${name}=${R} now`,
    );
    expect(urlHasCredentials(`https://h.example/i.png?${name}=${VALUE}`)).toBe(true);
  });

  it('protocol-relative userinfo is hidden', () => {
    expect(redactSecrets('//u:pass@h/x')).toBe(`//${R}@h/x`);
    expect(redactSecrets(`<img src="//admin:${VALUE}@cdn.example/a.png">`)).toBe(
      `<img src="//${R}@cdn.example/a.png">`,
    );
    expect(redactSecrets(`url=//u:${VALUE}@h/x`)).toBe(`url=//${R}@h/x`);
  });

  it('look-alike names and plain text are kept', () => {
    for (const name of ['passage', 'compass', 'sidebar', 'session_count', 'page', 'tokens_used'])
      expect(isSecretQueryParameter(name), name).toBe(false);
    for (const text of [
      'https://h.example/i.png?passage=3&sidebar=left',
      'a // comment with user@example.com',
      'https://h.example/a//b@c',
    ])
      expect(redactSecrets(text)).toBe(text);
  });

  it('through the CLI: a ?PHPSESSID= image URL reaches no results, log, failures file or summary', async () => {
    const dir = await tempDir('vp-session-ids-');
    const url = `http://127.0.0.1:9/i.png?PHPSESSID=${VALUE}`;
    const files = {
      results: path.join(dir, 'r.jsonl'),
      failures: path.join(dir, 'failures.jsonl'),
      log: path.join(dir, 'run.log'),
    };
    const run = await runCli(
      [
        'run',
        url,
        '-p',
        await writeSimplePattern(dir),
        '-o',
        files.results,
        '--failures',
        files.failures,
        '--log-file',
        files.log,
        '--log-level',
        'debug',
        '--state-dir',
        path.join(dir, 'state'),
        ...openAiFlags('http://127.0.0.1:9/v1'),
        '--no-progress',
      ],
      { env: { OPENAI_API_KEY: 'sk-test-session-ids-0000' } },
    );
    // The URL is refused (a loopback address) and recorded as a failure naming it.
    expect(run.signal, run.stderr).toBeNull();
    const written = {
      results: await readFile(files.results, 'utf8'),
      failures: await readFile(files.failures, 'utf8'),
      log: await readFile(files.log, 'utf8'),
      summary: run.stdout + run.stderr,
    };
    for (const [where, text] of Object.entries(written)) {
      expect(text, where).not.toContain(VALUE);
      expect(text, where).toContain(`PHPSESSID=${R}`);
    }
  }, 120_000);
});
