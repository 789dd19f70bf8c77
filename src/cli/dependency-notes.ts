/**
 * What tesseract printed during a run (`Image too small to scale!! (2x36 vs min width of 3)`,
 * `Estimating resolution as 157`, `Error in boxClipToRectangle`…): the OCR worker captures
 * it (providers/local/ocr-worker.ts) so it never writes into the progress line; this tally
 * keeps each distinct line once, with its count, for the summary to show at the end.
 */
import { type OcrDiagnostic, OcrDiagnostics } from '../providers/local/ocr-diagnostics.js';
import type { Summary } from '../runs/summary.js';

/** Distinct lines kept for the summary. */
const KEPT_LINES = 5;

export class DependencyNotes {
  private count = 0;
  private readonly lines = new Map<string, number>();
  private readonly listener: OcrDiagnostics;

  constructor() {
    this.listener = new OcrDiagnostics((line) => this.seen(line));
  }

  private seen(line: OcrDiagnostic): void {
    const text = line.text.trim();
    if (!text) return;
    this.count++;
    // Numbers vary from image to image (sizes, dpi): one entry per kind of line.
    const kind = text.replace(/\d+(\.\d+)?/g, 'N').slice(0, 120);
    if (this.lines.has(kind) || this.lines.size < KEPT_LINES)
      this.lines.set(kind, (this.lines.get(kind) ?? 0) + 1);
  }

  /** The tally for the summary, undefined when nothing was printed. */
  toJSON(): Summary['dependency_notes'] {
    if (this.count === 0) return undefined;
    return { count: this.count, lines: [...this.lines].map(([text, count]) => ({ text, count })) };
  }

  close(): void {
    this.listener.close();
  }
}
