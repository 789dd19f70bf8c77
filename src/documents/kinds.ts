/**
 * Which inputs are documents (several pages, or a format libvips cannot decode itself)
 * rather than plain images: PDF (`%PDF-`), HEIC/HEIF (ISO-BMFF brands other than AVIF)
 * and TIFF (which is a document only when it has more than one page: see openDocument).
 */

export type DocumentKind = 'pdf' | 'heic' | 'tiff';

const HEIC_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'mif1', 'msf1']);

function ascii(bytes: Uint8Array, start: number, end: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString(
    'latin1',
    start,
    Math.min(end, bytes.length),
  );
}

/** The document kind the bytes start like, or undefined for anything else. */
export function documentKind(bytes: Uint8Array): DocumentKind | undefined {
  // PDF readers accept the header within the first 1024 bytes; so do we.
  const head = ascii(bytes, 0, 1024);
  if (head.startsWith('%PDF-') || (bytes.length > 5 && head.includes('%PDF-') && !head.includes('\0'))) {
    return 'pdf';
  }
  if (ascii(bytes, 4, 8) === 'ftyp') {
    const brands = [ascii(bytes, 8, 12)];
    const boxSize = bytes.length >= 4 ? Buffer.from(bytes.buffer, bytes.byteOffset, 4).readUInt32BE(0) : 0;
    for (let at = 16; at + 4 <= Math.min(boxSize, bytes.length, 64); at += 4)
      brands.push(ascii(bytes, at, at + 4));
    if (brands.some((brand) => brand === 'avif' || brand === 'avis')) return undefined;
    if (brands.some((brand) => HEIC_BRANDS.has(brand))) return 'heic';
  }
  const tiff = ascii(bytes, 0, 4);
  if (tiff === 'II*\0' || tiff === 'MM\0*') return 'tiff';
  return undefined;
}
