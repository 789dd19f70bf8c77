/**
 * A folder holding one corpus photo (invoice.jpg) and one document, and the JSON pattern
 * (title, total) tests read it with: the inputs of the summary, volume and metrics tests
 * that count an image and a document side by side.
 */
import { copyFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { corpus, tempDir } from './images.js';
import { writeJsonPattern } from './patterns.js';

export interface DocumentFolder {
  folder: string;
  /** The document's path. */
  document: string;
  /** The pattern file (outside the folder, so it is not an input). */
  pattern: string;
  /** Bytes of both files: a run's `bytes.original`. */
  fileBytes: number;
}

/** `invoice.jpg` (corpus) and `name` (`bytes`) in a new folder, and a title/total pattern beside it. */
export async function documentFolder(prefix: string, name: string, bytes: Buffer): Promise<DocumentFolder> {
  const folder = await tempDir(prefix);
  const image = path.join(folder, 'invoice.jpg');
  const document = path.join(folder, name);
  await copyFile(corpus('invoice1.jpg'), image);
  await writeFile(document, bytes);
  const pattern = await writeJsonPattern(`${folder}-pattern.json`, {
    name: 'doc',
    instructions: 'Read it.',
    schema: { title: 'string', total: 'number' },
  });
  return { folder, document, pattern, fileBytes: (await stat(image)).size + (await stat(document)).size };
}
