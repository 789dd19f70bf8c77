/**
 * An image's header read without decoding its pixels (sharp's metadata: milliseconds, no
 * pixel buffer): the API refuses at ingest what no decoder can open (JPEG magic then
 * random bytes), instead of a 202 whose job fails in the worker. A header that reads but
 * a body that is cut short can still fail later, at decode (IMAGE_DECODE on the job).
 */
import sharp from 'sharp';
import { decodeError } from './decode-error.js';
import type { ImageFormat } from './sniff.js';

/** Resolves when the header gives the image's width and height; else IMAGE_DECODE naming `label`. */
export async function readImageHeader(bytes: Buffer, label: string, format: ImageFormat): Promise<void> {
  try {
    const { width, height } = await sharp(bytes).metadata();
    if (!width || !height) throw new Error('the header gives no width and height');
  } catch (error) {
    throw decodeError(error, label, format);
  }
}
