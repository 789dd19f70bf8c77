import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Forks isolate native modules (sharp, better-sqlite3) and signal handling per file.
    pool: 'forks',
  },
});
