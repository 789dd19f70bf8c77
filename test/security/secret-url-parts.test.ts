/**
 * Secret URL parts the first redaction rule missed (issue 12, second trial): `pwd=`,
 * `ticket=`, `hmac=`, `jwt=`, CloudFront's `Policy=` and `Key-Pair-Id=`, and any of them in
 * a fragment (`#access_token=…`). The rule is a kind: names ending in these words, and a
 * fragment's parameters read like the query's.
 */
import { describe, expect, it } from 'vitest';
import { isSecretQueryParameter, redactSecrets, urlHasCredentials } from '../../src/secrets.js';

const R = '[redacted]';

describe('secret URL parameters', () => {
  it.each([
    ['https://db.example/x?pwd=hunter2hunter2', `https://db.example/x?pwd=${R}`],
    ['https://cas.example/login?ticket=ST-1234-abcdef', `https://cas.example/login?ticket=${R}`],
    ['https://h.example/cb?id=7&hmac=9f86d081884c7d65', `https://h.example/cb?id=7&hmac=${R}`],
    ['https://h.example/cb?jwt=abc.def.ghi', `https://h.example/cb?jwt=${R}`],
    [
      'https://d1.cloudfront.net/a.png?Policy=eyJTdGF0ZW1lbnQi&Signature=abc~def&Key-Pair-Id=K2JCJMDEHXQW5F',
      `https://d1.cloudfront.net/a.png?Policy=${R}&Signature=${R}&Key-Pair-Id=${R}`,
    ],
    [
      'https://h.example/cb?db_pwd=x1&service_ticket=y2&x-shopify-hmac=z3',
      `https://h.example/cb?db_pwd=${R}&service_ticket=${R}&x-shopify-hmac=${R}`,
    ],
  ])('%s', (url, redacted) => {
    expect(redactSecrets(url)).toBe(redacted);
    expect(urlHasCredentials(url)).toBe(true);
  });

  it('a fragment holding parameters is read like a query', () => {
    const url = 'https://app.example/cb#state=xyz&access_token=ya29.a0AfH6SMBx&token_type=bearer';
    expect(redactSecrets(url)).toBe(`https://app.example/cb#state=xyz&access_token=${R}&token_type=bearer`);
    expect(urlHasCredentials(url)).toBe(true);
    expect(redactSecrets('https://app.example/#/cb?id_token=abcdefgh')).toBe(
      `https://app.example/#/cb?id_token=${R}`,
    );
    expect(urlHasCredentials('https://app.example/#/cb?id_token=abcdefgh')).toBe(true);
    expect(redactSecrets('see https://x.example/page#jwt=aaaa.bbbb.cccc then')).toBe(
      `see https://x.example/page#jwt=${R} then`,
    );
  });

  it('ordinary fragments and parameters are kept', () => {
    for (const url of [
      'https://x.example/doc.pdf#page=2',
      'https://x.example/a?w=100&format=png#section-3',
    ]) {
      expect(redactSecrets(url)).toBe(url);
      expect(urlHasCredentials(url)).toBe(false);
    }
    for (const name of ['page', 'width', 'keyword', 'ticketing_url_ok_no'])
      expect(isSecretQueryParameter(name)).toBe(false);
  });
});
