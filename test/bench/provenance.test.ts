/**
 * Benchmark provenance (issue 11 §8): a row reused by `bench:cost --reuse` must come from
 * the commit checked out now, measured on a clean tree, scored by the same code.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  codeDigest,
  currentCommit,
  type Provenance,
  provenance,
  reuseRefusal,
} from '../../bench/provenance.js';
import { ROOT } from '../support/cli.js';

const now: Provenance = {
  commit: 'c'.repeat(40),
  dirty: false,
  measured_at: '2026-11-29T00:00:00.000Z',
  scoring: 's1',
};

describe('reusing a benchmark row', () => {
  it('is allowed for the same commit, clean, same scoring code', () => {
    expect(reuseRefusal({ ...now, measured_at: '2026-11-28T00:00:00.000Z' }, now)).toBeUndefined();
  });

  it.each([
    ['a row without provenance', undefined, /no provenance/],
    ['a row without a commit', { ...now, commit: undefined }, /no provenance/],
    ['a row without a scoring digest', { ...now, scoring: undefined }, /no provenance/],
    ['a row without a time', { ...now, measured_at: undefined }, /no provenance/],
    [
      'another commit',
      { ...now, commit: 'd'.repeat(40) },
      /measured with commit dddddddddddd, not cccccccccccc/,
    ],
    ['uncommitted changes', { ...now, dirty: true }, /uncommitted changes/],
    ['other scoring code', { ...now, scoring: 's2' }, /different scoring code/],
  ])('is refused for %s', (_name, saved, reason) => {
    expect(reuseRefusal(saved as Partial<Provenance> | undefined, now)).toMatch(reason);
  });
});

describe('recording provenance', () => {
  it('names the commit checked out and digests the scoring code', () => {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    expect(currentCommit().commit).toBe(head);
    const row = provenance(['bench/cost.ts']);
    expect(row).toMatchObject({ commit: head, scoring: codeDigest(['bench/cost.ts']) });
    expect(Date.parse(row.measured_at)).not.toBeNaN();
    expect(codeDigest(['bench/cost.ts'])).not.toBe(codeDigest(['bench/cost.ts', 'src/runs/evaluate.ts']));
  });
});
