/**
 * Metadata caps beyond PNG/JPEG/WebP (issue 12): GIF extensions, TIFF tags and AVIF/HEIC
 * Exif/XMP items and meta boxes are counted from their headers, and a crafted file over the
 * cap is METADATA_LIMIT before any decoder opens it, as an image (admitImage) and as a
 * document (multi-page TIFF, HEIC through openDocument). Crafted with sharp and by hand.
 */
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { openDocument } from '../../src/documents/document.js';
import { admitImage, DEFAULT_MAX_METADATA_BYTES, metadataBytes } from '../../src/image/admit.js';
import {
  gifMetadataBytes,
  heifMetadataBytes,
  tiffMetadataBytes,
} from '../../src/image/container-metadata.js';

const DOC = { limits: { maxLongEdge: 768 } };
const OVER = DEFAULT_MAX_METADATA_BYTES + 4096;
const base = () => sharp({ create: { width: 16, height: 16, channels: 3, background: '#888' } });

/** GIF extension `label` with `size` bytes of data in 255-byte sub-blocks. */
function gifExtension(label: number, size: number): Buffer {
  const parts: Buffer[] = [Buffer.from([0x21, label])];
  for (let left = size; left > 0; left -= 255) {
    const n = Math.min(255, left);
    parts.push(Buffer.from([n]), Buffer.alloc(n, 0x43));
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/** `gif` with `extension` inserted after the header, screen descriptor and global colour table. */
function gifWith(gif: Buffer, extension: Buffer): Buffer {
  const flags = gif[10]!;
  const at = 13 + (flags & 0x80 ? 3 * 2 ** ((flags & 0x07) + 1) : 0);
  return Buffer.concat([gif.subarray(0, at), extension, gif.subarray(at)]);
}

/** An HEIC-branded copy of an AVIF: the same ISO-BMFF container, every `ftyp` brand made HEIF. */
function asHeic(avif: Buffer): Buffer {
  const copy = Buffer.from(avif);
  const ftypEnd = copy.readUInt32BE(0);
  for (let at = 8; at + 4 <= ftypEnd; at += 4) {
    const brand = copy.toString('latin1', at, at + 4);
    if (brand === 'avif' || brand === 'avis') copy.write('heic', at, 'latin1');
  }
  return copy;
}

let gif: Buffer;
let tiff: Buffer;
let avif: Buffer;
beforeAll(async () => {
  gif = await base().gif().toBuffer();
  tiff = await base().tiff().toBuffer();
  avif = await base().avif({ effort: 0 }).toBuffer();
});

describe('GIF', () => {
  it('counts comment, plain-text and application extensions, not image data or control blocks', () => {
    const plain = gifMetadataBytes(gif);
    expect(plain).toBeLessThan(64);
    expect(gifMetadataBytes(gifWith(gif, gifExtension(0xfe, 10_000)))).toBe(plain + 10_000);
    expect(gifMetadataBytes(gifWith(gif, gifExtension(0xff, 3000)))).toBe(plain + 3000);
    expect(gifMetadataBytes(gifWith(gif, gifExtension(0x01, 700)))).toBe(plain + 700);
    expect(gifMetadataBytes(gifWith(gif, gifExtension(0xf9, 4)))).toBe(plain); // graphic control
    // Blocks after the image are counted too (a comment may follow the frame).
    const trailer = gif.length - 1;
    const after = Buffer.concat([gif.subarray(0, trailer), gifExtension(0xfe, 500), gif.subarray(trailer)]);
    expect(gifMetadataBytes(after)).toBe(plain + 500);
    expect(gifMetadataBytes(gif.subarray(0, 8))).toBe(0);
  });

  it('a GIF with a 2 MiB comment is METADATA_LIMIT before decoding; a small one passes', async () => {
    const bloated = gifWith(gif, gifExtension(0xfe, OVER));
    expect(() => admitImage(bloated, 'comment.gif')).toThrow(
      expect.objectContaining({ code: 'METADATA_LIMIT' }),
    );
    const fine = gifWith(gif, gifExtension(0xfe, 1000));
    expect(admitImage(fine, 'fine.gif')).toBe('gif');
    expect((await sharp(fine).metadata()).width).toBe(16); // still a valid GIF
  });
});

describe('TIFF', () => {
  it('counts XMP and other non-structural tags, not strips or dimensions', async () => {
    const plain = tiffMetadataBytes(tiff);
    expect(plain).toBeLessThan(1024);
    const xmp = `<x:xmpmeta xmlns:x="adobe:ns:meta/">${'d'.repeat(50_000)}</x:xmpmeta>`;
    const withXmp = await base().tiff().withXmp(xmp).toBuffer();
    expect(tiffMetadataBytes(withXmp)).toBeGreaterThanOrEqual(50_000);
    expect(metadataBytes(withXmp, 'tiff')).toBe(tiffMetadataBytes(withXmp));
    expect(tiffMetadataBytes(tiff.subarray(0, 6))).toBe(0);
  });

  it('follows the EXIF IFD and every page, and stops on an IFD cycle', () => {
    // Hand-made little-endian TIFF: IFD0 (one private tag of 1000 bytes, an EXIF IFD pointer,
    // next IFD = itself: a cycle), the EXIF IFD (UserComment of 2000 bytes).
    const file = Buffer.alloc(200);
    file.write('II', 0, 'latin1');
    file.writeUInt16LE(42, 2);
    file.writeUInt32LE(8, 4);
    file.writeUInt16LE(2, 8);
    file.writeUInt16LE(50_000, 10); // private tag
    file.writeUInt16LE(7, 12); // UNDEFINED
    file.writeUInt32LE(1000, 14);
    file.writeUInt16LE(34665, 22); // EXIF IFD
    file.writeUInt16LE(4, 24);
    file.writeUInt32LE(1, 26);
    file.writeUInt32LE(100, 30);
    file.writeUInt32LE(8, 34); // next IFD: IFD0 again
    file.writeUInt16LE(1, 100);
    file.writeUInt16LE(37510, 102); // UserComment
    file.writeUInt16LE(7, 104);
    file.writeUInt32LE(2000, 106);
    expect(tiffMetadataBytes(file)).toBe(3000);
    const big = Buffer.from(file);
    big.writeUInt32LE(OVER, 14);
    expect(() => admitImage(Buffer.concat([big, Buffer.alloc(16)]), 'tags.tif')).toThrow(
      expect.objectContaining({ code: 'METADATA_LIMIT' }),
    );
  });

  it('a TIFF document with 2 MiB of XMP is METADATA_LIMIT before its pages are opened', async () => {
    const xmp = `<x:xmpmeta xmlns:x="adobe:ns:meta/">${'d'.repeat(OVER)}</x:xmpmeta>`;
    const bloated = await base().tiff().withXmp(xmp).toBuffer();
    await expect(openDocument(bloated, 'scan.tif', DOC)).rejects.toMatchObject({ code: 'METADATA_LIMIT' });
    const fine = await openDocument(tiff, 'fine.tif', DOC);
    expect(fine.pages).toEqual([1]);
    fine.close();
  });
});

describe('AVIF and HEIC', () => {
  it('counts the meta box and the XMP item stored in mdat', async () => {
    const plain = heifMetadataBytes(avif);
    expect(plain).toBeGreaterThan(0);
    expect(plain).toBeLessThan(4096);
    const xmp = `<x:xmpmeta xmlns:x="adobe:ns:meta/">${'d'.repeat(40_000)}</x:xmpmeta>`;
    const withXmp = await base().avif({ effort: 0 }).withXmp(xmp).toBuffer();
    expect(metadataBytes(withXmp, 'avif')).toBeGreaterThanOrEqual(40_000);
    expect(heifMetadataBytes(avif.subarray(0, 20))).toBe(0);
  });

  it('an AVIF with 2 MiB of XMP is METADATA_LIMIT, and so is the same container as a HEIC document', async () => {
    const xmp = `<x:xmpmeta xmlns:x="adobe:ns:meta/">${'d'.repeat(OVER)}</x:xmpmeta>`;
    const bloated = await base().avif({ effort: 0 }).withXmp(xmp).toBuffer();
    expect(() => admitImage(bloated, 'xmp.avif')).toThrow(
      expect.objectContaining({ code: 'METADATA_LIMIT' }),
    );
    expect(admitImage(avif, 'fine.avif')).toBe('avif');
    await expect(openDocument(asHeic(bloated), 'photo.heic', DOC)).rejects.toMatchObject({
      code: 'METADATA_LIMIT',
    });
  });
});
