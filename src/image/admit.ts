/**
 * What every image passes before anything decodes it, whatever the options (preprocess,
 * `--near-dup` hashing, triage, optimize): the same checks in the same order, so the same
 * bad input gets the same record code everywhere.
 *
 * 1. sniff the container from its first bytes (sniff.ts): EMPTY_INPUT or UNSUPPORTED_FORMAT
 *    (an SVG, a text file, a PDF are named as such, never "cannot decode");
 * 2. cap the metadata the container carries (EXIF, XMP, ICC, IPTC, PNG text chunks, WebP
 *    EXIF/XMP/ICCP chunks, GIF extensions, TIFF tags, AVIF meta box and Exif/XMP items;
 *    container-metadata.ts) at `maxMetadataBytes` by reading chunk headers only: libvips
 *    copies metadata into memory when it opens an image, so a 30 MB eXIf chunk in a 16×16
 *    PNG would cost hundreds of MB. METADATA_LIMIT, nothing decoded.
 *
 * Pixel counts are checked next by the caller from the header (PIXEL_LIMIT). With both caps,
 * the memory one image takes before decoding is bounded by its bytes plus
 * `maxMetadataBytes`, and decoding by `limitInputPixels` × 4 bytes.
 */
import { VisionpipeError } from '../errors.js';
import { gifMetadataBytes, heifMetadataBytes, tiffMetadataBytes } from './container-metadata.js';
import { type ImageFormat, requireSupportedFormat } from './sniff.js';

/** Default metadata budget: 2 MiB, above any camera's EXIF + ICC + XMP. */
export const DEFAULT_MAX_METADATA_BYTES = 2 * 1024 * 1024;

/** PNG chunks that hold pixels or decoding parameters; every other chunk counts as metadata. */
const PNG_IMAGE_CHUNKS = new Set([
  'IHDR',
  'PLTE',
  'IDAT',
  'IEND',
  'tRNS',
  'gAMA',
  'cHRM',
  'sRGB',
  'sBIT',
  'bKGD',
  'pHYs',
  'acTL',
  'fcTL',
  'fdAT',
]);

function pngMetadataBytes(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let total = 0;
  for (let i = 8; i + 8 <= bytes.length; ) {
    const length = view.getUint32(i);
    const type = String.fromCharCode(bytes[i + 4]!, bytes[i + 5]!, bytes[i + 6]!, bytes[i + 7]!);
    if (!PNG_IMAGE_CHUNKS.has(type)) total += length;
    if (type === 'IEND') break;
    i += 12 + length;
  }
  return total;
}

function jpegMetadataBytes(bytes: Uint8Array): number {
  let total = 0;
  for (let i = 2; i + 4 <= bytes.length; ) {
    if (bytes[i] !== 0xff) break;
    const marker = bytes[i + 1]!;
    if (marker === 0xff) {
      i++;
      continue;
    }
    if (marker === 0xda || marker === 0xd9) break; // start of scan: metadata comes before it
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2;
      continue;
    }
    const length = (bytes[i + 2]! << 8) | bytes[i + 3]!;
    if ((marker >= 0xe0 && marker <= 0xef) || marker === 0xfe) total += length; // APPn, COM
    i += 2 + length;
  }
  return total;
}

function webpMetadataBytes(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let total = 0;
  for (let i = 12; i + 8 <= bytes.length; ) {
    const type = String.fromCharCode(bytes[i]!, bytes[i + 1]!, bytes[i + 2]!, bytes[i + 3]!);
    const length = view.getUint32(i + 4, true);
    if (type === 'EXIF' || type === 'XMP ' || type === 'ICCP') total += length;
    i += 8 + length + (length % 2);
  }
  return total;
}

/** Bytes of metadata declared in the container (chunk headers only; nothing decoded). */
export function metadataBytes(bytes: Uint8Array, format: ImageFormat): number {
  if (format === 'png') return pngMetadataBytes(bytes);
  if (format === 'jpeg') return jpegMetadataBytes(bytes);
  if (format === 'webp') return webpMetadataBytes(bytes);
  if (format === 'gif') return gifMetadataBytes(bytes);
  if (format === 'tiff') return tiffMetadataBytes(bytes);
  return heifMetadataBytes(bytes); // avif
}

export interface AdmitOptions {
  /** Largest metadata accepted, in bytes. Default DEFAULT_MAX_METADATA_BYTES. */
  maxMetadataBytes?: number;
}

/** Sniffs and caps an image before any decoder sees it; returns its format. */
export function admitImage(bytes: Uint8Array, label: string, options: AdmitOptions = {}): ImageFormat {
  const format = requireSupportedFormat(bytes, label);
  requireMetadataWithin(metadataBytes(bytes, format), label, options);
  return format;
}

/**
 * METADATA_LIMIT when `declared` metadata bytes exceed `maxMetadataBytes` (default 2 MiB);
 * also used for documents (multi-page TIFF, HEIC) before their pages are opened.
 */
export function requireMetadataWithin(declared: number, label: string, options: AdmitOptions = {}): void {
  const limit = options.maxMetadataBytes ?? DEFAULT_MAX_METADATA_BYTES;
  if (declared > limit) {
    throw new VisionpipeError(
      'METADATA_LIMIT',
      `${label}: ${declared} bytes of metadata (EXIF, XMP, ICC, text chunks) exceed the ${limit}-byte limit; nothing was decoded`,
      { input: label },
    );
  }
}
