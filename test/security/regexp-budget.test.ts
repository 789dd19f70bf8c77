/**
 * Regular-expression time (issue 12, second trial): each `pattern` test had a 100 ms limit,
 * but one answer with 300 values against `^(a+)+$` still blocked 30 s, and the local engine's
 * relevance check compiled the pattern with a plain `new RegExp` (no limit at all). Now a
 * validation's tests share one budget (REGEXP_BUDGET_MS); past it the remaining tests fail
 * closed and the validation names `regexpBudget`. Asserted on outcomes, never on time.
 */
import { describe, expect, it } from 'vitest';
import { REGEXP_BUDGET_MS, REGEXP_TEST_TIMEOUT_MS } from '../../src/patterns/bounded-regexp.js';
import { parsePattern, validateOutput } from '../../src/patterns/index.js';
import type { OcrPage } from '../../src/providers/local/ocr-engine.js';
import { judgeRelevance } from '../../src/providers/local/relevance.js';

const listPattern = parsePattern(
  {
    name: 'Codes',
    format: 'json',
    instructions: 'x',
    json_schema: {
      type: 'object',
      properties: {
        codes: { type: 'array', items: { type: 'string', pattern: '^(a+)+$' } },
        last: { type: 'string', pattern: '^(a+)+$' },
      },
    },
  },
  'codes.json',
);

describe('one regexp time budget per validation', () => {
  it('300 backtracking values end after the budget; the rest fail closed, the budget is named', () => {
    const codes = Array.from({ length: 300 }, () => `${'a'.repeat(40)}!`);
    // `last` matches, but is checked after the budget is spent: it fails closed.
    const issues = validateOutput(listPattern, { codes, last: 'aaa' });
    const budget = issues.filter((issue) => issue.keyword === 'regexpBudget');
    expect(budget).toHaveLength(1);
    expect(budget[0]?.message).toContain(`regexpBudget (${REGEXP_BUDGET_MS} ms`);
    expect(issues.filter((issue) => issue.keyword === 'pattern')).toHaveLength(301);
    expect(issues.some((issue) => issue.path === '/last')).toBe(true);
    // The budget allows only a handful of timed-out tests.
    expect(REGEXP_BUDGET_MS / REGEXP_TEST_TIMEOUT_MS).toBeLessThanOrEqual(10);
  });

  it('each validation has its own budget: a clean answer afterwards is valid', () => {
    validateOutput(listPattern, { codes: [`${'a'.repeat(40)}!`, `${'a'.repeat(40)}!`], last: null });
    expect(validateOutput(listPattern, { codes: ['aaa', 'a'], last: 'aa' })).toEqual([]);
  });
});

describe('the local engine relevance check uses the time-limited regexp', () => {
  it("a page of backtracking words against the pattern's own `pattern` ends, without a fit", () => {
    const box = { x: 0, y: 0, width: 10, height: 10 };
    const words = Array.from({ length: 40 }, (_, i) => ({
      text: `${'a'.repeat(32)}b`,
      confidence: 0.9,
      box: { ...box, x: i * 20 },
    }));
    const page = {
      text: words.map((w) => w.text).join(' '),
      lines: [{ text: words.map((w) => w.text).join(' '), words, box, block: 0 }],
      confidence: 0.9,
      width: 1000,
      height: 100,
    } as unknown as OcrPage;
    const pattern = parsePattern(
      {
        name: 'Code',
        format: 'json',
        instructions: 'x',
        json_schema: { type: 'object', properties: { code: { type: 'string', pattern: '^(a+)+$' } } },
      },
      'code.json',
    );
    const verdict = judgeRelevance(page, pattern);
    expect(verdict.valuesTotal).toBe(1);
    expect(verdict.valuesFound).toBe(0);
  });
});
