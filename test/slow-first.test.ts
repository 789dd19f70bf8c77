/** The slow-first list (test/support/slow-first.ts) names existing files and puts them first. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './support/cli.js';
import { SLOW_FIRST, slowFirst } from './support/slow-first.js';

describe('slow-first test order', () => {
  it('names only test files that exist, each once', () => {
    for (const file of SLOW_FIRST) expect(existsSync(path.join(ROOT, file)), file).toBe(true);
    expect(new Set(SLOW_FIRST).size).toBe(SLOW_FIRST.length);
  });

  it('puts the listed files first in the list order, the others after in their order', () => {
    const files = ['a.test.ts', SLOW_FIRST[1]!, 'b.test.ts', SLOW_FIRST[0]!];
    expect(slowFirst(files, (f) => f)).toEqual([SLOW_FIRST[0], SLOW_FIRST[1], 'a.test.ts', 'b.test.ts']);
  });
});
