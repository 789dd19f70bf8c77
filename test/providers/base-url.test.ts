/**
 * A base URL whose port was left empty (`http://127.0.0.1:/v1`, an unset shell variable)
 * is refused with INVALID_OPTION naming it, instead of sending every call to port 80
 * (trial 10c: 125 retries and CIRCUIT_OPEN for every image).
 */
import { describe, expect, it } from 'vitest';
import { resolveBaseUrl } from '../../src/providers/remote.js';

describe('resolveBaseUrl', () => {
  it.each(['http://127.0.0.1:/v1', 'http://localhost:', 'https://api.example.com:?x=1'])(
    'refuses %s: an empty port',
    (value) => {
      expect(() => resolveBaseUrl('openai', value)).toThrow(
        expect.objectContaining({ code: 'INVALID_OPTION', message: expect.stringContaining('empty port') }),
      );
    },
  );

  it.each([
    ['http://127.0.0.1:8080/v1/', 'http://127.0.0.1:8080/v1'],
    ['https://api.openai.com/v1', 'https://api.openai.com/v1'],
    ['http://[::1]:9000/v1', 'http://[::1]:9000/v1'],
  ])('keeps %s', (value, expected) => {
    expect(resolveBaseUrl('openai', value).href).toBe(expected);
  });
});
