/** The files that share a fork (test/support/shared-modules.ts) exist and stay pure. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './support/cli.js';
import { NOT_SHARED, SHARED_MODULES } from './support/shared-modules.js';

describe('files sharing a fork', () => {
  it('names only test files that exist, each once', () => {
    for (const file of SHARED_MODULES) expect(existsSync(path.join(ROOT, file)), file).toBe(true);
    expect(new Set(SHARED_MODULES).size).toBe(SHARED_MODULES.length);
  });

  it('start nothing that outlives them and change nothing the next file sees', () => {
    const impure = SHARED_MODULES.filter((file) =>
      NOT_SHARED.test(readFileSync(path.join(ROOT, file), 'utf8')),
    );
    expect(impure).toEqual([]);
  });

  it('the check sees an impure file (a mocked module, a CLI run)', () => {
    expect(NOT_SHARED.test("vi.mock('../../src/x.js')")).toBe(true);
    expect(NOT_SHARED.test('await runCli(["run"])')).toBe(true);
  });
});
