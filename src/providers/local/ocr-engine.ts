/**
 * The offline OCR engine: tesseract.js (LSTM, English) with the traineddata shipped in
 * @tesseract.js-data/eng. Nothing is ever downloaded and nothing is cached to disk
 * (`cacheMethod: 'none'`). One worker is created on first use, and more (up to one per
 * core) only while more pages are read at once than there are workers; they are reused for
 * every image, and a tesseract scheduler hands each image to the next idle worker.
 */

import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import Tesseract from 'tesseract.js';
import { VisionpipeError } from '../../errors.js';
import { bandForOcr, lightTextBands } from './light-bands.js';
import { OcrDiagnostics } from './ocr-diagnostics.js';
import { ocrWorkerPath } from './ocr-worker.js';

export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export interface OcrWord {
  text: string;
  /** 0–1. */
  confidence: number;
  box: Box;
}

export interface OcrLine {
  text: string;
  words: OcrWord[];
  box: Box;
  /** Index of the tesseract block (text column) the line belongs to. */
  block: number;
}

export interface OcrPage {
  text: string;
  lines: OcrLine[];
  /** Mean word confidence 0–1. */
  confidence: number;
  width: number;
  height: number;
  /**
   * Pages stacked into this one (stack-pages.ts): the y where each page after the first
   * starts. A table that runs on over a page break without its header repeated is read on
   * with the first page's columns (table-extractor.ts).
   */
  pageTops?: number[];
  /**
   * Lines read from light text on coloured bands (light-bands.ts: a header in white on
   * green), which the page's own reading loses; kept apart from `lines` (the layout does not
   * use them), as evidence for page-wide fields such as the currency. Boxes are in the
   * page's pixels.
   */
  bands?: OcrLine[];
}

const require = createRequire(import.meta.url);
const ENGLISH = require('@tesseract.js-data/eng') as { langPath: string; gzip: boolean };

/** A package's version, from its package.json next to where Node resolves it. */
const versionOf = (name: string) => (require(`${name}/package.json`) as { version: string }).version;

/**
 * How tesseract is asked to read: every setting here changes what it reads, so the same
 * object configures the workers and jobs and goes into `OcrEngine.answerKey`.
 */
const OCR_SETTINGS = {
  language: 'eng',
  oem: Tesseract.OEM.LSTM_ONLY,
  // rotateAuto deskews photographed pages, so rows stay rows for the layout analysis.
  rotateAuto: true,
} as const;

/**
 * What the local engine needs from an OCR engine: words with boxes and confidences.
 * OcrEngine (tesseract.js) is the one shipped; bench/local-engine.ts plugs PaddleOCR in
 * through the same seam to compare them.
 */
export interface OcrBackend {
  /** Names the engine and its model in records (part of cache keys). */
  readonly model: string;
  /**
   * Everything besides `model` that changes what the engine reads (its version, its
   * language data, its settings), as a stable string: part of the local provider's answer
   * key. Absent: `model` alone tells readings apart.
   */
  readonly answerKey?: string;
  recognize(image: Buffer, label: string, signal?: AbortSignal): Promise<OcrPage>;
  close(): Promise<void>;
}

export interface OcrEngineOptions {
  /** Workers at most (one per core by default), started as pages in flight need them. */
  workers?: number;
}

export class OcrEngine implements OcrBackend {
  readonly model = 'tesseract-eng';
  /** tesseract.js and its core's versions, the language data read and the OCR settings. */
  readonly answerKey = JSON.stringify({
    tesseract: versionOf('tesseract.js'),
    core: versionOf('tesseract.js-core'),
    languageData: [versionOf('@tesseract.js-data/eng'), path.basename(ENGLISH.langPath)],
    ...OCR_SETTINGS,
  });
  private scheduler: Tesseract.Scheduler | undefined;
  private starting: Promise<Tesseract.Scheduler> | undefined;
  private readonly workerCount: number;
  private diagnostics: OcrDiagnostics | undefined;
  /** Workers asked for so far (created or being created), at most `workerCount`. */
  private spawned = 0;
  /** Workers being created after the first: close() waits for them, then ends them. */
  private readonly growing = new Set<Promise<Tesseract.Worker | undefined>>();
  /** Pages being read now (recognize calls in flight). */
  private reading = 0;

