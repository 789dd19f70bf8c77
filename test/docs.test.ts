import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { GENERATED } from '../scripts/gen-docs.js';

describe('generated docs', () => {
  for (const [file, render] of Object.entries(GENERATED)) {
    it(`${file} matches the code (run npm run docs)`, async () => {
      const current = await readFile(path.resolve(import.meta.dirname, '..', file), 'utf8');
      expect(current).toBe(render());
    });
  }
});
