/**
 * Mutation testing of the security guards (issue 12): the address policy, the URL fetcher,
 * secret redaction and the pattern budgets. `npm run mutate:security`; the report says which
 * mutants survived; docs/security.md explains the ones left.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation-security.config.ts' },
  coverageAnalysis: 'perTest',
  mutate: [
    'src/image/address-policy.ts',
    'src/secrets.ts',
    'src/patterns/budget.ts',
    'src/image/fetch-url.ts',
  ],
  concurrency: 2,
  timeoutMS: 30000,
  thresholds: { high: 95, low: 90, break: 90 },
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: { fileName: 'reports/mutation/security.json' },
  tempDirName: '.stryker-tmp-security',
  cleanTempDir: true,
};
