import os from 'node:os';
import { defineConfig } from 'vitest/config';
import { SHARED_MODULES } from './test/support/shared-modules.js';
import { SlowFirstSequencer } from './test/support/slow-first.js';

export default defineConfig({
  test: {
    globalSetup: ['test/support/global-setup.ts'],
    // Two forks share the two cores, so a CPU-bound test (local OCR in a CLI child) may get
    // half of what it had alone: the default bound leaves room for that (it asserts nothing).
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Forks isolate native modules (sharp, better-sqlite3) and signal handling per file.
    pool: 'forks',
    // vitest's default is one fork less than the cores: on CI's 2 cores, one file at a time.
    // Most files spend their time waiting on the CLI processes, servers, Redis and PostgreSQL
    // they start (a whole run used 11 min of CPU in 28 min of wall time on 2 forks), so two
    // forks per core keep both cores busy.
    maxWorkers: Math.max(2, 2 * os.availableParallelism()),
    // The longest files start first (test/support/slow-first.ts): a clean clone has no timings.
    sequence: { sequencer: SlowFirstSequencer },
    // Pure unit files share their fork's modules (test/support/shared-modules.ts); the rest
    // get a fresh fork each. (No `include` above: a project would add its own to it.)
    projects: [
      { extends: true, test: { name: 'shared', include: [...SHARED_MODULES], isolate: false } },
      {
        extends: true,
        test: { name: 'isolated', include: ['test/**/*.test.ts'], exclude: [...SHARED_MODULES] },
      },
    ],
  },
});
