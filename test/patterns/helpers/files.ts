/** Pattern files written to a temporary directory, so loading is tested through the real file path. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect } from 'vitest';
import { isVisionpipeError, type VisionpipeError } from '../../../src/errors.js';

export const SAMPLES_DIR = path.resolve(import.meta.dirname, '../../../samples/patterns');
export const SAMPLE_FILES = [
  'invoice.json',
  'receipt.yaml',
  'parking.yaml',
  'field-service.yaml',
  'resume.yaml',
  'document-classification.json',
] as const;

export function samplePath(file: string): string {
  return path.join(SAMPLES_DIR, file);
}

/** A temporary directory removed after the test file; `write(name, text)` returns the file's path. */
export function tempPatterns(): { write: (name: string, text: string) => Promise<string> } {
  let dir: Promise<string> | undefined;
  afterAll(async () => {
    if (dir) await rm(await dir, { recursive: true, force: true });
  });
  return {
    async write(name, text) {
      dir ??= mkdtemp(path.join(tmpdir(), 'visionpipe-patterns-'));
      const file = path.join(await dir, name);
      await writeFile(file, text);
      return file;
    },
  };
}

/** The VisionpipeError a call throws (sync or async), failing the test if it throws none. */
export async function caught(fn: () => unknown): Promise<VisionpipeError> {
  try {
    await fn();
  } catch (error) {
    expect(isVisionpipeError(error), String(error)).toBe(true);
    return error as VisionpipeError;
  }
  throw new Error('expected a VisionpipeError, nothing was thrown');
}
