/**
 * Format detection from magic bytes. The file extension is never trusted: a `.jpg`
 * that is really a PNG is read as a PNG, an HTML page saved as `.jpg` is refused.
 */

import { VisionpipeError } from '../errors.js';

/** Formats visionpipe decodes (through libvips). */
export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'tiff' | 'avif';

export const SUPPORTED_FORMATS: readonly ImageFormat[] = ['jpeg', 'png', 'webp', 'gif', 'tiff', 'avif'];

export type SniffResult =
  | { supported: true; format: ImageFormat }
  | { supported: false; kind: string; reason: string };

const NOT_SUPPORTED_REASONS: Record<string, string> = {
  heic: 'HEIC/HEIF is read as a document by `run` and the library (docs/documents.md), not by this command',
  pdf: 'PDF is read as a document by `run` and the library (docs/documents.md), not by this command',
  bmp: 'BMP is not supported by the bundled libvips; convert to PNG first',
  svg: 'SVG is not supported: vision providers need raster images',
  jxl: 'JPEG XL is not supported by the bundled libvips',
  ico: 'ICO is not supported',
  psd: 'PSD is not supported',
  html: 'this is an HTML page, not an image (a login or error page saved under an image name?)',
  text: 'this is a text file, not an image',
  empty: 'the input is empty',
  truncated: 'the input is cut short',
  unknown: 'the bytes do not start with the signature of any supported image format',
};

function startsWith(bytes: Uint8Array, signature: readonly number[], offset = 0): boolean {
  if (bytes.length < offset + signature.length) return false;
  for (let i = 0; i < signature.length; i++) if (bytes[offset + i] !== signature[i]) return false;
  return true;
}

/**
 * The bytes `start`..`end` as latin1, cut at the end of the input: a short input gives a
 * short (or empty) string, never a read past its end. Every header reader here goes through
 * `ascii`, `startsWith` or `uint32` so a 1-byte file is sniffed like any other.
 */
function ascii(bytes: Uint8Array, start: number, end: number): string {
  const from = Math.min(start, bytes.length);
  return Buffer.from(
    bytes.buffer,
    bytes.byteOffset + from,
    Math.max(0, Math.min(end, bytes.length) - from),
  ).toString('latin1');
}

/** Big-endian 32-bit value at `at`, or undefined when the input ends before it. */
function uint32(bytes: Uint8Array, at: number): number | undefined {
  if (at + 4 > bytes.length) return undefined;
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}

