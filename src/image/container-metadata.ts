/**
 * Metadata bytes declared by GIF, TIFF and AVIF (HEIF) containers, read from block, tag and
 * box headers only (admit.ts does PNG, JPEG and WebP): what libvips/libtiff/libheif would
 * copy into memory when opening the image, before any pixel is decoded.
 *
 * - GIF: comment, plain-text and application extensions (XMP lives in one), sub-blocks summed.
 * - TIFF: the values of every tag that is not image structure (descriptions, XMP, IPTC,
 *   ICC, Photoshop, private tags), in every IFD and in the EXIF/GPS/Interop IFDs.
 * - AVIF: the `meta` box (item info, properties, ICC in `colr`) plus the extents of `Exif`
 *   and `mime` (XMP) items, which live in `mdat`.
 *
 * Truncated or malformed headers end the count (the decoder then reports the damage); loops
 * are bounded, and IFD cycles are followed once.
 */

/** GIF extension labels that carry metadata: plain text, comment, application. */
const GIF_METADATA_EXTENSIONS = new Set([0x01, 0xfe, 0xff]);

/** Bytes in a GIF's comment, plain-text and application extensions. */
export function gifMetadataBytes(bytes: Uint8Array): number {
  if (bytes.length < 13) return 0;
  let i = 13;
  const flags = bytes[10]!;
  if (flags & 0x80) i += 3 * 2 ** ((flags & 0x07) + 1); // global colour table
  let total = 0;
  while (i < bytes.length) {
    const block = bytes[i]!;
    if (block === 0x3b) break; // trailer
    if (block === 0x21) {
      const counted = GIF_METADATA_EXTENSIONS.has(bytes[i + 1] ?? 0);
      const end = subBlocks(bytes, i + 2);
      if (counted) total += end.data;
      i = end.next;
    } else if (block === 0x2c) {
      if (i + 10 > bytes.length) break;
      const local = bytes[i + 9]!;
      i += 10;
      if (local & 0x80) i += 3 * 2 ** ((local & 0x07) + 1); // local colour table
      i = subBlocks(bytes, i + 1).next; // LZW minimum code size, then the image data
    } else break;
  }
  return total;
}

/** Walks GIF sub-blocks from `start` to their terminator: data bytes and the offset after. */
function subBlocks(bytes: Uint8Array, start: number): { data: number; next: number } {
  let data = 0;
  let i = start;
  while (i < bytes.length) {
    const size = bytes[i]!;
    i += 1;
    if (size === 0) break;
    data += size;
    i += size;
  }
  return { data, next: i };
}

/** TIFF tags that describe the image itself (pixels, layout, colour); every other tag is metadata. */
const TIFF_STRUCTURE_TAGS = new Set([
  254, 255, 256, 257, 258, 259, 262, 263, 266, 273, 274, 277, 278, 279, 280, 281, 282, 283, 284, 286, 287,
  290, 291, 292, 293, 296, 297, 317, 318, 319, 320, 321, 322, 323, 324, 325, 330, 332, 338, 339, 340, 341,
  347, 512, 513, 514, 515, 517, 518, 519, 520, 521, 529, 530, 531, 532,
]);
/** Tags pointing at further IFDs of metadata: EXIF, GPS, Interoperability. */
const TIFF_SUB_IFDS = new Set([34665, 34853, 40965]);
/** Byte size of one value of each TIFF field type (1-13). */
const TIFF_TYPE_BYTES = [0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8, 4];
const MAX_IFDS = 1024;

/** Bytes in the non-structural tag values of a (classic, not Big) TIFF's IFDs. */
export function tiffMetadataBytes(bytes: Uint8Array): number {
  if (bytes.length < 8) return 0;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const little = bytes[0] === 0x49;
  if (view.getUint16(2, little) !== 42) return 0; // BigTIFF (43) is bounded by the input cap
  const pending = [view.getUint32(4, little)];
  const seen = new Set<number>();
  let total = 0;
  while (pending.length > 0 && seen.size < MAX_IFDS) {
    const at = pending.pop()!;
    if (at === 0 || seen.has(at) || at + 2 > bytes.length) continue;
    seen.add(at);
    const entries = view.getUint16(at, little);
    for (let e = 0; e < entries; e++) {
      const entry = at + 2 + e * 12;
      if (entry + 12 > bytes.length) break;
      const tag = view.getUint16(entry, little);
      const type = view.getUint16(entry + 2, little);
      const count = view.getUint32(entry + 4, little);
      if (TIFF_SUB_IFDS.has(tag)) pending.push(view.getUint32(entry + 8, little));
      else if (!TIFF_STRUCTURE_TAGS.has(tag)) total += count * (TIFF_TYPE_BYTES[type] ?? 1);
    }
    const next = at + 2 + entries * 12;
    if (next + 4 <= bytes.length) pending.push(view.getUint32(next, little));
  }
  return total;
}

