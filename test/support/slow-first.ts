/**
 * Starts the test files known to take longest first. CI runs in a clean clone, where
 * vitest has no timings from an earlier run and starts the largest files first: a long
 * file that is small in bytes (most of its time is waiting on processes it starts, or
 * local OCR) may start last and be the whole run's tail. Measured durations (CI, 4 forks
 * on 2 cores) decide the list; a file not listed keeps vitest's order after these.
 */
import path from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** Paths from the repository root, longest first (seconds in CI, before the last change). */
export const SLOW_FIRST: readonly string[] = [
  'test/queue/worker-processes.test.ts', // 151 s with the crash points, now split off
  'test/queue/worker-crash-points.test.ts',
  'test/readme.test.ts', // 74 s
  'test/cli/cost.test.ts', // 69 s
  'test/documents/run-report-counts.test.ts', // 60 s
  'test/providers/local-corpus.test.ts', // 57 s
  'test/documents/volume-agreement.test.ts', // 52 s
  'test/providers/local-corpus-ids.test.ts', // 49 s
  'test/cli/estimate-cascade.test.ts', // 91 s before its docs block took 3 images, not 21
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