/** ISO-BMFF (`ftyp` box) brands tell AVIF from HEIC. */
function sniffIsoBmff(bytes: Uint8Array): SniffResult | undefined {
  if (ascii(bytes, 4, 8) !== 'ftyp') return undefined;
  const boxSize = uint32(bytes, 0) ?? 0;
  const brands: string[] = [ascii(bytes, 8, 12)];
  for (let at = 16; at + 4 <= Math.min(boxSize, bytes.length, 64); at += 4)
    brands.push(ascii(bytes, at, at + 4));
  if (brands.some((b) => b === 'avif' || b === 'avis')) return { supported: true, format: 'avif' };
  if (brands.some((b) => ['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'mif1', 'msf1'].includes(b))) {
    return unsupported('heic');
  }
  return undefined;
}

function unsupported(kind: string): SniffResult {
  return { supported: false, kind, reason: NOT_SUPPORTED_REASONS[kind] ?? NOT_SUPPORTED_REASONS.unknown! };
}

/** Signatures a file cut short inside of is named by (longest first where they share bytes). */
const SIGNATURES: readonly (readonly [string, readonly number[]])[] = [
  ['PNG', [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]],
  ['JPEG', [0xff, 0xd8, 0xff]],
  ['GIF', [...'GIF8'].map((c) => c.charCodeAt(0))],
  ['WebP', [...'RIFF'].map((c) => c.charCodeAt(0))],
  ['TIFF', [0x49, 0x49, 0x2a, 0x00]],
  ['TIFF', [0x4d, 0x4d, 0x00, 0x2a]],
  ['PDF', [...'%PDF-'].map((c) => c.charCodeAt(0))],
];

/**
 * An input that ends inside a format's signature (the first 1–7 bytes of a PNG, 2 bytes of a
 * JPEG) or inside an ISO-BMFF `ftyp` box (HEIC/AVIF) is named as cut short, not as text.
 * One printable byte alone ("M", "%") is too little to say so.
 */
function truncatedSignature(bytes: Uint8Array): SniffResult | undefined {
  for (const [name, signature] of SIGNATURES) {
    if (bytes.length >= signature.length || !bytes.every((b, i) => b === signature[i])) continue;
    if (bytes.length === 1 && bytes[0]! >= 0x20 && bytes[0]! < 0x7f) continue;
    return cutShort(bytes.length, `inside the signature of a ${name}`);
  }
  if (bytes.length < 12 && ascii(bytes, 4, 8) === 'ftyp')
    return cutShort(bytes.length, 'inside an ISO-BMFF header (HEIC/AVIF)');
  return undefined;
}

function cutShort(length: number, where: string): SniffResult {
  return {
    supported: false,
    kind: 'truncated',
    reason: `the input is cut short: it ends after ${length} byte${length === 1 ? '' : 's'}, ${where} (an interrupted download or copy?)`,
  };
}

/** Printable-text heuristic over the first bytes: no NULs and mostly printable ASCII/UTF-8. */
function looksLikeText(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, 512);
  let printable = 0;
  for (let i = 0; i < n; i++) {
    const b = bytes[i]!;
    if (b === 0) return false;
    if (b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127) || b >= 128) printable++;
  }
  return printable / n > 0.95;
}

export function sniffFormat(bytes: Uint8Array): SniffResult {
  if (bytes.length === 0) return unsupported('empty');
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return { supported: true, format: 'jpeg' };
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
    return { supported: true, format: 'png' };
  if (ascii(bytes, 0, 6) === 'GIF87a' || ascii(bytes, 0, 6) === 'GIF89a')
    return { supported: true, format: 'gif' };
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 12) === 'WEBP')
    return { supported: true, format: 'webp' };
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) {
    return { supported: true, format: 'tiff' };
  }
  const iso = sniffIsoBmff(bytes);
  if (iso) return iso;
  if (ascii(bytes, 0, 5) === '%PDF-') return unsupported('pdf');
  if (ascii(bytes, 0, 2) === 'BM') return unsupported('bmp');
  if (startsWith(bytes, [0xff, 0x0a]) || startsWith(bytes, [0, 0, 0, 0x0c, 0x4a, 0x58, 0x4c, 0x20])) {
    return unsupported('jxl');
  }
  if (startsWith(bytes, [0, 0, 1, 0])) return unsupported('ico');
  if (ascii(bytes, 0, 4) === '8BPS') return unsupported('psd');
  const truncated = truncatedSignature(bytes);
  if (truncated) return truncated;
  if (looksLikeText(bytes)) {
    const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 1024))
      .toString('utf8')
      .replace(/^\uFEFF/, '')
      .trimStart()
      .toLowerCase();
    if (head.startsWith('<!doctype html') || head.startsWith('<html') || /<(head|body)[\s>]/.test(head)) {
      return unsupported('html');
    }
    if (head.startsWith('<svg') || (head.startsWith('<?xml') && head.includes('<svg')))
      return unsupported('svg');
    return unsupported('text');
  }
  return unsupported('unknown');
}

/** The sniffed format, or EMPTY_INPUT / UNSUPPORTED_FORMAT naming the input and what it really is. */
export function requireSupportedFormat(bytes: Uint8Array, label: string): ImageFormat {
  const result = sniffFormat(bytes);
  if (result.supported) return result.format;
  if (result.kind === 'empty') {
    throw new VisionpipeError('EMPTY_INPUT', `${label}: the input is empty (0 bytes)`, { input: label });
  }
  throw new VisionpipeError('UNSUPPORTED_FORMAT', `${label}: ${result.reason}`, { input: label });
}
