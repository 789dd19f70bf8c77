/**
 * An OCR backend that keeps tesseract's pages on disk by image sha256, for benches that
 * are rerun while only the field readers change (`--ocr-cache DIR`): the second run reads
 * the very words the first one did, so a difference between two runs is the readers'.
 * A page missing from DIR is read by tesseract and written there.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type OcrBackend, OcrEngine, type OcrPage } from '../src/providers/local/ocr-engine.js';

export class CachedOcr implements OcrBackend {
  readonly model: string;
  private readonly engine: OcrEngine;

  /** `dir`: where pages are kept as `<sha256>.json`; `workers`: tesseract workers for misses. */
  constructor(
    private readonly dir: string,
    workers: number,
  ) {
    this.engine = new OcrEngine({ workers });
    this.model = this.engine.model;
  }

  async recognize(image: Buffer, label: string, signal?: AbortSignal): Promise<OcrPage> {
    const file = path.join(this.dir, `${createHash('sha256').update(image).digest('hex')}.json`);
    try {
      return JSON.parse(await readFile(file, 'utf8')) as OcrPage;
    } catch {
      const page = await this.engine.recognize(image, label, signal);
      await mkdir(this.dir, { recursive: true });
      await writeFile(file, JSON.stringify(page));
      return page;
    }
  }

  close(): Promise<void> {
    return this.engine.close();
  }
}
