/**
 * Synthetic tesseract lines for the local engine's reader tests: words and boxes as
 * tesseract gives them for left-aligned text. Units are pixels.
 */
import type { OcrLine, OcrPage } from '../../src/providers/local/ocr-engine.js';

export interface LineOptions {
  /** Left edge of the first word (60). */
  x?: number;
  /** Letter height (24); a letter is half as wide. */
  size?: number;
  /** Distance between rows' tops (40). */
  pitch?: number;
  /** Every word's OCR confidence, 0–1 (0.95). */
  confidence?: number;
}

/**
 * One line of text at row `row`: words 12 px a character at the default size, a space
 * 12 px; a double space is a column gap (200 px), as between a description and its amounts.
 */
export function ocrLine(text: string, row: number, options: LineOptions = {}): OcrLine {
  const { x = 60, size = 24, pitch = 40, confidence = 0.95 } = options;
  let left = x;
  const y0 = 100 + row * pitch;
  const words = text
    .split(/( {2})| /)
    .filter((w) => w !== undefined && w !== '')
    .flatMap((word) => {
      if (word === '  ') {
        left += 200;
        return [];
      }
      const box = { x0: left, x1: left + word.length * size * 0.5, y0, y1: y0 + size };
      left = box.x1 + 12;
      return [{ text: word, confidence, box }];
    });
  return { text, words, box: { x0: x, x1: left - 12, y0, y1: y0 + size }, block: 0 };
}

/** A 1200 × 1600 page of `lines` (empty lines left out), each word at OCR confidence 0.95. */
export function ocrPage(lines: readonly OcrLine[]): OcrPage {
  const placed = lines.filter((l) => l.text !== '');
  return {
    text: placed.map((l) => l.text).join('\n'),
    lines: placed,
    confidence: 0.95,
    width: 1200,
    height: 1600,
  };
}
