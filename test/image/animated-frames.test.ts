/**
 * No frame dropped in silence, in every multi-frame format sharp opens (issue 11 §4): an
 * animated GIF, WebP or PNG (APNG, which libvips reads as a still image) gives a record
 * with `image.frames` (the count) and `image.frame` 1 (the one read). A still image has
 * neither. Real images made with sharp (the APNG assembled chunk by chunk from two PNGs),
 * an OpenAI-compatible server on loopback.
 */
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePattern } from '../../src/patterns/index.js';
import { createPipeline } from '../../src/pipeline/create-pipeline.js';
import { closeAllAgents } from '../../src/providers/http.js';
import { OpenAIProvider } from '../../src/providers/openai.js';
import { type CompatibleServer, startCompatibleServer } from '../support/openai-compatible.js';

const pattern = parsePattern(
  {
    name: 'simple',
    format: 'json',
    instructions: 'Vendor and total.',
    json_schema: { vendor_name: 'string', total: 'number' },
  },
  'frames',
);
let server: CompatibleServer;
let frames: Buffer[];

beforeAll(async () => {
  server = await startCompatibleServer('{"vendor_name":"ACME","total":1}');
  frames = await Promise.all(
    ['#ff0000', '#0000ff', '#00ff00'].map((background) =>
      sharp({ create: { width: 64, height: 48, channels: 3, background } })
        .png()
        .toBuffer(),
    ),
  );
});
afterAll(async () => {
  await server.close();
  await closeAllAgents();
});

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/** The chunks of a PNG: [type, data]. */
function chunks(png: Buffer): Array<[string, Buffer]> {
  const out: Array<[string, Buffer]> = [];
  for (let at = 8; at + 8 <= png.length; ) {
    const length = png.readUInt32BE(at);
    out.push([png.toString('latin1', at + 4, at + 8), png.subarray(at + 8, at + 8 + length)]);
    at += 12 + length;
  }
  return out;
}

/** An APNG of same-size PNG frames (acTL, then fcTL + IDAT, then fcTL + fdAT per frame). */
function apng(pngs: Buffer[]): Buffer {
  const first = chunks(pngs[0]!);
  const ihdr = first.find(([t]) => t === 'IHDR')![1];
  let seq = 0;
  const fctl = () => {
    const data = Buffer.alloc(26);
    data.writeUInt32BE(seq++, 0);
    ihdr.copy(data, 4, 0, 8); // width, height
    data.writeUInt16BE(1, 20);
    data.writeUInt16BE(10, 22);
    return chunk('fcTL', data);
  };
  const actl = Buffer.alloc(8);
  actl.writeUInt32BE(pngs.length, 0);
  const parts = [pngs[0]!.subarray(0, 8), chunk('IHDR', ihdr), chunk('acTL', actl)];
  parts.push(fctl(), ...first.filter(([t]) => t === 'IDAT').map(([, d]) => chunk('IDAT', d)));
  for (const png of pngs.slice(1)) {
    parts.push(fctl());
    const data = Buffer.concat(
      chunks(png)
        .filter(([t]) => t === 'IDAT')
        .map(([, d]) => d),
    );
    const head = Buffer.alloc(4);
    head.writeUInt32BE(seq++, 0);
    parts.push(chunk('fdAT', Buffer.concat([head, data])));
  }
  parts.push(chunk('IEND', Buffer.alloc(0)));
  return Buffer.concat(parts);
}

async function recordOf(bytes: Buffer, name: string) {
  const provider = new OpenAIProvider({ apiKey: 'sk-test-0000', baseUrl: server.baseUrl });
  const pipeline = await createPipeline({ pattern, provider, model: 'gpt-4.1-mini', cache: { spec: 'off' } });
  const record = await pipeline.process({ bytes, name });
  await pipeline.close();
  await provider.close();
  return record;
}

describe('every multi-frame format says a frame was chosen', () => {
  it('an APNG with 3 frames: sharp reads it as one still image, the record says frames 3, frame 1', async () => {
    const animated = apng(frames);
    const meta = await sharp(animated).metadata();
    expect(meta.format).toBe('png');
    expect(meta.pages ?? 1).toBe(1); // libvips does not see the frames: the chunk is read
    const record = await recordOf(animated, 'spinner.png');
    expect(record.status).toBe('ok');
    expect(record.image).toMatchObject({ frames: 3, frame: 1 });
  });

  it.each(['gif', 'webp'] as const)('an animated %s with 3 frames: frames 3, frame 1', async (format) => {
    const animated = await sharp(frames, { join: { animated: true } })
      .toFormat(format)
      .toBuffer();
    const record = await recordOf(animated, `sale.${format}`);
    expect(record.image).toMatchObject({ frames: 3, frame: 1 });
  });

  it.each(['png', 'gif', 'webp'] as const)('a still %s has no frame fields', async (format) => {
    const still = await sharp(frames[0]).toFormat(format).toBuffer();
    const record = await recordOf(still, `still.${format}`);
    expect(record.status).toBe('ok');
    expect(record.image).not.toHaveProperty('frames');
  });
});
