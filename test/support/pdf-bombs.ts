/**
 * PDF decompression bombs written with pdf-lib (test/security/pdf-bombs*.test.ts): an image
 * XObject declaring more pixels than its stream holds, and pages of any size.
 */
import { once } from 'node:events';
import zlib from 'node:zlib';
import { PDFDocument, PDFName, type PDFRef, rgb } from 'pdf-lib';

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
export async function imagePdf(side: number, dataSide = side, inForm = false): Promise<Buffer> {
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

/** A `width`×`height` pt page with one black rectangle (a page-size bomb when huge). */
export async function pagePdf(width: number, height: number): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const page = doc.addPage([width, height]);
  page.drawRectangle({ x: 10, y: 10, width: width / 2, height: height / 2, color: rgb(0, 0, 0) });
  return Buffer.from(await doc.save());
}
