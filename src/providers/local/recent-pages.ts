/**
 * The pages the local engine read last, by the sha256 of the exact bytes it read. Local
 * triage reads an image at the size extraction reads it at (model-choice.ts), so when the
 * same engine then extracts from it, the triage's reading is the extraction's too: OCR runs
 * once per relevant image instead of twice. Keyed by the bytes read, never by the input: a
 * different size, crop or encoding of the same image is read again. Only finished readings
 * are kept (a failed or aborted one is not), and only the last `capacity` of them: triage
 * and extraction of one image follow each other with at most the run's concurrency of
 * other images between them.
 */
import { createHash } from 'node:crypto';
import type { OcrPage } from './ocr-engine.js';

export class RecentPages {
  private readonly pages = new Map<string, OcrPage>();

  constructor(private readonly capacity = 32) {}

  /** The page read from `image` (kept, or read now by `read` and kept). */
  async read(image: Buffer, read: () => Promise<OcrPage>): Promise<OcrPage> {
    const key = createHash('sha256').update(image).digest('hex');
    const kept = this.pages.get(key);
    if (kept) {
      // Most recently used last: the oldest is the one dropped.
      this.pages.delete(key);
      this.pages.set(key, kept);
      return kept;
    }
    const page = await read();
    this.pages.set(key, page);
    if (this.pages.size > this.capacity) this.pages.delete(this.pages.keys().next().value!);
    return page;
  }

  /** Readings kept now. */
  get size(): number {
    return this.pages.size;
  }

  clear(): void {
    this.pages.clear();
  }
}
