/**
 * Yes/no relevance from OCR evidence, for triage with the local engine. A local OCR
 * engine cannot understand an arbitrary question; what it can tell reliably is whether
 * an image carries readable text and whether that text contains the pattern's labels.
 * The answer is "yes" when at least one pattern label is found, or, without a pattern
 * (or at a resolution too low to read labels), when there are enough real words.
 */
import type { ObjectSchema } from '../../patterns/types.js';
import { findLabel, labelsFor } from './labels.js';
import { buildLayout } from './layout.js';
import type { OcrPage } from './ocr-engine.js';

export interface RelevanceVerdict {
  answer: boolean;
  confidence: number;
  reason: string;
  words: number;
  labelsFound: number;
  labelsTotal: number;
}

/** A word OCR is fairly sure of, with at least three letters or digits. */
function isRealWord(text: string, confidence: number): boolean {
  return confidence >= 0.6 && (text.match(/[\p{L}\p{N}]/gu)?.length ?? 0) >= 3;
}

export function judgeRelevance(
  page: OcrPage,
  schema: ObjectSchema | undefined,
  minWords = 6,
): RelevanceVerdict {
  const words = page.lines
    .flatMap((line) => line.words)
    .filter((w) => isRealWord(w.text, w.confidence)).length;
  let labelsFound = 0;
  let labelsTotal = 0;
  if (schema) {
    const layout = buildLayout(page);
    for (const [key, node] of Object.entries(schema.properties)) {
      labelsTotal++;
      const strong = labelsFor(key, node).filter((label) => label.weight >= 0.75);
      if (findLabel(layout, strong).some((match) => match.score >= 0.8)) labelsFound++;
    }
  }
  if (labelsFound > 0) {
    return {
      answer: true,
      confidence: Math.min(1, 0.6 + 0.4 * (labelsFound / Math.max(1, labelsTotal))),
      reason: `${labelsFound} of ${labelsTotal} pattern labels found`,
      words,
      labelsFound,
      labelsTotal,
    };
  }
  if (words >= minWords) {
    return {
      answer: true,
      confidence: Math.min(0.9, 0.5 + words / 100),
      reason: `${words} readable words, no pattern label`,
      words,
      labelsFound,
      labelsTotal,
    };
  }
  return {
    answer: false,
    confidence: words === 0 ? 0.9 : 0.7,
    reason: words === 0 ? 'no readable text' : `only ${words} readable words`,
    words,
    labelsFound,
    labelsTotal,
  };
}
