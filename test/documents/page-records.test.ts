import { describe, expect, it } from 'vitest';
import { namingPage, pageLabel, pagesTogetherKey, reusedPage } from '../../src/pipeline/page-records.js';
import { errorRecord } from '../../src/pipeline/record.js';

describe('page records', () => {
  it("names the input and the page in a page's error message once", () => {
    expect(pageLabel('scan.pdf', 3)).toBe('scan.pdf (page 3)');
    expect(namingPage('rate limited', 'scan.pdf', 3)).toBe('scan.pdf (page 3): rate limited');
    // Already naming both: left as it is.
    expect(namingPage('scan.pdf: page 3 is damaged', 'scan.pdf', 3)).toBe('scan.pdf: page 3 is damaged');
    // Page 13 is not page 3.
    expect(namingPage('scan.pdf: page 13 is damaged', 'scan.pdf', 3)).toBe(
      'scan.pdf (page 3): scan.pdf: page 13 is damaged',
    );
  });

  it('keys pages read together by their contents in order', () => {
    const a = 'a'.repeat(64);
    const b = 'b'.repeat(64);
    expect(pagesTogetherKey([a, b])).toMatch(/^[0-9a-f]{64}$/);
    expect(pagesTogetherKey([a, b])).toBe(pagesTogetherKey([a, b]));
    expect(pagesTogetherKey([a, b])).not.toBe(pagesTogetherKey([b, a]));
  });

  it('reuses an earlier record of the same page content as this page, with nothing paid', () => {
    const base = { input: 'old.pdf', pattern: 'p', provider: 'openai', model: 'm' };
    const earlier = {
      ...errorRecord(base, { code: 'INTERNAL', message: '' }),
      status: 'ok' as const,
      error: null,
      page: 2,
      pages: 2,
      attempts: 3,
      cost_usd: 0.01,
      usage: { input_tokens: 100, output_tokens: 20, image_tokens: 80, estimated: false },
    };
    const reused = reusedPage(earlier, 4, 5, performance.now());
    expect(reused).toMatchObject({ page: 4, pages: 5, cache: 'hit', attempts: 0, cost_usd: 0, status: 'ok' });
    expect(reused.usage).toMatchObject({ input_tokens: 0, output_tokens: 0, image_tokens: 0 });
  });
});
