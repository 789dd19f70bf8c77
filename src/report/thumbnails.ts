/**
 * Thumbnails for the images a report lists: the input file read again and shrunk with
 * sharp to at most 160 px, as a JPEG data URI, so the report stays one file. Inputs that
 * are URLs, gone, or not images (a corrupt file was likely why it failed) get none.
 */
import { stat } from 'node:fs/promises';
import sharp from 'sharp';

/** Longest edge of a thumbnail, px. */
export const THUMBNAIL_EDGE = 160;
/** Files larger than this are not decoded for a thumbnail (bytes). */
const MAX_THUMBNAIL_SOURCE = 64 * 1024 * 1024;

export async function thumbnail(input: string): Promise<string | undefined> {
  if (/^[a-z][a-z0-9+.-]*:/i.test(input) && !/^[a-z]:[\\/]/i.test(input)) return undefined; // URL, data URI
  try {
    const info = await stat(input);
    if (!info.isFile() || info.size > MAX_THUMBNAIL_SOURCE) return undefined;
    const jpeg = await sharp(input, { limitInputPixels: 200_000_000 })
      .rotate()
      .resize(THUMBNAIL_EDGE, THUMBNAIL_EDGE, { fit: 'inside', withoutEnlargement: true })
      .flatten({ background: '#ffffff' })
      .jpeg({ quality: 70 })
      .toBuffer();
    return `data:image/jpeg;base64,${jpeg.toString('base64')}`;
  } catch {
    return undefined;
  }
}

/** Thumbnails for distinct inputs, a few at a time; a map from input to data URI. */
export async function thumbnails(inputs: Iterable<string>, concurrency = 4): Promise<Map<string, string>> {
  const queue = [...new Set(inputs)];
  const out = new Map<string, string>();
  const worker = async () => {
    for (let input = queue.shift(); input !== undefined; input = queue.shift()) {
      const uri = await thumbnail(input);
      if (uri) out.set(input, uri);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, worker));
  return out;
}
