/**
 * CLI tests run the real binary (bin/visionpipe.cjs → dist/), so the build must match
 * the sources under test: compile once before the suite. The build is incremental
 * (tsconfig.build.json keeps dist/.tsbuildinfo): after `npm ci`'s prepare build, or with
 * nothing changed since the last run, tsc re-checks only what changed and writes nothing.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';

export default function setup(): void {
  const root = path.resolve(import.meta.dirname, '../..');
  execFileSync(
    process.execPath,
    [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: root,
      stdio: 'inherit',
    },
  );
}
