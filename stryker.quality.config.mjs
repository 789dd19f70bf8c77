/**
 * Mutation testing of the modules whose mistakes pass garbage off as data: output
 * validation (src/patterns/validate.ts) and the local engine's value reading
 * (coerce.ts, field-kinds.ts, fit-value.ts). `npx stryker run stryker.quality.config.mjs`;
 * the report says which mutants survived; docs/local-engine.md explains the ones left.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation-quality.config.ts' },
  mutate: [
    'src/patterns/validate.ts',
    'src/providers/local/coerce.ts',
    'src/providers/local/field-kinds.ts',
    'src/providers/local/fit-value.ts',
  ],
  concurrency: 2,
  timeoutMS: 30000,
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: { fileName: 'reports/mutation/quality.json' },
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
};
