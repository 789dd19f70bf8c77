/**
 * Fixture generators: real images made with sharp, written to a temporary folder.
 * Used by tests and benchmarks; nothing here is committed as binary data.
 */
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createDeflate } from 'node:zlib';
import sharp from 'sharp';

/**
 * The shared real-world corpus, used by path (never copied into the repo): beside the
 * checkout as the README describes, or wherever VISIONPIPE_CORPUS_DIR points (CI clones).
 */
export const CORPUS_DIR =
  [
    process.env.VISIONPIPE_CORPUS_DIR,
    path.resolve(import.meta.dirname, '../../../shared/corpus/imggo-test-images'),
    '/work/shared/corpus/imggo-test-images',
  ].find((dir): dir is string => dir !== undefined && existsSync(dir)) ??
  path.resolve(import.meta.dirname, '../../../shared/corpus/imggo-test-images');

export function corpus(name: string): string {
  return path.join(CORPUS_DIR, name);
}

export async function tempDir(prefix = 'visionpipe-test-'): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix));
}

/** Deterministic pseudo-random bytes (mulberry32), so fixtures are the same on every run. */
export function seededBytes(length: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let state = seed >>> 0;
  for (let i = 0; i < length; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) & 0xff;
  }
  return out;
}

/**
 * A photo-like JPEG: smooth colour regions (low-res noise upscaled) with fine grain on
 * top, which compresses like a phone photo (~3–5 MB at 12 MP, q92).
 */
export async function photoLikeJpeg(
  width: number,
  height: number,
  seed: number,
  quality = 92,
): Promise<Buffer> {
  const coarseW = Math.max(2, Math.round(width / 64));
  const coarseH = Math.max(2, Math.round(height / 64));
  const base = await sharp(seededBytes(coarseW * coarseH * 3, seed), {
    raw: { width: coarseW, height: coarseH, channels: 3 },
  })
    .resize(width, height, { kernel: 'cubic' })
    .raw()
    .toBuffer();
  const grainW = Math.ceil(width / 2);
  const grainH = Math.ceil(height / 2);
  const grain = await sharp(seededBytes(grainW * grainH, seed + 1), {
    raw: { width: grainW, height: grainH, channels: 1 },
  })
    .resize(width, height, { kernel: 'nearest' })
    .raw()
    .toBuffer();
  for (let i = 0, g = 0; i < base.length; i += 3, g++) {
    const n = (grain[g]! - 128) >> 3;
    base[i] = Math.max(0, Math.min(255, base[i]! + n));
    base[i + 1] = Math.max(0, Math.min(255, base[i + 1]! + n));
    base[i + 2] = Math.max(0, Math.min(255, base[i + 2]! + n));
  }
  return sharp(base, { raw: { width, height, channels: 3 } })
    .jpeg({ quality })
    .toBuffer();
}

/**
 * 300×200 JPEG whose stored left half is red and right half blue, tagged with EXIF
 * orientation 6 (display rotated 90° clockwise): shown upright it is 200×300, red on top.
 */
export async function orientedJpeg(): Promise<Buffer> {
  const red = await sharp({ create: { width: 150, height: 200, channels: 3, background: '#ff0000' } })
    .png()
    .toBuffer();
  return sharp({ create: { width: 300, height: 200, channels: 3, background: '#0000ff' } })
    .composite([{ input: red, left: 0, top: 0 }])
    .jpeg({ quality: 95 })
    .withMetadata({ orientation: 6 })
    .toBuffer();
}

/** 100×100 PNG, transparent except a black 20×20 square in the middle. */
export async function transparentPng(): Promise<Buffer> {
  const square = await sharp({ create: { width: 20, height: 20, channels: 4, background: '#000000ff' } })
    .png()
    .toBuffer();
  return sharp({
    create: { width: 100, height: 100, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } },
  })
    .composite([{ input: square, left: 40, top: 40 }])
    .png()
    .toBuffer();
}

/** A JPEG carrying camera EXIF and GPS coordinates. */
export async function jpegWithGps(width = 640, height = 480): Promise<Buffer> {
  return sharp(await photoLikeJpeg(width, height, 7))
    .jpeg({ quality: 90 })
    .withExif({
      IFD0: { Make: 'VisionpipeTestCam', Model: 'GPS-1', Copyright: 'SECRET-OWNER' },
      IFD3: {
        GPSLatitudeRef: 'N',
        GPSLatitude: '48/1 51/1 2981/100',
        GPSLongitudeRef: 'E',
        GPSLongitude: '2/1 17/1 4002/100',
      },
    })
    .toBuffer();
}

/**
 * A 17 000 × 17 000 greyscale PNG that is a few hundred kB on disk and 289 MP decoded:
 * a decompression bomb. Written once per machine into the temp folder.
 */
export async function pngBomb(dir: string, side = 17_000): Promise<string> {
  const file = path.join(dir, `bomb-${side}.png`);
  try {
    if ((await stat(file)).size > 0) return file;
  } catch {}
  await mkdir(dir, { recursive: true });
  const crcTable = new Int32Array(256).map((_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c;
  });
  const crc32 = (buf: Buffer) => {
    let c = -1;
    for (const byte of buf) c = crcTable[(c ^ byte) & 0xff]! ^ (c >>> 8);
    return (c ^ -1) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, 'latin1');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
    return Buffer.concat([head, data, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(side, 0);
  ihdr.writeUInt32BE(side, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  // Deflate all scanlines (filter byte + zero pixels) as one IDAT.
  const deflate = createDeflate({ level: 9 });
  const compressed: Buffer[] = [];
  deflate.on('data', (data: Buffer) => compressed.push(data));
  const row = Buffer.alloc(side + 1);
  const rows = (async function* () {
    for (let y = 0; y < side; y++) yield row;
  })();
  await pipeline(rows, deflate);
  const png = Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', Buffer.concat(compressed)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
  await pipeline(
    (async function* () {
      yield png;
    })(),
    createWriteStream(file),
  );
  return file;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export interface TextLine {
  text: string;
  x?: number;
  /** Put this text on the previous line's baseline (a second column). */
  sameLine?: boolean;
  size?: number;
  bold?: boolean;
}

/**
 * A clean document image with the given text lines (DejaVu Sans), for OCR tests with
 * known content. Lines are 1.8 × font size apart; `x` positions a column.
 */
export async function textImage(
  lines: Array<string | TextLine>,
  options: { width?: number; size?: number } = {},
): Promise<Buffer> {
  const width = options.width ?? 1400;
  const base = options.size ?? 34;
  let y = base * 2;
  const items: string[] = [];
  for (const entry of lines) {
    const line = typeof entry === 'string' ? { text: entry } : entry;
    const size = line.size ?? base;
    if (!line.sameLine) y += size * 1.8;
    items.push(
      `<text x="${line.x ?? 60}" y="${y}" font-family="DejaVu Sans" font-size="${size}"${line.bold ? ' font-weight="bold"' : ''}>${escapeXml(line.text)}</text>`,
    );
  }
  const height = Math.ceil(y + base * 3);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="white"/>${items.join('')}</svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}
