/**
 * A batch of `optimize`: every input is loaded, preprocessed and written under the
 * output directory inside a sliding concurrency window. One result per input, in
 * completion order; a failed input is a result with its error, never a stopped batch.
 */

import { selectPages } from '../documents/page-range.js';
import { toVisionpipeError } from '../errors.js';
import { mapWindow } from '../flow/window.js';
import type { ResolvedPreprocessOptions } from '../image/options.js';
import { preprocessImage } from '../image/preprocess.js';
import { loadSource, type SourceLimits } from '../image/source.js';
import { sourceOfItem } from '../pipeline/input-source.js';
import type { InputItem } from './inputs.js';
import { keepOriginal } from './optimize-keep.js';
import { optimizeDocument, type PageSelection } from './optimize-pages.js';
import { extensionFor, type OutputWriter } from './output-paths.js';

export interface ImageSide {
  bytes: number;
  width: number;
  height: number;
  format: string;
}

export interface OptimizeFileResult {
  input: string;
  output: string | null;
  status: 'ok' | 'error';
  error: { code: string; message: string } | null;
  before: ImageSide | null;
  after: ImageSide | null;
  /** True when the original JPEG was kept, only stripped of metadata (re-encoding was not smaller). */
  passthrough?: boolean;
  /**
   * True when the input's own bytes were written, unchanged: the requested encoding came out
   * larger than the input (optimize-keep.ts); `larger_because` says by how much and why.
   */
  kept_original?: boolean;
  larger_because?: string;
  /**
   * Documents only (PDF, multi-page TIFF, HEIC): the 1-based page this file is, and the
   * pages the document has. `before` is on the document's first written page only.
   */
  page?: number;
  pages?: number;
  /** Documents only: the page is blank by cheap pixel statistics (written all the same). */
  blank?: boolean;
  /**
   * Animated inputs only (GIF, WebP, APNG, AVIF sequence): the frames the file has, and the
   * one written (1-based, always 1). The output formats hold one image, so the others are
   * not written, and `warning` says so (printed on stderr by the command).
   */
  frames?: number;
  frame?: number;
  warning?: string;
}

/** What an animated input's result says: which frame of how many was written. */
export function frameWarning(input: string, frames: number): string {
  return `${input}: frame 1 of ${frames} written; the other ${frames - 1} frames were not (optimize writes one image per input)`;
}

export interface OptimizeRunOptions {
  writer: OutputWriter;
  preprocess: ResolvedPreprocessOptions;
  concurrency: number;
  sourceLimits?: SourceLimits;
  stop?: AbortSignal;
  /** Pages written from documents (`--page-range`, `--max-pages`). */
  pages?: PageSelection;
}

async function optimizeOne(item: InputItem, options: OptimizeRunOptions): Promise<OptimizeFileResult[]> {
  if (item.kind === 'error') {
    return [
      {
        input: item.label,
        output: null,
        status: 'error',
        error: item.error.toJSON(),
        before: null,
        after: null,
      },
    ];
  }
  let before: ImageSide | null = null;
  try {
    const source = await loadSource(sourceOfItem(item), options.sourceLimits);
    const target = { label: item.label, rel: item.rel, ...(item.kind === 'file' ? { path: item.path } : {}) };
    // A document is written page by page; never its first page alone.
    const pages = await optimizeDocument(source.bytes, target, {
      writer: options.writer,
      preprocess: options.preprocess,
      ...(options.pages ? { selection: options.pages } : {}),
    });
    if (pages) return pages;
    // An image is a one-page document: a range past page 1 is PAGE_OUT_OF_RANGE, as in run.
    if (options.pages?.pageRange) selectPages(options.pages.pageRange, 1, item.label);
    const prepared = await preprocessImage(source.bytes, options.preprocess, item.label);
    before = {
      bytes: prepared.original.bytes,
      width: prepared.original.width,
      height: prepared.original.height,
      format: prepared.original.format,
    };
    // Never a file larger than the input: the input itself when it can stand in (optimize-keep.ts).
    const kept = keepOriginal(source.bytes, prepared, options.preprocess.crop !== undefined);
    const written = kept ?? prepared;
    const output = await options.writer.write(target, extensionFor(written.format), written.data);
    return [
      {
        input: item.label,
        output,
        status: 'ok',
        error: null,
        before,
        after: kept
          ? { bytes: kept.data.length, width: before.width, height: before.height, format: kept.format }
          : {
              bytes: prepared.bytes,
              width: prepared.width,
              height: prepared.height,
              format: prepared.format,
            },
        passthrough: prepared.passthrough,
        ...(kept ? { kept_original: true, larger_because: kept.reason } : {}),
        // An animated input: say which frame was written, never drop the others in silence.
        ...(prepared.original.frames === undefined
          ? {}
          : {
              frames: prepared.original.frames,
              frame: 1,
              warning: frameWarning(item.label, prepared.original.frames),
            }),
      },
    ];
  } catch (error) {
    return [
      {
        input: item.label,
        output: null,
        status: 'error',
        error: toVisionpipeError(error, item.label).toJSON(),
        before,
        after: null,
      },
    ];
  }
}

/** One result per image, one per written page of a document, in completion order. */
export async function* optimizeInputs(
  items: AsyncIterable<InputItem>,
  options: OptimizeRunOptions,
): AsyncGenerator<OptimizeFileResult> {
  for await (const results of mapWindow(items, options.concurrency, (item) => optimizeOne(item, options), {
    stop: options.stop,
  }))
    yield* results;
}

/** Running totals over results, O(1) memory. */
export class OptimizeTotals {
  ok = 0;
  /** Of `ok`, the inputs written as they were (re-encoding was larger). */
  keptOriginal = 0;
  errors = 0;
  beforeBytes = 0;
  afterBytes = 0;
  readonly errorsByCode = new Map<string, number>();

  add(result: OptimizeFileResult): void {
    if (result.status === 'ok' && result.after) {
      this.ok++;
      if (result.kept_original) this.keptOriginal++;
      // A document's pages after the first carry no `before`: its bytes count once.
      this.beforeBytes += result.before?.bytes ?? 0;
      this.afterBytes += result.after.bytes;
    } else {
      this.errors++;
      const code = result.error?.code ?? 'INTERNAL';
      this.errorsByCode.set(code, (this.errorsByCode.get(code) ?? 0) + 1);
    }
  }

  /** Percent saved, 1 decimal (negative: grew); null when nothing was optimized (no "-0 %" over nothing). */
  get reductionPct(): number | null {
    if (this.ok === 0 || this.beforeBytes === 0) return null;
    return Math.round((1 - this.afterBytes / this.beforeBytes) * 1000) / 10;
  }

  toJSON() {
    return {
      before_bytes: this.beforeBytes,
      after_bytes: this.afterBytes,
      reduction_pct: this.reductionPct,
      ok: this.ok,
      kept_original: this.keptOriginal,
      errors: this.errors,
    };
  }
}
