/**
 * Garbage is never ok (issue 11 §7): a page's running marker ("Page 2 of 2", which the
 * local engine returned as page 2's vendor_name on the sample PDF) is not a name.
 */
import { describe, expect, it } from 'vitest';
import { fitName } from '../../src/providers/local/fit-value.js';

describe('a page marker is not a name', () => {
  it.each([
    'Page 2 of 2',
    'PAGE 3',
    'p. 3/4',
    'Pg 1 of 12',
    'Page: 2',
    'Page 2 of 3 pages',
    'Seite 2 von 3',
    '- 2 -',
    '— 12 —',
  ])('%s is no name', (text) => {
    expect(fitName(text)).toBeUndefined();
  });

  it('keeps names that hold a number or the word page', () => {
    expect(fitName('Page Industries Ltd')).toBe('Page Industries Ltd');
    expect(fitName('7 Eleven')).toBe('7 Eleven');
  });
});
