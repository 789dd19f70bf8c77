/**
 * Session ids carried in URL path parameters (issue 12): `http://host/i.png;jsessionid=SECRET`
 * was stored whole in results.jsonl `input`, logs and stdout. Servlet-style `;name=value`
 * parameters whose name is a session id or a secret name are now redacted like query ones.
 */
import { describe, expect, it } from 'vitest';
import {
  isSecretPathParameter,
  redactDeep,
  redactSecrets,
  redactUrl,
  urlHasCredentials,
} from '../../src/secrets.js';

const R = '[redacted]';

describe('secret URL path parameters', () => {
  it.each([
    ['http://host.example/i.png;jsessionid=SECRET1234', `http://host.example/i.png;jsessionid=${R}`],
    ['http://host.example/i.png;JSESSIONID=A1B2C3D4?w=2', `http://host.example/i.png;JSESSIONID=${R}?w=2`],
    ['http://host.example/a;sessionid=abc123/i.png', `http://host.example/a;sessionid=${R}/i.png`],
    ['http://host.example/i.png;sid=s3cr3t#top', `http://host.example/i.png;sid=${R}#top`],
    ['http://host.example/i.png;PHPSESSID=deadbeef', `http://host.example/i.png;PHPSESSID=${R}`],
    [
      'http://host.example/i.png;v=2;token=tok_abcdef;auth_token=zz',
      `http://host.example/i.png;v=2;token=${R};auth_token=${R}`,
    ],
    ['http://host.example/i.png;api%5Fkey=k1k1k1k1', `http://host.example/i.png;api%5Fkey=${R}`],
  ])('%s', (url, redacted) => {
    expect(redactSecrets(url)).toBe(redacted);
    expect(redactUrl(url)).toBe(redacted);
    expect(urlHasCredentials(url)).toBe(true);
  });

  it('in a sentence, a record and a log line', () => {
    const url = 'http://host.example/i.png;jsessionid=SECRET1234';
    expect(redactSecrets(`fetch failed: ${url} (404)`)).toBe(
      `fetch failed: http://host.example/i.png;jsessionid=${R} (404)`,
    );
    expect(redactDeep({ input: url, error: { message: `at ${url}` } })).toEqual({
      input: `http://host.example/i.png;jsessionid=${R}`,
      error: { message: `at http://host.example/i.png;jsessionid=${R}` },
    });
  });

  it('other path parameters and plain text are kept', () => {
    for (const url of [
      'http://host.example/i.png;v=2',
      'http://host.example/m;lang=en/i.png',
      'http://host.example/i.png?a=1;b=2',
    ]) {
      expect(redactSecrets(url)).toBe(url);
      expect(urlHasCredentials(url)).toBe(false);
    }
    expect(redactSecrets('a;b=c and x;y=z')).toBe('a;b=c and x;y=z');
    expect(isSecretPathParameter('jsessionid')).toBe(true);
    expect(isSecretPathParameter('lang')).toBe(false);
  });
});