  constructor(options: OcrEngineOptions = {}) {
    this.workerCount = Math.max(1, options.workers ?? os.availableParallelism());
  }

  get workers(): number {
    return this.workerCount;
  }

  /** Workers started so far (being created included): 1 until pages are read at once. */
  get startedWorkers(): number {
    return this.spawned;
  }

  /** One tesseract worker with the language data loaded: ~1.5 s of CPU (gunzip and init). */
  private async createWorker(): Promise<Tesseract.Worker> {
    const worker = await Tesseract.createWorker(OCR_SETTINGS.language, OCR_SETTINGS.oem, {
      langPath: ENGLISH.langPath,
      gzip: ENGLISH.gzip,
      cacheMethod: 'none',
      logger: () => {},
      errorHandler: () => {},
      // Our wrapper of tesseract's worker script: its console output never reaches the terminal.
      workerPath: ocrWorkerPath(),
    });
    // tesseract prints diagnostics ("Detected 33 diacritics") to stdout: not ours to show.
    await worker.setParameters({ debug_file: '/dev/null' });
    return worker;
  }

  /**
   * The scheduler, with one worker to begin with. More are added (up to `workerCount`) only
   * while more pages are being read at once than there are workers (`grow`): a run of one
   * image, or one page at a time, starts one worker, not one per core.
   */
  private start(): Promise<Tesseract.Scheduler> {
    this.starting ??= (async () => {
      this.diagnostics ??= new OcrDiagnostics();
      const scheduler = Tesseract.createScheduler();
      this.spawned = 1;
      scheduler.addWorker(await this.createWorker());
      this.scheduler = scheduler;
      return scheduler;
    })();
    return this.starting;
  }

  /** Adds a worker when more pages are in flight than workers were asked for. */
  private grow(scheduler: Tesseract.Scheduler): void {
    if (this.reading <= this.spawned || this.spawned >= this.workerCount) return;
    this.spawned++;
    const adding: Promise<Tesseract.Worker | undefined> = this.createWorker().then(
      (worker) => {
        if (this.scheduler === scheduler) scheduler.addWorker(worker);
        else void worker.terminate(); // closed meanwhile
        return worker;
      },
      // The workers there are keep reading; a failure of the first one is recognize's.
      () => undefined,
    );
    this.growing.add(adding);
    void adding.finally(() => this.growing.delete(adding));
  }

  /**
   * Recognises text with word boxes and confidences. Box coordinates refer to the
   * image tesseract saw, which may be upscaled (see `prepareForOcr`).
   */
  async recognize(image: Buffer, label: string, signal?: AbortSignal): Promise<OcrPage> {
    signal?.throwIfAborted();
    this.reading++;
    try {
      return await this.read(image, label, signal);
    } finally {
      this.reading--;
    }
  }

  private async read(image: Buffer, label: string, signal?: AbortSignal): Promise<OcrPage> {
    const scheduler = await this.start();
    this.grow(scheduler);
    let result: Tesseract.RecognizeResult;
    let bands: OcrLine[] = [];
    try {
      const prepared = await prepareForOcr(image);
      const job = scheduler.addJob(
        'recognize',
        prepared,
        { rotateAuto: OCR_SETTINGS.rotateAuto },
        { text: true, blocks: true },
      );
      result = signal ? await raceAbort(job, signal) : await job;
      bands = await this.readBands(scheduler, prepared, signal);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw new VisionpipeError(
        'OCR_FAILED',
        `${label}: OCR failed (${(error as Error)?.message ?? error})`,
        {
          input: label,
          cause: error,
        },
      );
    }
    const page = toPage(result.data);
    return bands.length > 0 ? { ...page, bands } : page;
  }

