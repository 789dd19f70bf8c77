/**
 * The local engine's code is its model (issue 11 §1): a change to how it reads pages must
 * change its answer key, or a cache filled by the older engine keeps serving old answers.
 * This pins a digest of the engine's code per LOCAL_ENGINE_VERSION, so changing that code
 * fails here until the version is bumped (and the new digest pinned under it). Comments,
 * types and formatting are left out of the digest: only what the code compiles to counts.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { LOCAL_ENGINE_VERSION } from '../../src/providers/local/engine-version.js';
import { ROOT } from '../support/cli.js';

/**
 * One digest per engine version, oldest first: a change to the engine's code adds a line
 * (the next version and its digest), it never edits the last one.
 */
const PINNED: Record<number, string> = {
  1: 'fc2f3828146978043b86b1a15a05f11189cb4b30b0334d9d469365bc8b602194',
  // OCR workers started as pages in flight need them (one for a one-image run), not one per core.
  2: '8569c77a927f53a07ffae9e11e52a2b4efbc4ae6ac288944f00987055a686b79',
  // Local triage's reading is kept (recent-pages.ts) and extraction of the same bytes reuses it.
  3: '103b205370414bf91ebef123a98b051f1de82a4189991042b79c3fe7f8fd9f7d',
};

/** The engine's code: src/providers/local.ts and src/providers/local/ (not the version file itself). */
function engineFiles(): string[] {
  const folder = path.join(ROOT, 'src/providers/local');
  const files = readdirSync(folder)
    .filter((name) => name.endsWith('.ts') && name !== 'engine-version.ts')
    .map((name) => path.join(folder, name));
  return [path.join(ROOT, 'src/providers/local.ts'), ...files.sort()];
}

/** sha256 over each file's name and its JavaScript without comments. */
function engineDigest(): string {
  const hash = createHash('sha256');
  for (const file of engineFiles()) {
    const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), {
      compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, removeComments: true },
    });
    hash.update(path.relative(ROOT, file)).update('\0').update(outputText).update('\0');
  }
  return hash.digest('hex');
}

describe('the local engine version', () => {
  it('is bumped whenever the engine code changes', () => {
    const digest = engineDigest();
    expect(
      PINNED[LOCAL_ENGINE_VERSION],
      `the local engine's code changed (digest ${digest}): bump LOCAL_ENGINE_VERSION in ` +
        'src/providers/local/engine-version.ts and pin this digest under the new version here',
    ).toBe(digest);
  });

  it('has one pinned digest per version, the last one being the current version', () => {
    const versions = Object.keys(PINNED).map(Number);
    expect(versions).toEqual(Array.from({ length: versions.length }, (_, i) => i + 1));
    expect(LOCAL_ENGINE_VERSION).toBe(versions.length);
    expect(new Set(Object.values(PINNED)).size).toBe(versions.length);
  });
});
