/**
 * The pages of one document read as one tall page: each page's lines and words are moved
 * down by the heights of the pages above it (plus a gap the layout reader sees as a
 * break), so a label on page 1 and a total on page 2 are read as a person reads them,
 * top to bottom, and tables never join across pages.
 */
import type { Box, OcrPage } from './ocr-engine.js';

/** Pixels between stacked pages: larger than any line gap, so rows never merge across pages. */
const PAGE_GAP = 200;

function shift(box: Box, dy: number): Box {
  return { x0: box.x0, x1: box.x1, y0: box.y0 + dy, y1: box.y1 + dy };
}

/** One OcrPage of `pages` stacked top to bottom; blocks are renumbered so pages never share one. */
export function stackPages(pages: readonly OcrPage[]): OcrPage {
  if (pages.length === 1) return pages[0]!;
  let offset = 0;
  let blockBase = 0;
  const lines: OcrPage['lines'] = [];
  let words = 0;
  let weighted = 0;
  const pageTops: number[] = [];
  for (const [index, page] of pages.entries()) {
    if (index > 0) pageTops.push(offset);
    let maxBlock = -1;
    for (const line of page.lines) {
      lines.push({
        text: line.text,
        block: blockBase + line.block,
        box: shift(line.box, offset),
        words: line.words.map((word) => ({ ...word, box: shift(word.box, offset) })),
      });
      maxBlock = Math.max(maxBlock, line.block);
      words += line.words.length;
      weighted += line.words.reduce((sum, word) => sum + word.confidence, 0);
    }
    blockBase += maxBlock + 1;
    offset += page.height + PAGE_GAP;
  }
  return {
    text: pages.map((page) => page.text).join('\n'),
    lines,
    confidence: words === 0 ? 0 : weighted / words,
    width: Math.max(...pages.map((page) => page.width)),
    height: offset - PAGE_GAP,
    pageTops,
  };
}