  /** The lines of the light-text bands of `prepared` (light-bands.ts), in its pixels. */
  private async readBands(
    scheduler: Tesseract.Scheduler,
    prepared: Buffer,
    signal: AbortSignal | undefined,
  ): Promise<OcrLine[]> {
    const lines: OcrLine[] = [];
    for (const band of await lightTextBands(prepared)) {
      const job = scheduler.addJob(
        'recognize',
        await bandForOcr(prepared, band),
        {},
        { text: true, blocks: true },
      );
      const read = toPage((signal ? await raceAbort(job, signal) : await job).data);
      const shift = (box: Box): Box => ({
        x0: box.x0 + band.left,
        x1: box.x1 + band.left,
        y0: box.y0 + band.top,
        y1: box.y1 + band.top,
      });
      for (const line of read.lines)
        lines.push({
          ...line,
          box: shift(line.box),
          words: line.words.map((w) => ({ ...w, box: shift(w.box) })),
        });
    }
    return lines;
  }

  async close(): Promise<void> {
    const scheduler =
      this.scheduler ?? (this.starting ? await this.starting.catch(() => undefined) : undefined);
    this.scheduler = undefined;
    this.starting = undefined;
    this.spawned = 0;
    // A worker still starting is ended by grow() once it is ready (the scheduler is gone).
    await Promise.all(this.growing);
    this.diagnostics?.close();
    this.diagnostics = undefined;
    await scheduler?.terminate();
  }
}

/** Long edge below which text is usually too small for tesseract's LSTM (it wants ~20–30 px letters). */
const OCR_MIN_LONG_EDGE = 2000;
const OCR_MAX_UPSCALE = 2.5;

/**
 * Greyscale, and small images upscaled towards a 2000 px long edge: on a 736×952
 * statement, 2× upscaling turns unreadable OCR into clean lines. This is the local
 * engine's own need; providers still receive the image at its profile's size.
 */
export async function prepareForOcr(image: Buffer): Promise<Buffer> {
  const { width = 0, height = 0 } = await sharp(image).metadata();
  const long = Math.max(width, height);
  const scale =
    long > 0 && long < OCR_MIN_LONG_EDGE ? Math.min(OCR_MAX_UPSCALE, OCR_MIN_LONG_EDGE / long) : 1;
  let pipeline = sharp(image).greyscale();
  if (scale > 1)
    pipeline = pipeline.resize(Math.round(width * scale), Math.round(height * scale), { kernel: 'lanczos3' });
  return pipeline.png({ compressionLevel: 1 }).toBuffer();
}

/** tesseract jobs cannot be cancelled; an abort stops waiting for the result. */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

function toPage(data: Tesseract.Page): OcrPage {
  const lines: OcrLine[] = [];
  let confidenceSum = 0;
  let wordCount = 0;
  let width = 0;
  let height = 0;
  (data.blocks ?? []).forEach((block, blockIndex) => {
    width = Math.max(width, block.bbox.x1);
    height = Math.max(height, block.bbox.y1);
    for (const paragraph of block.paragraphs) {
      for (const line of paragraph.lines) {
        const words = line.words
          .filter((word) => word.text.trim() !== '')
          .map((word) => ({
            text: word.text.trim(),
            confidence: word.confidence / 100,
            box: { ...word.bbox },
          }));
        if (words.length === 0) continue;
        for (const word of words) {
          confidenceSum += word.confidence;
          wordCount++;
        }
        lines.push({
          text: words.map((w) => w.text).join(' '),
          words,
          box: { ...line.bbox },
          block: blockIndex,
        });
      }
    }
  });
  return { text: data.text, lines, confidence: wordCount ? confidenceSum / wordCount : 0, width, height };
}
