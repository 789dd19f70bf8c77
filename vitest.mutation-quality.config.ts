import { defineConfig } from 'vitest/config';

/**
 * The fast, self-contained tests that guard output validation and the local engine's
 * value reading: what StrykerJS runs against each mutant (stryker.quality.config.mjs).
 * No build, no servers, no OCR: a mutant is judged in seconds.
 */
export default defineConfig({
  test: {
    include: [
      'test/patterns/validate.test.ts',
      'test/patterns/constraints.test.ts',
      'test/patterns/normalize.test.ts',
      'test/providers/local-fit.test.ts',
      'test/providers/local-fit-edges.test.ts',
      'test/providers/coerce.test.ts',
    ],
    pool: 'forks',
  },
});
