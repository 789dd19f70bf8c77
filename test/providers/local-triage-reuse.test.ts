/**
 * Local triage reads an image at the size local extraction reads it at, and the local
 * provider keeps that reading for the extraction of the same bytes (recent-pages.ts): with
 * `--triage local` on the local engine, tesseract reads each relevant image once, not twice,
 * and the record is the one a run without triage writes. Real tesseract (counted through
 * the OcrBackend seam) on a corpus invoice of 830x1080, over local triage's former 1024 px:
 * a smaller triage size would read other bytes. Real pipeline.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPattern } from '../../src/patterns/index.js';
import { createPipeline } from '../../src/pipeline/create-pipeline.js';
import { type OcrBackend, OcrEngine, type OcrPage } from '../../src/providers/local/ocr-engine.js';
import { LocalProvider } from '../../src/providers/local.js';
import type { ProviderImage } from '../../src/providers/spec.js';
import { ROOT } from '../support/cli.js';
import { corpus } from '../support/images.js';

const INVOICE = path.join(ROOT, 'samples/patterns/invoice.json');

/** The real engine, counting the images it is asked to read. */
class CountingOcr implements OcrBackend {
  readonly engine = new OcrEngine({ workers: 1 });
  readonly model = this.engine.model;
  readonly answerKey = this.engine.answerKey;
  reads = 0;
  recognize(image: Buffer, label: string, signal?: AbortSignal): Promise<OcrPage> {
    this.reads++;
    return this.engine.recognize(image, label, signal);
  }
  close(): Promise<void> {
    return this.engine.close();
  }
}

const ocr = new CountingOcr();
afterAll(() => ocr.close());

describe('local triage and local extraction share one reading', () => {
  it('reads a relevant image once and writes the record a run without triage writes', async () => {
    const bytes = await readFile(corpus('invoice1.jpg'));
    const untriaged = new LocalProvider({ ocr });
    const plain = await createPipeline({ pattern: INVOICE, provider: untriaged, cache: { spec: 'off' } });
    const without = await plain.process(bytes);
    await plain.close();
    expect(ocr.reads).toBe(1);

    // A new provider: nothing kept from the run above.
    const local = new LocalProvider({ ocr });
    const pipeline = await createPipeline({
      pattern: INVOICE,
      provider: local,
      triage: { provider: local },
      cache: { spec: 'off' },
    });
    const record = await pipeline.process(bytes);
    await pipeline.close();
    expect(record.cascade.triage).toMatchObject({ relevant: true, provider: 'local' });
    expect(record.status).toBe('ok');
    expect(ocr.reads).toBe(2);
    expect(record.output).toEqual(without.output);
    expect(record.confidence).toBe(without.confidence);
  });

  it('reads other bytes of the same image again (another size is another reading)', async () => {
    const local = new LocalProvider({ ocr });
    const bytes = await readFile(corpus('car-plate3.jpg'));
    const smaller = await sharp(bytes).resize(150).jpeg().toBuffer();
    const before = ocr.reads;
    const pattern = await loadPattern(INVOICE);
    // The same input (sha256 of the original) both times: only the bytes read tell them apart.
    const image = (data: Buffer): ProviderImage => ({
      data,
      format: 'jpeg',
      width: 1,
      height: 1,
      sha256: 'same-input',
    });
    const signal = new AbortController().signal;
    const model = local.defaultModel;
    await local.ask({ image: image(bytes), question: 'q', pattern, model }, signal);
    await local.extract({ image: image(bytes), pattern, model }, signal);
    expect(ocr.reads - before).toBe(1);
    await local.extract({ image: image(smaller), pattern, model }, signal);
    expect(ocr.reads - before).toBe(2);
  });
});
