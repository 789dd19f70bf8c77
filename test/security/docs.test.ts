/**
 * docs/security.md as written: each shell block runs in bash in a scratch folder that sees
 * the samples (`visionpipe` is this checkout's CLI) and must end with status 0 after printing
 * the exit codes it shows; the limits table is PATTERN_LIMITS; every file it names exists.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_METADATA_BYTES } from '../../src/image/admit.js';
import { PATTERN_LIMITS } from '../../src/patterns/budget.js';
import { BIN, ROOT, runCommand } from '../support/cli.js';

const DOC = path.join(ROOT, 'docs/security.md');
const markdown = await readFile(DOC, 'utf8');

function shellBlocks(text: string): string[] {
  return [...text.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1] as string);
}

describe('docs/security.md', () => {
  it.each(shellBlocks(markdown).map((code, i) => [i + 1, code] as const))(
    'shell block %i runs as written',
    async (_n, code) => {
      const dir = await mkdtemp(path.join(tmpdir(), 'vp-security-docs-'));
      await symlink(path.join(ROOT, 'samples'), path.join(dir, 'samples'));
      const script = `set -e\nvisionpipe() { node ${JSON.stringify(BIN)} "$@"; }\n${code}`;
      const result = await runCommand('bash', ['-c', script], {
        cwd: dir,
        env: { ...process.env, NO_COLOR: '1' },
      });
      expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
      const shown = [...code.matchAll(/echo "exit \$\?"/g)].length;
      expect(result.stdout.match(/^exit 2$/gm) ?? []).toHaveLength(shown);
    },
  );

  it('lists every pattern limit with its value', () => {
    for (const [name, value] of Object.entries(PATTERN_LIMITS))
      expect(markdown).toContain(`| \`${name}\` | ${value} |`);
    expect(markdown).toContain(`over ${DEFAULT_MAX_METADATA_BYTES / 1024 / 1024} MiB`);
  });

  it('names only files that exist', () => {
    for (const [, file] of markdown.matchAll(/`(src\/[\w/.-]+\.ts)`/g))
      expect(existsSync(path.join(ROOT, file as string)), file).toBe(true);
  });
});