interface Box {
  type: string;
  start: number;
  /** Offset of the payload (after the header). */
  body: number;
  end: number;
}

/** The ISO-BMFF boxes between `start` and `end`. */
function boxes(view: DataView, start: number, end: number): Box[] {
  const found: Box[] = [];
  for (let at = start; at + 8 <= end && found.length < 4096; ) {
    let size = view.getUint32(at);
    const type = String.fromCharCode(
      view.getUint8(at + 4),
      view.getUint8(at + 5),
      view.getUint8(at + 6),
      view.getUint8(at + 7),
    );
    let body = at + 8;
    if (size === 1 && at + 16 <= end) {
      size = Number(view.getBigUint64(at + 8));
      body = at + 16;
    } else if (size === 0) size = end - at;
    if (size < body - at) break;
    found.push({ type, start: at, body, end: Math.min(at + size, end) });
    at += size;
  }
  return found;
}

/** Bytes of an AVIF's `meta` box and of its Exif/XMP items' extents. */
export function heifMetadataBytes(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const meta = boxes(view, 0, bytes.length).find((box) => box.type === 'meta');
  if (!meta) return 0;
  let total = meta.end - meta.start;
  const children = boxes(view, meta.body + 4, meta.end); // meta is a full box: 4 bytes of version/flags
  const metadataItems = itemsOfType(
    view,
    children.find((box) => box.type === 'iinf'),
  );
  const iloc = children.find((box) => box.type === 'iloc');
  if (iloc && metadataItems.size > 0) total += extentBytes(view, iloc, metadataItems);
  return total;
}

/** IDs of `Exif` and `mime` (XMP) items listed in `iinf`. */
function itemsOfType(view: DataView, iinf: Box | undefined): Set<number> {
  const ids = new Set<number>();
  if (!iinf || iinf.body + 4 > iinf.end) return ids; // no room for version and flags: truncated
  const version = view.getUint8(iinf.body);
  const first = iinf.body + 4 + (version === 0 ? 2 : 4);
  for (const infe of boxes(view, first, iinf.end)) {
    if (infe.type !== 'infe' || infe.body + 4 > infe.end) continue;
    const infeVersion = view.getUint8(infe.body);
    if (infeVersion < 2) continue;
    const idBytes = infeVersion === 2 ? 2 : 4;
    const idAt = infe.body + 4;
    if (idAt + idBytes + 6 > infe.end) continue;
    const id = idBytes === 2 ? view.getUint16(idAt) : view.getUint32(idAt);
    const typeAt = idAt + idBytes + 2;
    const type = String.fromCharCode(
      view.getUint8(typeAt),
      view.getUint8(typeAt + 1),
      view.getUint8(typeAt + 2),
      view.getUint8(typeAt + 3),
    );
    if (type === 'Exif' || type === 'mime') ids.add(id);
  }
  return ids;
}

/** Sum of the extent lengths `iloc` gives the items in `ids`. */
function extentBytes(view: DataView, iloc: Box, ids: Set<number>): number {
  // A field of a size the format does not have, or one that runs past the box (a truncated
  // file), reads as undefined and ends the count.
  const read = (at: number, size: number): number | undefined => {
    if (size === 0) return 0;
    if ((size !== 2 && size !== 4 && size !== 8) || at + size > iloc.end) return undefined;
    return size === 2 ? view.getUint16(at) : size === 4 ? view.getUint32(at) : Number(view.getBigUint64(at));
  };
  if (iloc.body + 6 > iloc.end) return 0;
  const version = view.getUint8(iloc.body);
  let at = iloc.body + 4;
  const offsetSize = view.getUint8(at) >> 4;
  const lengthSize = view.getUint8(at) & 0x0f;
  const baseOffsetSize = view.getUint8(at + 1) >> 4;
  const indexSize = version === 1 || version === 2 ? view.getUint8(at + 1) & 0x0f : 0;
  at += 2;
  const idBytes = version < 2 ? 2 : 4;
  const itemCount = read(at, idBytes) ?? 0;
  at += idBytes;
  let total = 0;
  for (let n = 0; n < itemCount && at < iloc.end; n++) {
    const id = read(at, idBytes);
    if (id === undefined) break;
    at += idBytes;
    if (version === 1 || version === 2) at += 2; // construction method
    at += 2 + baseOffsetSize; // data reference index, base offset
    if (at + 2 > iloc.end) break;
    const extents = view.getUint16(at);
    at += 2;
    for (let x = 0; x < extents; x++) {
      at += indexSize + offsetSize;
      const length = read(at, lengthSize);
      if (length === undefined) return total;
      if (ids.has(id)) total += length;
      at += lengthSize;
    }
  }
  return total;
}
