/**
 * Byte-level JPEG helpers that need no decode:
 * - `estimateJpegQuality` reads the luminance quantisation table and finds the IJG
 *   quality that produced it, so a q70 phone photo is not re-encoded at q85 (which
 *   only adds bytes: the detail is already gone).
 * - `stripJpegMetadata` drops APPn (EXIF, GPS, XMP, ICC, IPTC) and COM segments and
 *   anything after the end-of-image marker, losslessly. Used when re-encoding would
 *   not make a JPEG smaller.
 */

// IJG standard luminance table (natural order) and the zig-zag order tables are stored in.
const STD_LUMA = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22,
  29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103,
  121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];
const ZIGZAG = [
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7,
  14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46,
  53, 60, 61, 54, 47, 55, 62, 63,
];

const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;
const DQT = 0xdb;
const COM = 0xfe;
const APP0 = 0xe0;
const APP14 = 0xee;

/** Markers with no length field. */
function isStandalone(marker: number): boolean {
  return marker === SOI || marker === EOI || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7);
}

interface Segment {
  marker: number;
  start: number;
  end: number;
}

/**
 * Walks the marker segments of a JPEG, including those between progressive scans,
 * calling `visit` for each (it returns false to stop the walk); returns the offset just
 * past EOI, or -1 when malformed or stopped.
 */
function walkSegments(bytes: Uint8Array, visit: (segment: Segment) => boolean): number {
  if (bytes[0] !== 0xff || bytes[1] !== SOI) return -1;
  let i = 2;
  while (i + 1 < bytes.length) {
    if (bytes[i] !== 0xff) return -1;
    const marker = bytes[i + 1]!;
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    if (marker === EOI) return i + 2;
    if (isStandalone(marker)) {
      if (!visit({ marker, start: i, end: i + 2 })) return -1;
      i += 2;
      continue;
    }
    if (i + 3 >= bytes.length) return -1;
    const length = (bytes[i + 2]! << 8) | bytes[i + 3]!;
    const end = i + 2 + length;
    if (length < 2 || end > bytes.length) return -1;
    if (!visit({ marker, start: i, end })) return -1;
    i = end;
    if (marker === SOS) {
      // Entropy-coded data: runs until a marker other than a stuffed 0xFF00 or a restart.
      // indexOf is native: scanning megabytes of scan data byte by byte in JS is not.
      let j = bytes.indexOf(0xff, i);
      while (j !== -1 && j + 1 < bytes.length) {
        const next = bytes[j + 1]!;
        if (next === 0x00 || (next >= 0xd0 && next <= 0xd7)) j = bytes.indexOf(0xff, j + 2);
        else if (next === 0xff) j++;
        else break;
      }
      if (j === -1 || j + 1 >= bytes.length) return -1;
      if (!visit({ marker: -1, start: i, end: j })) return -1; // scan data
      i = j;
    }
  }
  return -1;
}

/** Luminance quantisation table 0 in natural order, or undefined when absent or malformed. */
function lumaTable(bytes: Uint8Array): number[] | undefined {
  let table: number[] | undefined;
  walkSegments(bytes, ({ marker, start, end }) => {
    if (table || marker === SOS) return false; // tables precede the first scan
    if (marker !== DQT) return true;
    let j = start + 4;
    while (j < end) {
      const precision = bytes[j]! >> 4;
      const id = bytes[j]! & 0x0f;
      j++;
      const size = precision ? 128 : 64;
      if (j + size > end) return false;
      if (id === 0) {
        const natural = new Array<number>(64);
        for (let k = 0; k < 64; k++) {
          natural[ZIGZAG[k]!] = precision ? (bytes[j + 2 * k]! << 8) | bytes[j + 2 * k + 1]! : bytes[j + k]!;
        }
        table = natural;
        return false;
      }
      j += size;
    }
    return true;
  });
  return table;
}

/**
 * The IJG quality (1–100) whose scaled standard table is closest to the file's
 * luminance table; undefined for non-JPEG data or non-IJG tables that match nothing well.
 */
export function estimateJpegQuality(bytes: Uint8Array): number | undefined {
  const table = lumaTable(bytes);
  if (!table) return undefined;
  let best = 0;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (let q = 1; q <= 100; q++) {
    const scale = q < 50 ? 5000 / q : 200 - 2 * q;
    let distance = 0;
    for (let k = 0; k < 64; k++) {
      const expected = Math.min(255, Math.max(1, Math.floor((STD_LUMA[k]! * scale + 50) / 100)));
      distance += Math.abs(expected - table[k]!);
    }
    if (distance < bestDistance) {
      bestDistance = distance;
      best = q;
    }
  }
  // Average error above ~12 per coefficient means a custom table: no reliable estimate.
  return bestDistance / 64 <= 12 ? best : undefined;
}

/**
 * The same JPEG without APP1–APP15 and COM segments and without trailing bytes after
 * EOI; APP0 (JFIF) and APP14 (Adobe colour transform) are kept because decoders need
 * them. Returns undefined when the structure cannot be walked safely.
 */
export function stripJpegMetadata(bytes: Uint8Array): Buffer | undefined {
  const kept: Uint8Array[] = [Uint8Array.of(0xff, SOI)];
  const end = walkSegments(bytes, ({ marker, start, end: segmentEnd }) => {
    const isMetadata = (marker > APP0 && marker <= 0xef && marker !== APP14) || marker === COM;
    if (!isMetadata) kept.push(bytes.subarray(start, segmentEnd));
    return true;
  });
  if (end === -1) return undefined;
  kept.push(Uint8Array.of(0xff, EOI));
  return Buffer.concat(kept);
}
