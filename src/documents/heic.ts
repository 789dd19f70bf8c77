/**
 * HEIC/HEIF (phone photos). sharp's prebuilt libvips reads AVIF but has no HEVC decoder,
 * so the primary image is decoded by libheif compiled to WebAssembly (heic-decode over
 * libheif-js, LGPL-3.0 as a separate, replaceable package). The image's own transforms
 * (rotation, mirroring, crop boxes) are applied by libheif.
 */
import decode from 'heic-decode';
import { VisionpipeError } from '../errors.js';
import type { Bitmap } from './pdf.js';

/** Decodes the primary image to RGBA. DOCUMENT_DAMAGED naming `label` when libheif cannot. */
export async function decodeHeic(bytes: Uint8Array, label: string): Promise<Bitmap> {
  try {
    const image = await decode({ buffer: bytes });
    return {
      data: new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength),
      width: image.width,
      height: image.height,
    };
  } catch (error) {
    throw new VisionpipeError(
      'DOCUMENT_DAMAGED',
      `${label}: cannot decode this HEIC (${error instanceof Error ? error.message : String(error)})`,
      { input: label, cause: error },
    );
  }
}
