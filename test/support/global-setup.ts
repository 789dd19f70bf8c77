/**
 * CLI tests run the real binary (bin/visionpipe.cjs → dist/), so the build must match
 * the sources under test: compile once before the suite. The build is incremental
 * (tsconfig.build.json keeps dist/.tsbuildinfo), and run in build mode (`tsc -b`): when no
 * source is newer than dist/.tsbuildinfo (after `npm ci`'s prepare build, or nothing
 * changed since the last run) it stops there instead of loading and checking the whole
 * program (0.5 s of CPU instead of 11 s), and every test waits for this step.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';

export default function setup(): void {
  const root = path.resolve(import.meta.dirname, '../..');
  execFileSync(
    process.execPath,
    [path.join(root, 'node_modules/typescript/bin/tsc'), '-b', 'tsconfig.build.json'],
    {
      cwd: root,
      stdio: 'inherit',
    },
  );
}
