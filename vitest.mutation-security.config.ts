import { defineConfig } from 'vitest/config';

/**
 * The tests StrykerJS runs against each mutant of the security guards
 * (stryker.security.config.mjs): in-process tests of the address policy, the URL fetcher
 * (loopback servers, stubbed DNS), redaction and pattern budgets. CLI tests run the built
 * dist/, which a mutant of src/ never reaches, so they are left out.
 */
export default defineConfig({
  test: {
    include: [
      'test/security/url-inputs.test.ts',
      'test/security/secrets.test.ts',
      'test/security/pattern-budgets.test.ts',
      'test/security/guards-edges.test.ts',
      'test/security/fetch-url-branches.test.ts',
      'test/security/redirect-hops.test.ts',
      'test/image/fetch-url.test.ts',
    ],
    exclude: [],
    testNamePattern: '^(?!.*(the CLI|visionpipe run|the binary)).*$',
    testTimeout: 60_000,
    pool: 'forks',
  },
});
