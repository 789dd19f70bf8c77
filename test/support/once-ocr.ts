/**
 * Real tesseract (OcrEngine) with its pages kept by image sha256, for test files that read
 * the same images with several patterns: the OCR of an image does not depend on the
 * pattern, so each image is read once per file and every pattern's extraction, relevance
 * and record still run on that real page.
 */
import { createHash } from 'node:crypto';
import { type OcrBackend, OcrEngine, type OcrPage } from '../../src/providers/local/ocr-engine.js';

export class OnceOcr implements OcrBackend {
  private readonly engine: OcrEngine;
  private readonly pages = new Map<string, Promise<OcrPage>>();
  readonly model: string;
  readonly answerKey: string;

  constructor(workers = 2) {
    this.engine = new OcrEngine({ workers });
    this.model = this.engine.model;
    this.answerKey = this.engine.answerKey;
  }

  /** Images read by tesseract so far (each once). */
  get reads(): number {
    return this.pages.size;
  }

  recognize(image: Buffer, label: string, signal?: AbortSignal): Promise<OcrPage> {
    const key = createHash('sha256').update(image).digest('hex');
    let page = this.pages.get(key);
    if (!page) {
      page = this.engine.recognize(image, label, signal);
      this.pages.set(key, page);
    }
    return page;
  }

  close(): Promise<void> {
    return this.engine.close();
  }
}
