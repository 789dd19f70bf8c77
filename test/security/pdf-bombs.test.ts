/**
 * Decompression bombs inside PDFs (issue 12): a page whose MediaBox is 200 000 pt square, and
 * an image XObject whose small Flate stream declares (and inflates to) hundreds of megapixels,
 * on the page or inside a form XObject. Each is refused with PIXEL_LIMIT naming the input and
 * the page before PDFium allocates the bitmap or decodes the image; before this guard the page
 * failed with an untyped "Failed to allocate memory for bitmap" (PDFium's wasm memory stops at
 * 2 GiB) or spent 6-20 s of CPU inflating the image. The PDFs are written here with pdf-lib.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { openDocument } from '../../src/documents/document.js';
import { imagePdf, pagePdf } from '../support/pdf-bombs.js';

const PROFILE = { maxLongEdge: 768 };
const NO_PROFILE = { maxLongEdge: Number.POSITIVE_INFINITY };

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
