/**
 * Starts the test files known to take longest first. CI runs in a clean clone, where
 * vitest has no timings from an earlier run and starts the largest files first: a long
 * file that is small in bytes (most of its time is waiting on processes it starts, or
 * local OCR) may start last and be the whole run's tail. Measured durations (CI, 4 forks
 * on 2 cores) decide the list; a file not listed keeps vitest's order after these.
 */
import path from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Paths from the repository root, longest first. Seconds: CI's last run before ci-time3
 * (4 forks on 2 cores), or for files ci-time3 or ci-time4 changed, that CI time scaled by
 * the file's time alone after/before the change (measured on a loaded 2-core machine, load
 * 10-25).
 */
export const SLOW_FIRST: readonly string[] = [
  'test/readme.test.ts', // 160 s, less now: npm start's 21 images, once in the suite (its OCR CPU -32 %: triage's reading reused)
  'test/cli/service-cli.test.ts', // 116 s
  'test/cli/estimate-cascade.test.ts', // 110 s
  'test/queue/worker-processes.test.ts', // 103 s
  'test/cli/billed-answers.test.ts', // 96 s
  'test/queue/worker-crash-points.test.ts',
  'test/cli/answer-keys.test.ts', // 103 s -> ~88 s
  'test/cli/summary-honest.test.ts', // 97 s -> ~88 s
  'test/cli/resume.test.ts', // 114 s -> ~83 s (5 inputs, not 8) -> less (ci-time5: the simulator, CPU -28 %)
  'test/documents/run-report-counts.test.ts', // 117 s -> ~66 s (4 runs, not 6; a 200x137 photo) -> less (ci-time5: the simulator, CPU -38 %)
  'test/cli/cache-stats.test.ts', // 105 s -> ~56 s (the two runs shared)
  'test/providers/local-corpus.test.ts', // 119 s -> ~55 s (each invoice read once)
  'test/documents/volume-agreement.test.ts', // 52 s
  'test/providers/local-corpus-ids.test.ts', // 49 s (unchanged code: 144 s -> 100 s alone was load)
  // test/cli/cost.test.ts: 180 s -> ~20 s (npm start's run is the readme test's).
];

/** `files` (repository-relative, `/`-separated) with those in `slow` first, in its order. */
export function slowFirst<T>(files: readonly T[], pathOf: (file: T) => string, slow = SLOW_FIRST): T[] {
  const rank = (file: T) => slow.indexOf(pathOf(file));
  const listed = files.filter((file) => rank(file) >= 0).sort((a, b) => rank(a) - rank(b));
  return [...listed, ...files.filter((file) => rank(file) < 0)];
}

/** vitest's sequencer (failed first, then by timings or size), with SLOW_FIRST ahead. */
export class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const root = this.ctx.config.root;
    return slowFirst(await super.sort(files), (file) =>
      path.relative(root, file.moduleId).split(path.sep).join('/'),
    );
  }
}
