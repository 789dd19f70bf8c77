/**
 * Where a benchmark figure comes from: the commit it was measured with (and whether the
 * tree had uncommitted changes), when, and a digest of the code that scored it. Every row
 * carries its own, so a figure reused from an earlier run (`--reuse`) can be refused when
 * it was not measured by the code committed now.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface Provenance {
  /** `git rev-parse HEAD` when the row was measured. */
  commit: string;
  /** True when src/, bench/, samples/ or the lockfile had uncommitted changes: no commit holds that code. */
  dirty: boolean;
  /** ISO 8601 time the row was measured. */
  measured_at: string;
  /** sha256 (16 hex) of the files that score the row. */
  scoring: string;
}

const ROOT = path.resolve(import.meta.dirname, '..');

function git(args: string[]): string {
  return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
}

/** The commit checked out and whether the measured code differs from it. */
export function currentCommit(): { commit: string; dirty: boolean } {
  const commit = git(['rev-parse', 'HEAD']);
  const changes = git(['status', '--porcelain', '--', 'src', 'bench/*.ts', 'samples', 'package-lock.json']);
  return { commit, dirty: changes !== '' };
}

/** A digest of `files` (paths from the repository root): the scoring code. */
export function codeDigest(files: readonly string[]): string {
  const hash = createHash('sha256');
  for (const file of files)
    hash
      .update(file)
      .update('\0')
      .update(readFileSync(path.join(ROOT, file)));
  return hash.digest('hex').slice(0, 16);
}

/** The provenance of a row measured now, scored by `scoringFiles`. */
export function provenance(scoringFiles: readonly string[]): Provenance {
  return { ...currentCommit(), measured_at: new Date().toISOString(), scoring: codeDigest(scoringFiles) };
}

/**
 * Why a saved row cannot stand in a run of the code as it is now, or undefined when it
 * can: it must come from this very commit, measured on a clean tree, and be scored by
 * the same code.
 */
export function reuseRefusal(saved: Partial<Provenance> | undefined, now: Provenance): string | undefined {
  if (!saved?.commit || !saved.scoring || !saved.measured_at)
    return 'it records no provenance (commit, time, scoring)';
  if (saved.dirty)
    return `it was measured at ${saved.measured_at} with uncommitted changes: no commit holds that code`;
  if (saved.commit !== now.commit)
    return `it was measured with commit ${saved.commit.slice(0, 12)}, not ${now.commit.slice(0, 12)} (checked out now)`;
  if (saved.scoring !== now.scoring) return 'it was scored by different scoring code';
  return undefined;
}
