/**
 * Decompression bombs inside PDFs (issue 12): a page whose MediaBox is 200 000 pt square, and
 * an image XObject whose small Flate stream declares (and inflates to) hundreds of megapixels,
 * on the page or inside a form XObject. Each is refused with PIXEL_LIMIT naming the input and
 * the page before PDFium allocates the bitmap or decodes the image; before this guard the page
 * failed with an untyped "Failed to allocate memory for bitmap" (PDFium's wasm memory stops at
 * 2 GiB) or spent 6-20 s of CPU inflating the image. The PDFs are written here with pdf-lib.
 */
import { once } from 'node:events';
import zlib from 'node:zlib';
import { PDFDocument, PDFName, type PDFRef, rgb } from 'pdf-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import { openDocument } from '../../src/documents/document.js';

const PROFILE = { maxLongEdge: 768 };
const NO_PROFILE = { maxLongEdge: Number.POSITIVE_INFINITY };

/** `bytes` zeros, Flate-compressed without ever holding them (about 1 000:1). */
async function deflatedZeros(bytes: number): Promise<Buffer> {
  const deflate = zlib.createDeflate({ level: 9 });
  const out: Buffer[] = [];
  deflate.on('data', (chunk: Buffer) => out.push(chunk));
  const chunk = Buffer.alloc(1 << 20);
  for (let left = bytes; left > 0; left -= chunk.length) {
    if (!deflate.write(chunk.subarray(0, Math.min(left, chunk.length)))) await once(deflate, 'drain');
  }
  deflate.end();
  await once(deflate, 'end');
  return Buffer.concat(out);
}

/**
 * A Letter page drawing one gray image XObject that declares `side`×`side` pixels; its Flate
 * stream holds `dataSide`² zero bytes. `inForm` puts the image inside a form XObject.
 */
async function imagePdf(side: number, dataSide = side, inForm = false): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const page = doc.addPage([612, 792]);
  const image = doc.context.register(
    doc.context.stream(await deflatedZeros(dataSide * dataSide), {
      Type: 'XObject',
      Subtype: 'Image',
      Width: side,
      Height: side,
      ColorSpace: 'DeviceGray',
      BitsPerComponent: 8,
      Filter: 'FlateDecode',
    }),
  );
  let drawn: PDFRef = image;
  if (inForm) {
    const resources = doc.context.obj({ XObject: { Im0: image } });
    drawn = doc.context.register(
      doc.context.stream('q 500 0 0 500 0 0 cm /Im0 Do Q', {
        Type: 'XObject',
        Subtype: 'Form',
        BBox: [0, 0, 612, 792],
        Resources: resources,
      }),
    );
  }
  page.node.setXObject(PDFName.of('X0'), drawn);
  const content = inForm ? 'q 1 0 0 1 50 150 cm /X0 Do Q' : 'q 500 0 0 500 50 150 cm /X0 Do Q';
  page.node.set(PDFName.of('Contents'), doc.context.register(doc.context.stream(content)));
  return Buffer.from(await doc.save());
}

async function pagePdf(width: number, height: number): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const page = doc.addPage([width, height]);
  page.drawRectangle({ x: 10, y: 10, width: width / 2, height: height / 2, color: rgb(0, 0, 0) });
  return Buffer.from(await doc.save());
}

async function renderError(bytes: Buffer, label: string, options: Parameters<typeof openDocument>[2]) {
  const document = await openDocument(bytes, label, options);
  try {
    return await document.render(1).then(
      () => undefined,
      (error: unknown) => error as { code?: string; message?: string; input?: string },
    );
  } finally {
    document.close();
  }
}

describe('PDF pages and images over the pixel limit are refused before PDFium touches them', () => {
  let bomb: Buffer;
  beforeAll(async () => {
    // 17 000² = 289 MP, over the default limitInputPixels (268 MP): 289 MB inflated from ~290 KB.
    bomb = await imagePdf(17_000);
  });

  it('a Flate image bomb on the page: PIXEL_LIMIT naming the input, the page and the image size', async () => {
    expect(bomb.length).toBeLessThan(1_000_000);
    for (const limits of [PROFILE, NO_PROFILE]) {
      const error = await renderError(bomb, 'bomb.pdf', { limits });
      expect(error).toMatchObject({
        code: 'PIXEL_LIMIT',
        input: 'bomb.pdf',
        message: 'bomb.pdf: page 1 holds a 17000×17000 image, over the limitInputPixels of 268.4 MP',
      });
    }
  });

  it('an image declaring 60 000 × 60 000 pixels over a tiny stream, and one inside a form XObject', async () => {
    const declared = await imagePdf(60_000, 100);
    expect(await renderError(declared, 'declared.pdf', { limits: PROFILE })).toMatchObject({
      code: 'PIXEL_LIMIT',
      message: 'declared.pdf: page 1 holds a 60000×60000 image, over the limitInputPixels of 268.4 MP',
    });
    const inForm = await imagePdf(2_000, 100, true);
    expect(
      await renderError(inForm, 'form.pdf', { limits: PROFILE, limitInputPixels: 1_000_000 }),
    ).toMatchObject({
      code: 'PIXEL_LIMIT',
      message: 'form.pdf: page 1 holds a 2000×2000 image, over the limitInputPixels of 1.0 MP',
    });
  });

  it('an image within the limit renders (control): the check reads the declared size, not the page', async () => {
    const fine = await imagePdf(1_000, 1_000);
    const document = await openDocument(fine, 'fine.pdf', { limits: PROFILE, limitInputPixels: 1_000_000 });
    const page = await document.render(1);
    document.close();
    expect(page).toMatchObject({ width: 593, height: 768 });
    const justOver = await imagePdf(1_001, 1_000);
    expect(
      await renderError(justOver, 'over.pdf', { limits: PROFILE, limitInputPixels: 1_000_000 }),
    ).toMatchObject({ code: 'PIXEL_LIMIT' });
  });

  it('a 200 000 pt square page: drawn at the profile size, refused when nothing bounds it', async () => {
    const huge = await pagePdf(200_000, 200_000);
    const bounded = await openDocument(huge, 'huge.pdf', { limits: PROFILE });
    expect(await bounded.render(1)).toMatchObject({ width: 768, height: 768 });
    bounded.close();
    expect(await renderError(huge, 'huge.pdf', { limits: NO_PROFILE })).toMatchObject({
      code: 'PIXEL_LIMIT',
      input: 'huge.pdf',
      message: 'huge.pdf: page 1 would render at 833333×833333, over the limitInputPixels of 268.4 MP',
    });
  });
});
