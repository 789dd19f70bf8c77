import { defineConfig } from 'vitest/config';

/**
 * The tests `npm run mutate` runs against each mutant: library-level tests of keys,
 * signatures, resume decisions and answer parsing (CLI tests run the built dist/, which
 * a mutant of src/ never reaches, so they cannot kill one).
 */
export default defineConfig({
  test: {
    include: [
      'test/cache/key-components.test.ts',
      'test/providers/model-json.test.ts',
      'test/pipeline/billed-attempts.test.ts',
    ],
    testTimeout: 60_000,
    pool: 'forks',
  },
});
