/**
 * The local engine starts OCR workers as pages in flight need them: each tesseract worker
 * costs ~1.5 s of CPU to start (language data gunzipped and loaded), so a run of one image
 * (most CLI runs in tests, a user's quick try) starts one, not one per core, and pages read
 * at once still get a worker each, up to the limit. Real tesseract on small text images.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { OcrEngine } from '../../src/providers/local/ocr-engine.js';
import { textImage } from '../support/images.js';

let engine: OcrEngine | undefined;
afterEach(async () => {
  await engine?.close();
  engine = undefined;
});

const page = (text: string) => textImage([text], { width: 420, size: 30 });

describe('OCR workers', () => {
  it('one page at a time is read by one worker, whatever the limit', async () => {
    engine = new OcrEngine({ workers: 3 });
    expect(engine.startedWorkers).toBe(0);
    const first = await engine.recognize(await page('TOTAL 12.50'), 'first');
    expect(first.text).toMatch(/TOTAL/);
    const second = await engine.recognize(await page('CHANGE 3.00'), 'second');
    expect(second.text).toMatch(/CHANGE/);
    expect(engine.startedWorkers).toBe(1);
  });

  it('pages read at once get a worker each, up to the limit; all are read', async () => {
    engine = new OcrEngine({ workers: 2 });
    const images = await Promise.all(['TOTAL 1', 'TOTAL 2', 'TOTAL 3'].map(page));
    const pages = await Promise.all(images.map((image, i) => engine!.recognize(image, `page ${i}`)));
    expect(pages.map((p) => p.text)).toEqual([
      expect.stringMatching(/TOTAL 1/),
      expect.stringMatching(/TOTAL 2/),
      expect.stringMatching(/TOTAL 3/),
    ]);
    expect(engine.startedWorkers).toBe(2);
  });
});
